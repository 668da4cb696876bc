package docstore

import (
	"bufio"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// The stored form of a document (format version 1):
//
//	header: magic "CCDV" | version 1 | chunk size (uint32 BE) | salt (32) | nonce prefix (7)
//	chunks: AES-256-GCM(plaintext chunk) with its 16-byte tag, one after another
//
// Every chunk but the last holds exactly chunk-size plaintext bytes; the last
// holds 0..chunk-size (0 only for an empty document). The chunk key is derived
// per file from the family's data key and the salt (HKDF-SHA256), so nonces
// never repeat across files. Each chunk's nonce is prefix | index (uint32 BE)
// | final flag, and its additional data is the whole header: reordering,
// dropping or appending chunks, truncation and any bit flip (header included)
// all fail authentication. This is the STREAM construction of Hoang et al.
const (
	formatMagic      = "CCDV"
	formatVersion    = 1
	saltSize         = 32
	noncePrefixSize  = 7
	headerSize       = len(formatMagic) + 1 + 4 + saltSize + noncePrefixSize
	tagSize          = 16
	defaultChunkSize = 64 << 10
	// Chunk sizes a header may claim; the upper bound caps what a reader
	// allocates for a hostile header before it can authenticate anything.
	minChunkSize = 16
	maxChunkSize = 1 << 20
)

// chunkKeyInfo is the HKDF info string for per-file chunk keys.
const chunkKeyInfo = "carecircle/docstore v1 chunk key"

// ErrTampered means a stored document failed authentication: it was modified,
// truncated or extended, or the data key is not the one it was written with.
// Open returns it before any plaintext is released.
var ErrTampered = errors.New("docstore: document failed authentication (tampered, truncated, or wrong key)")

// encryptWriter encrypts what is written to it into dst in the format above.
// Close writes the final chunk and must be called.
type encryptWriter struct {
	dst    io.Writer
	aead   cipher.AEAD
	header []byte
	prefix []byte
	nonce  [12]byte
	buf    []byte // plaintext of the chunk being filled
	out    []byte // sealed chunk
	index  uint32
	err    error
}

// newEncryptWriter writes a fresh header to dst and returns the writer for the
// plaintext.
func newEncryptWriter(dst io.Writer, dataKey []byte, chunkSize int) (*encryptWriter, error) {
	if chunkSize < minChunkSize || chunkSize > maxChunkSize {
		return nil, fmt.Errorf("encrypt: chunk size %d out of range", chunkSize)
	}
	if len(dataKey) != KeySize {
		return nil, fmt.Errorf("encrypt: data key is %d bytes, want %d", len(dataKey), KeySize)
	}
	header := make([]byte, headerSize)
	copy(header, formatMagic)
	header[4] = formatVersion
	binary.BigEndian.PutUint32(header[5:9], uint32(chunkSize))
	if _, err := rand.Read(header[9:]); err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	aead, err := chunkAEAD(dataKey, header)
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	if _, err := dst.Write(header); err != nil {
		return nil, fmt.Errorf("encrypt: write header: %w", err)
	}
	return &encryptWriter{
		dst:    dst,
		aead:   aead,
		header: header,
		prefix: header[headerSize-noncePrefixSize:],
		buf:    make([]byte, 0, chunkSize),
		out:    make([]byte, 0, chunkSize+tagSize),
	}, nil
}

// Write buffers p, sealing a chunk only once more data proves it is not the
// last one.
func (w *encryptWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n := 0
	for len(p) > 0 {
		if len(w.buf) == cap(w.buf) {
			if err := w.seal(false); err != nil {
				return n, err
			}
		}
		c := copy(w.buf[len(w.buf):cap(w.buf)], p)
		w.buf = w.buf[:len(w.buf)+c]
		p = p[c:]
		n += c
	}
	return n, nil
}

// Close seals what is buffered as the final chunk.
func (w *encryptWriter) Close() error {
	if w.err != nil {
		return w.err
	}
	if err := w.seal(true); err != nil {
		return err
	}
	w.err = errors.New("encrypt: writer closed")
	return nil
}

func (w *encryptWriter) seal(final bool) error {
	if !final && w.index == math.MaxUint32 {
		w.err = errors.New("encrypt: too many chunks")
		return w.err
	}
	chunkNonce(&w.nonce, w.prefix, w.index, final)
	w.out = w.aead.Seal(w.out[:0], w.nonce[:], w.buf, w.header)
	if _, err := w.dst.Write(w.out); err != nil {
		w.err = fmt.Errorf("encrypt: write chunk %d: %w", w.index, err)
		return w.err
	}
	w.index++
	w.buf = w.buf[:0]
	return nil
}

// decryptReader authenticates and decrypts one chunk at a time. A chunk is the
// last one exactly when no byte follows it, which the reader learns by
// peeking; a stream cut at a chunk boundary therefore fails, because the
// chunk now last was sealed as not final.
type decryptReader struct {
	src    *bufio.Reader
	aead   cipher.AEAD
	header []byte
	prefix []byte
	nonce  [12]byte
	in     []byte // sealed chunk
	plain  []byte // decrypted chunk
	unread []byte // part of plain not yet returned by Read
	index  uint32
	done   bool
	err    error
}

// newDecryptReader reads and checks the header from src.
func newDecryptReader(src io.Reader, dataKey []byte) (*decryptReader, error) {
	header := make([]byte, headerSize)
	if _, err := io.ReadFull(src, header); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: object shorter than its header", ErrTampered)
		}
		return nil, fmt.Errorf("decrypt: read header: %w", err)
	}
	if string(header[:4]) != formatMagic || header[4] != formatVersion {
		return nil, fmt.Errorf("%w: not a version %d document", ErrTampered, formatVersion)
	}
	chunkSize := int(binary.BigEndian.Uint32(header[5:9]))
	if chunkSize < minChunkSize || chunkSize > maxChunkSize {
		return nil, fmt.Errorf("%w: chunk size %d out of range", ErrTampered, chunkSize)
	}
	aead, err := chunkAEAD(dataKey, header)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	return &decryptReader{
		src:    bufio.NewReaderSize(src, 32<<10),
		aead:   aead,
		header: header,
		prefix: header[headerSize-noncePrefixSize:],
		in:     make([]byte, chunkSize+tagSize),
		plain:  make([]byte, 0, chunkSize),
	}, nil
}

