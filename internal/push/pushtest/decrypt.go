package pushtest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// aes128gcm header (RFC 8188 §2.1): salt(16) | rs(4) | idlen(1) | keyid.
const (
	saltLen       = 16
	fixedHeader   = saltLen + 4 + 1
	uncompressedP = 65 // RFC 8291 §4: keyid is the sender's ephemeral public key
	tagLen        = 16
)

// decrypt opens a Web Push message body encrypted for the holder of ua and
// auth, following RFC 8291 §3.3–3.4 and RFC 8188, and returns the plaintext
// with its padding removed.
func decrypt(body []byte, ua *ecdh.PrivateKey, auth []byte) ([]byte, error) {
	if len(body) < fixedHeader {
		return nil, errors.New("body shorter than the aes128gcm header")
	}
	salt := body[:saltLen]
	rs := binary.BigEndian.Uint32(body[saltLen : saltLen+4])
	idlen := int(body[saltLen+4])
	if rs < tagLen+2 {
		return nil, fmt.Errorf("record size %d below the minimum of 18", rs)
	}
	if idlen != uncompressedP {
		return nil, fmt.Errorf("keyid is %d bytes; web push needs the 65-byte sender public key", idlen)
	}
	if len(body) < fixedHeader+idlen {
		return nil, errors.New("body shorter than its keyid")
	}
	asPublicBytes := body[fixedHeader : fixedHeader+idlen]
	record := body[fixedHeader+idlen:]
	// RFC 8291 §4: a push message is a single record, so no record boundary
	// may fall inside the body.
	if uint64(len(record)) > uint64(rs) {
		return nil, fmt.Errorf("ciphertext of %d bytes exceeds record size %d: web push allows one record", len(record), rs)
	}
	if len(record) < tagLen+1 {
		return nil, errors.New("record shorter than tag and padding delimiter")
	}

	asPublic, err := ecdh.P256().NewPublicKey(asPublicBytes)
	if err != nil {
		return nil, fmt.Errorf("sender public key: %w", err)
	}
	ecdhSecret, err := ua.ECDH(asPublic)
	if err != nil {
		return nil, fmt.Errorf("ecdh: %w", err)
	}
	// IKM = HKDF(salt=auth_secret, ikm=ecdh_secret,
	//            info="WebPush: info" 0x00 ua_public as_public, L=32)
	keyInfo := "WebPush: info\x00" + string(ua.PublicKey().Bytes()) + string(asPublicBytes)
	ikm, err := hkdf.Key(sha256.New, ecdhSecret, auth, keyInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("derive ikm: %w", err)
	}
	prk, err := hkdf.Extract(sha256.New, ikm, salt)
	if err != nil {
		return nil, fmt.Errorf("derive prk: %w", err)
	}
	cek, err := hkdf.Expand(sha256.New, prk, "Content-Encoding: aes128gcm\x00", 16)
	if err != nil {
		return nil, fmt.Errorf("derive content key: %w", err)
	}
	// The nonce of record 0 is the derived nonce XOR 0, i.e. itself.
	nonce, err := hkdf.Expand(sha256.New, prk, "Content-Encoding: nonce\x00", 12)
	if err != nil {
		return nil, fmt.Errorf("derive nonce: %w", err)
	}

	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("gcm: %w", err)
	}
	plain, err := gcm.Open(nil, nonce, record, nil)
	if err != nil {
		return nil, fmt.Errorf("open record: %w", err)
	}
	// Plaintext is data | delimiter | zero padding; the last (only) record's
	// delimiter is 0x02 (RFC 8188 §2).
	i := len(plain) - 1
	for i >= 0 && plain[i] == 0 {
		i--
	}
	if i < 0 {
		return nil, errors.New("record has no padding delimiter")
	}
	if plain[i] != 0x02 {
		return nil, fmt.Errorf("padding delimiter is %#x; the only record must end with 0x02", plain[i])
	}
	return plain[:i], nil
}
