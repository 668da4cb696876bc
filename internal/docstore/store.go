// Package docstore is the storage core of the document vault: it sniffs an
// upload's type from its content, encrypts it in authenticated chunks under
// the family's data key, and streams it to a blob backend (a local directory
// or an S3-compatible bucket), never holding a whole file in memory. Reading
// back authenticates the whole object before releasing a single byte.
//
// Key hierarchy: one random data key per family (NewDataKey), stored only
// wrapped by the server's master key (WrapKey); rotating the master key
// rewraps data keys and leaves documents alone.
package docstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strings"

	"github.com/carecircle/carecircle"
)

// DefaultMaxSize is the upload limit when Options.MaxSize is zero: 25 MiB.
const DefaultMaxSize = 25 << 20

// Options tunes a Store.
type Options struct {
	// MaxSize is the largest plaintext accepted, in bytes; 0 means
	// DefaultMaxSize.
	MaxSize int64
}

// Store is the document pipeline over a Blobs backend. It is safe for
// concurrent use.
type Store struct {
	blobs     Blobs
	maxSize   int64
	chunkSize int
}

// Written describes a stored document.
type Written struct {
	Size     int64  // plaintext bytes
	SHA256   string // lowercase hex of the plaintext's SHA-256
	MimeType string // from Sniff, e.g. "application/pdf"
}

// NewStore returns a Store writing to blobs.
func NewStore(blobs Blobs, o Options) *Store {
	maxSize := o.MaxSize
	if maxSize <= 0 {
		maxSize = DefaultMaxSize
	}
	return &Store{blobs: blobs, maxSize: maxSize, chunkSize: defaultChunkSize}
}

// MaxSize returns the largest document size the store accepts.
func (s *Store) MaxSize() int64 { return s.maxSize }

// Write sniffs r's type, then streams it (hashed, counted, encrypted) into
// the object key. It refuses a type outside the allow-list (EUNSUPPORTED), an
// empty file (EINVALID) and anything over the size limit (ETOOLARGE). Nothing
// is left under key when it fails for any reason, including ctx.
func (s *Store) Write(ctx context.Context, key string, dataKey []byte, r io.Reader) (Written, error) {
	if len(dataKey) != KeySize {
		return Written{}, fmt.Errorf("write document: data key is %d bytes, want %d", len(dataKey), KeySize)
	}
	head := make([]byte, SniffLen)
	n, err := io.ReadFull(ctxReader{ctx, r}, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return Written{}, fmt.Errorf("write document: read: %w", err)
	}
	head = head[:n]
	if n == 0 {
		return Written{}, carecircle.Invalid("file is empty")
	}
	mime, ok := Sniff(head)
	if !ok {
		return Written{}, unsupported(describe(head))
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	putDone := make(chan error, 1)
	go func() {
		err := s.blobs.Put(ctx, key, pr)
		// Unblock the writer if Put stopped reading early.
		pr.CloseWithError(errPutReturned(err))
		putDone <- err
	}()

	w, err := s.encryptStream(ctx, pw, dataKey, io.MultiReader(bytes.NewReader(head), r), mime)
	if err != nil {
		pw.CloseWithError(err)
		cancel()
		if putErr := <-putDone; putErr == nil {
			// Put claimed success on a stream we abandoned: remove it.
			s.blobs.Delete(context.WithoutCancel(ctx), key)
		}
		return Written{}, err
	}
	pw.Close()
	if err := <-putDone; err != nil {
		return Written{}, fmt.Errorf("write document: %w", err)
	}
	return w, nil
}

// encryptStream copies src through the size limit, the hash, the text check
// (for text) and the encrypter into dst.
func (s *Store) encryptStream(ctx context.Context, dst io.Writer, dataKey []byte, src io.Reader, mime string) (Written, error) {
	enc, err := newEncryptWriter(dst, dataKey, s.chunkSize)
	if err != nil {
		return Written{}, fmt.Errorf("write document: %w", err)
	}
	var text *textValidator
	if mime == MimeText {
		text = &textValidator{}
	}
	sum := sha256.New()
	buf := make([]byte, 32<<10)
	var size int64
	src = ctxReader{ctx, src}
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			size += int64(n)
			if size > s.maxSize {
				return Written{}, carecircle.Errorf(carecircle.ETOOLARGE, "file is larger than %s", formatSize(s.maxSize))
			}
			if text != nil && !text.write(buf[:n]) {
				return Written{}, unsupported("binary data in a text file")
			}
			sum.Write(buf[:n])
			if _, err := enc.Write(buf[:n]); err != nil {
				return Written{}, fmt.Errorf("write document: %w", err)
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return Written{}, fmt.Errorf("write document: read: %w", rerr)
		}
	}
	if text != nil && !text.finish() {
		return Written{}, unsupported("binary data in a text file")
	}
	if err := enc.Close(); err != nil {
		return Written{}, fmt.Errorf("write document: %w", err)
	}
	return Written{Size: size, SHA256: hexSum(sum), MimeType: mime}, nil
}