// next returns the next authenticated plaintext chunk and whether it is the
// last; after the last it returns io.EOF. The slice is reused by the next call.
func (r *decryptReader) next() (plain []byte, final bool, err error) {
	if r.err != nil {
		return nil, false, r.err
	}
	if r.done {
		return nil, false, io.EOF
	}
	n, err := io.ReadFull(r.src, r.in)
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		final = true
	case err != nil:
		r.err = fmt.Errorf("decrypt: read chunk %d: %w", r.index, err)
		return nil, false, r.err
	default:
		if _, perr := r.src.Peek(1); errors.Is(perr, io.EOF) {
			final = true
		} else if perr != nil {
			r.err = fmt.Errorf("decrypt: read chunk %d: %w", r.index, perr)
			return nil, false, r.err
		}
	}
	if n < tagSize {
		r.err = fmt.Errorf("%w: chunk %d truncated", ErrTampered, r.index)
		return nil, false, r.err
	}
	if !final && r.index == math.MaxUint32 {
		r.err = fmt.Errorf("%w: too many chunks", ErrTampered)
		return nil, false, r.err
	}
	chunkNonce(&r.nonce, r.prefix, r.index, final)
	r.plain, err = r.aead.Open(r.plain[:0], r.nonce[:], r.in[:n], r.header)
	if err != nil {
		r.err = fmt.Errorf("%w: chunk %d", ErrTampered, r.index)
		return nil, false, r.err
	}
	r.index++
	r.done = final
	return r.plain, final, nil
}

// Read returns plaintext; each chunk is authenticated before any of it is
// returned. Callers that must not see a partial document verify the whole
// stream first (Store.Open does).
func (r *decryptReader) Read(p []byte) (int, error) {
	for len(r.unread) == 0 {
		chunk, _, err := r.next()
		if err != nil {
			return 0, err
		}
		r.unread = chunk
	}
	n := copy(p, r.unread)
	r.unread = r.unread[n:]
	return n, nil
}

// chunkAEAD derives the per-file chunk key from the data key and the header's
// salt.
func chunkAEAD(dataKey, header []byte) (cipher.AEAD, error) {
	if len(dataKey) != KeySize {
		return nil, fmt.Errorf("data key is %d bytes, want %d", len(dataKey), KeySize)
	}
	salt := header[9 : 9+saltSize]
	key, err := hkdf.Key(sha256.New, dataKey, salt, chunkKeyInfo, KeySize)
	if err != nil {
		return nil, fmt.Errorf("derive chunk key: %w", err)
	}
	return newGCM(key)
}

// chunkNonce fills nonce with prefix | index | final flag.
func chunkNonce(nonce *[12]byte, prefix []byte, index uint32, final bool) {
	copy(nonce[:noncePrefixSize], prefix)
	binary.BigEndian.PutUint32(nonce[noncePrefixSize:noncePrefixSize+4], index)
	nonce[11] = 0
	if final {
		nonce[11] = 1
	}
}