// Open returns the plaintext of the document under key and its size. The
// whole object is authenticated first (a verifying pass that decrypts and
// discards), so a tampered, truncated or wrongly keyed object fails with
// ErrTampered before any plaintext is released. The returned reader makes a
// second pass; it is bound to the verified object by the header's random salt,
// so it can only return the verified bytes (or an error, e.g. if the object is
// replaced or deleted meanwhile). A single-chunk document is returned from
// the first pass without reading the object again.
func (s *Store) Open(ctx context.Context, key string, dataKey []byte) (io.ReadCloser, int64, error) {
	header, size, small, err := s.verify(ctx, key, dataKey)
	if err != nil {
		return nil, 0, err
	}
	if small != nil {
		return io.NopCloser(bytes.NewReader(small)), size, nil
	}
	rc, err := s.blobs.Get(ctx, key)
	if err != nil {
		return nil, 0, fmt.Errorf("open document: %w", err)
	}
	dr, err := newDecryptReader(rc, dataKey)
	if err != nil {
		rc.Close()
		return nil, 0, fmt.Errorf("open document: %w", err)
	}
	if !bytes.Equal(dr.header, header) {
		rc.Close()
		return nil, 0, fmt.Errorf("open document: %w: object changed while opening", ErrTampered)
	}
	return &plainReader{dr: dr, rc: rc}, size, nil
}

// verify authenticates every chunk of the object and returns its header and
// plaintext size, plus the plaintext itself when it is a single chunk.
func (s *Store) verify(ctx context.Context, key string, dataKey []byte) (header []byte, size int64, small []byte, err error) {
	rc, err := s.blobs.Get(ctx, key)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("open document: %w", err)
	}
	defer rc.Close()
	dr, err := newDecryptReader(rc, dataKey)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("open document: %w", err)
	}
	for first := true; ; first = false {
		chunk, final, err := dr.next()
		if err != nil {
			return nil, 0, nil, fmt.Errorf("open document: %w", err)
		}
		size += int64(len(chunk))
		if final {
			if first {
				small = bytes.Clone(chunk)
				if small == nil {
					small = []byte{}
				}
			}
			return dr.header, size, small, nil
		}
	}
}

// Delete removes the document's object; a missing object is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.blobs.Delete(ctx, key); err != nil {
		return fmt.Errorf("delete document: %w", err)
	}
	return nil
}

// plainReader is the decrypting second pass returned by Open.
type plainReader struct {
	dr *decryptReader
	rc io.ReadCloser
}

func (p *plainReader) Read(b []byte) (int, error) { return p.dr.Read(b) }
func (p *plainReader) Close() error               { return p.rc.Close() }

// errPutReturned is what the pipe's reader side reports after Put returned.
func errPutReturned(err error) error {
	if err != nil {
		return fmt.Errorf("blob store stopped: %w", err)
	}
	return errors.New("blob store stopped reading")
}

func unsupported(what string) error {
	return carecircle.Errorf(carecircle.EUNSUPPORTED, "file type not allowed: %s", what)
}

// describe names refused content for the error message without echoing it.
func describe(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("\x7fELF")):
		return "executable (ELF)"
	case bytes.HasPrefix(head, []byte("MZ")):
		return "executable (Windows)"
	}
	t := http.DetectContentType(head)
	t, _, _ = strings.Cut(t, ";")
	if t == "text/plain" {
		if v := (textValidator{}); !v.write(head) {
			return "text that is not UTF-8"
		}
		return "text that looks like markup or a script"
	}
	return t
}

func formatSize(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }
