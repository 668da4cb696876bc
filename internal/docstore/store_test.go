package docstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/carecircle/carecircle"
)

func readAll(t *testing.T, s *Store, key string, dataKey []byte) ([]byte, int64) {
	t.Helper()
	rc, size, err := s.Open(context.Background(), key, dataKey)
	if err != nil {
		t.Fatalf("Open(%s): %v", key, err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return got, size
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestStore_RoundTripGivesIdenticalBytesAndHash(t *testing.T) {
	eachBackend(t, func(t *testing.T, be backend) {
		s := NewStore(be.blobs, Options{})
		dataKey := mustKey(t)
		const c = defaultChunkSize
		tests := []struct {
			name string
			data []byte
			mime string
		}{
			{"one byte of text", []byte("a"), MimeText},
			{"short text", []byte("Mum's pills: 8am, 8pm\n"), MimeText},
			{"exactly the sniffed head", pdfBytes(t, SniffLen, 1), MimePDF},
			{"head plus one byte", pdfBytes(t, SniffLen+1, 2), MimePDF},
			{"exactly one chunk", pdfBytes(t, c, 3), MimePDF},
			{"one chunk plus one byte", pdfBytes(t, c+1, 4), MimePDF},
			{"exact chunk multiple", pdfBytes(t, 3*c, 5), MimePDF},
			{"multi-chunk", pdfBytes(t, 5*c+123, 6), MimePDF},
			{"multi-chunk text", bytes.Repeat([]byte("Täglich 2× Ibuprofen 400 mg 💊\n"), 10_000), MimeText},
			{"ciphertext exactly one S3 part", pdfBytes(t, plaintextForCiphertext(t, minPartSize), 7), MimePDF},
			{"ciphertext exactly two S3 parts", pdfBytes(t, plaintextForCiphertext(t, 2*minPartSize), 8), MimePDF},
			{"several S3 parts", pdfBytes(t, 11<<20+7, 9), MimePDF},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				key := "fam_1/doc_" + string(rune('a'+i))
				w, err := s.Write(context.Background(), key, dataKey, bytes.NewReader(tt.data))
				if err != nil {
					t.Fatal(err)
				}
				want := Written{Size: int64(len(tt.data)), SHA256: sha256Hex(tt.data), MimeType: tt.mime}
				if w != want {
					t.Errorf("Write = %+v, want %+v", w, want)
				}
				if stored := len(be.raw(t)[storedName(be, key)]); stored != ciphertextSize(len(tt.data)) {
					t.Errorf("stored %d bytes, want %d", stored, ciphertextSize(len(tt.data)))
				}
				got, size := readAll(t, s, key, dataKey)
				if size != int64(len(tt.data)) || !bytes.Equal(got, tt.data) || sha256Hex(got) != w.SHA256 {
					t.Errorf("Open = %d bytes (size %d, sha %s), want %d bytes sha %s",
						len(got), size, sha256Hex(got), len(tt.data), w.SHA256)
				}
			})
		}
	})
}

// storedName maps a key to the name under which be.raw lists it.
func storedName(be backend, key string) string {
	if be.name == "s3" {
		return "docs/" + key
	}
	return "/" + key
}

func TestStore_NoPlaintextReachesTheBackend(t *testing.T) {
	eachBackend(t, func(t *testing.T, be backend) {
		s := NewStore(be.blobs, Options{})
		marker := "CARECIRCLE-PLAINTEXT-MARKER-" + randomHex(8)
		doc := strings.Repeat("Diagnosis note "+marker+"\n", 8000) // several chunks
		if _, err := s.Write(context.Background(), "fam_1/doc_marker", mustKey(t), strings.NewReader(doc)); err != nil {
			t.Fatal(err)
		}
		raw := be.raw(t)
		if len(raw) != 1 {
			t.Fatalf("backend holds %d objects, want 1", len(raw))
		}
		for name, data := range raw {
			if bytes.Contains(data, []byte(marker)) || bytes.Contains(data, []byte("Diagnosis note")) {
				t.Errorf("%s contains the plaintext", name)
			}
		}
	})
}

func TestOpen_TamperedObjectFailsWithoutPlaintext(t *testing.T) {
	eachBackend(t, func(t *testing.T, be backend) {
		s := NewStore(be.blobs, Options{})
		dataKey := mustKey(t)
		ctx := context.Background()
		const c = defaultChunkSize + tagSize
		if _, err := s.Write(ctx, "fam_1/doc_ok", dataKey, bytes.NewReader(pdfBytes(t, 3*defaultChunkSize+100, 1))); err != nil {
			t.Fatal(err)
		}
		orig := be.raw(t)[storedName(be, "fam_1/doc_ok")]
		flip := func(i int) []byte { b := bytes.Clone(orig); b[i] ^= 0x40; return b }
		tests := map[string][]byte{
			"magic byte":              flip(0),
			"version byte":            flip(4),
			"chunk size":              flip(7),
			"salt":                    flip(20),
			"nonce prefix":            flip(headerSize - 1),
			"first chunk data":        flip(headerSize + 10),
			"middle chunk data":       flip(headerSize + c + c/2),
			"middle chunk tag":        flip(headerSize + 2*c - 1),
			"last chunk tag":          flip(len(orig) - 1),
			"truncated by one byte":   orig[:len(orig)-1],
			"truncated mid-object":    orig[:headerSize+c+100],
			"last chunk dropped":      orig[:headerSize+3*c],
			"extended by one byte":    append(bytes.Clone(orig), 0),
			"truncated to header":     orig[:headerSize],
			"truncated inside header": orig[:10],
		}
		for name, bad := range tests {
			t.Run(name, func(t *testing.T) {
				key := "fam_1/bad_" + randomHex(4)
				if err := be.blobs.Put(ctx, key, bytes.NewReader(bad)); err != nil {
					t.Fatal(err)
				}
				rc, size, err := s.Open(ctx, key, dataKey)
				if !errors.Is(err, ErrTampered) {
					t.Errorf("Open err = %v, want ErrTampered", err)
				}
				if rc != nil || size != 0 {
					t.Errorf("Open returned a reader (size %d) for a tampered object", size)
				}
			})
		}
	})
}

// TestOpen_EveryFlippedByteFails flips each byte of a small multi-chunk object
// in turn (small chunks keep it quick) and checks no plaintext comes out.
func TestOpen_EveryFlippedByteFails(t *testing.T) {
	be := newLocalBackend(t)
	s := NewStore(be.blobs, Options{})
	s.chunkSize = 64
	ctx := context.Background()
	dataKey := mustKey(t)
	if _, err := s.Write(ctx, "doc", dataKey, strings.NewReader(strings.Repeat("line of text\n", 20))); err != nil {
		t.Fatal(err)
	}
	orig := be.raw(t)["/doc"]
	for i := range orig {
		for _, mask := range []byte{0x01, 0x80} {
			bad := bytes.Clone(orig)
			bad[i] ^= mask
			if err := be.blobs.Put(ctx, "doc", bytes.NewReader(bad)); err != nil {
				t.Fatal(err)
			}
			if rc, _, err := s.Open(ctx, "doc", dataKey); !errors.Is(err, ErrTampered) || rc != nil {
				t.Fatalf("byte %d ^ %#x: Open = %v, %v; want nil, ErrTampered", i, mask, rc, err)
			}
		}
	}
	for n := range len(orig) {
		if err := be.blobs.Put(ctx, "doc", bytes.NewReader(orig[:n])); err != nil {
			t.Fatal(err)
		}
		if rc, _, err := s.Open(ctx, "doc", dataKey); !errors.Is(err, ErrTampered) || rc != nil {
			t.Fatalf("truncated to %d: Open = %v, %v; want nil, ErrTampered", n, rc, err)
		}
	}
}

func TestOpen_WrongDataKeyFails(t *testing.T) {
	eachBackend(t, func(t *testing.T, be backend) {
		s := NewStore(be.blobs, Options{})
		ctx := context.Background()
		for _, size := range []int{100, 3 * defaultChunkSize} {
			key := "doc_" + randomHex(4)
			if _, err := s.Write(ctx, key, mustKey(t), bytes.NewReader(pdfBytes(t, size, 1))); err != nil {
				t.Fatal(err)
			}
			if rc, _, err := s.Open(ctx, key, mustKey(t)); !errors.Is(err, ErrTampered) || rc != nil {
				t.Errorf("size %d: Open with another key = %v, %v; want nil, ErrTampered", size, rc, err)
			}
		}
	})
}

func TestStore_MasterKeyRotationKeepsDocumentsReadable(t *testing.T) {
	be := newLocalBackend(t)
	s := NewStore(be.blobs, Options{})
	ctx := context.Background()
	oldMaster, newMaster := mustKey(t), mustKey(t)
	dataKey := mustKey(t)
	wrapped, err := WrapKey(oldMaster, dataKey)
	if err != nil {
		t.Fatal(err)
	}
	doc := pdfBytes(t, 2*defaultChunkSize+9, 3)
	if _, err := s.Write(ctx, "doc", dataKey, bytes.NewReader(doc)); err != nil {
		t.Fatal(err)
	}
	before := be.raw(t)["/doc"]

	rewrapped, err := RewrapKey(oldMaster, newMaster, wrapped)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := UnwrapKey(oldMaster, rewrapped); !errors.Is(err, ErrUnwrap) {
		t.Fatalf("old master still unwraps: %v", err)
	}
	unwrapped, err := UnwrapKey(newMaster, rewrapped)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := readAll(t, s, "doc", unwrapped); !bytes.Equal(got, doc) {
		t.Error("document unreadable after rotation")
	}
	if !bytes.Equal(be.raw(t)["/doc"], before) {
		t.Error("rotation changed the stored document")
	}
}

func TestWrite_RefusesDisallowedTypesWhateverTheName(t *testing.T) {
	eachBackend(t, func(t *testing.T, be backend) {
		s := NewStore(be.blobs, Options{})
		tests := map[string]string{
			"html named .pdf":      "<!DOCTYPE html><html><body><script>steal()</script></body></html>",
			"elf named .pdf":       "\x7fELF\x02\x01\x01\x00" + strings.Repeat("\x00", 600),
			"zip":                  "PK\x03\x04\x14\x00\x00\x00\x08\x00" + strings.Repeat("x", 600),
			"svg":                  `<svg xmlns="http://www.w3.org/2000/svg"><script>x()</script></svg>`,
			"text turning binary":  strings.Repeat("plain words ", 1000) + "\x00\x01\x02",
			"text turning latin-1": strings.Repeat("plain words ", 1000) + "caf\xe9",
			"text ending mid-rune": strings.Repeat("plain words ", 1000) + "\xe2\x82",
		}
		for name, content := range tests {
			t.Run(name, func(t *testing.T) {
				_, err := s.Write(context.Background(), "doc.pdf", mustKey(t), strings.NewReader(content))
				if code := carecircle.ErrorCode(err); code != carecircle.EUNSUPPORTED {
					t.Fatalf("code = %s (%v), want %s", code, err, carecircle.EUNSUPPORTED)
				}
				if msg := carecircle.ErrorMessage(err); !strings.HasPrefix(msg, "file type not allowed: ") {
					t.Errorf("message = %q", msg)
				}
				assertEmpty(t, be)
			})
		}
	})
}

func TestWrite_RefusesEmptyFile(t *testing.T) {
	s := NewStore(newLocalBackend(t).blobs, Options{})
	_, err := s.Write(context.Background(), "doc", mustKey(t), strings.NewReader(""))
	if code := carecircle.ErrorCode(err); code != carecircle.EINVALID {
		t.Errorf("code = %s (%v), want %s", code, err, carecircle.EINVALID)
	}
}

func TestWrite_OverTheLimitIsRefusedAndLeavesNothing(t *testing.T) {
	eachBackend(t, func(t *testing.T, be backend) {
		s := NewStore(be.blobs, Options{})
		_, err := s.Write(context.Background(), "fam_1/big", mustKey(t), newGenReader("%PDF-1.7\n", 26<<20, 1))
		if code := carecircle.ErrorCode(err); code != carecircle.ETOOLARGE {
			t.Fatalf("code = %s (%v), want %s", code, err, carecircle.ETOOLARGE)
		}
		if msg := carecircle.ErrorMessage(err); msg != "file is larger than 25 MiB" {
			t.Errorf("message = %q", msg)
		}
		assertEmpty(t, be)
	})
}

func TestWrite_LimitIsInclusive(t *testing.T) {
	eachBackend(t, func(t *testing.T, be backend) {
		const limit = 6 << 20 // above one S3 part, so the refusal aborts a multipart upload
		s := NewStore(be.blobs, Options{MaxSize: limit})
		ctx := context.Background()
		if _, err := s.Write(ctx, "over", mustKey(t), newGenReader("%PDF-1.7\n", limit+1, 1)); carecircle.ErrorCode(err) != carecircle.ETOOLARGE {
			t.Fatalf("limit+1: err = %v, want ETOOLARGE", err)
		}
		assertEmpty(t, be)
		w, err := s.Write(ctx, "exact", mustKey(t), newGenReader("%PDF-1.7\n", limit, 1))
		if err != nil || w.Size != limit {
			t.Fatalf("exactly the limit: %+v, %v", w, err)
		}
	})
}

// cancelAfter cancels a context once n bytes have been read through it.
type cancelAfter struct {
	r      io.Reader
	n      int64
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.n -= int64(n); c.n <= 0 {
		c.cancel()
	}
	return n, err
}

func TestWrite_CancelledOrFailingSourceLeavesNothing(t *testing.T) {
	eachBackend(t, func(t *testing.T, be backend) {
		s := NewStore(be.blobs, Options{})
		for _, at := range []int64{100 << 10, 7 << 20} { // inside the first part, and mid-multipart
			ctx, cancel := context.WithCancel(context.Background())
			_, err := s.Write(ctx, "doc", mustKey(t), &cancelAfter{r: newGenReader("%PDF-1.7\n", 20<<20, 1), n: at, cancel: cancel})
			cancel()
			if !errors.Is(err, context.Canceled) {
				t.Errorf("cancel after %d bytes: err = %v, want context.Canceled", at, err)
			}
			assertEmpty(t, be)

			readErr := errors.New("client went away")
			src := io.MultiReader(io.LimitReader(newGenReader("%PDF-1.7\n", 20<<20, 1), at), &failingReader{err: readErr})
			if _, err := s.Write(context.Background(), "doc", mustKey(t), src); !errors.Is(err, readErr) {
				t.Errorf("source error after %d bytes: err = %v, want %v", at, err, readErr)
			}
			assertEmpty(t, be)
		}
	})
}

func TestStore_DeleteRemovesTheObject(t *testing.T) {
	eachBackend(t, func(t *testing.T, be backend) {
		s := NewStore(be.blobs, Options{})
		ctx := context.Background()
		dataKey := mustKey(t)
		if _, err := s.Write(ctx, "fam_1/doc", dataKey, strings.NewReader("to be deleted")); err != nil {
			t.Fatal(err)
		}
		if ok, err := be.blobs.Exists(ctx, "fam_1/doc"); !ok || err != nil {
			t.Fatalf("Exists before delete = %v, %v", ok, err)
		}
		if err := s.Delete(ctx, "fam_1/doc"); err != nil {
			t.Fatal(err)
		}
		if ok, err := be.blobs.Exists(ctx, "fam_1/doc"); ok || err != nil {
			t.Errorf("Exists after delete = %v, %v", ok, err)
		}
		if _, _, err := s.Open(ctx, "fam_1/doc", dataKey); !errors.Is(err, ErrNotFound) {
			t.Errorf("Open after delete: err = %v, want ErrNotFound", err)
		}
		if err := s.Delete(ctx, "fam_1/doc"); err != nil {
			t.Errorf("second Delete: %v", err)
		}
		assertEmpty(t, be)
	})
}

// swapOnSecondGet serves another object from the second Get, as if the
// object were replaced between Open's verifying and decrypting passes.
type swapOnSecondGet struct {
	Blobs
	gets int
	with string
}

func (s *swapOnSecondGet) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if s.gets++; s.gets == 2 {
		key = s.with
	}
	return s.Blobs.Get(ctx, key)
}

func TestOpen_ObjectReplacedBetweenPassesFails(t *testing.T) {
	be := newLocalBackend(t)
	ctx := context.Background()
	dataKey := mustKey(t)
	s := NewStore(be.blobs, Options{})
	for _, key := range []string{"a", "b"} {
		if _, err := s.Write(ctx, key, dataKey, bytes.NewReader(pdfBytes(t, 3*defaultChunkSize, 1))); err != nil {
			t.Fatal(err)
		}
	}
	swapping := NewStore(&swapOnSecondGet{Blobs: be.blobs, with: "b"}, Options{})
	if rc, _, err := swapping.Open(ctx, "a", dataKey); !errors.Is(err, ErrTampered) || rc != nil {
		t.Errorf("Open = %v, %v; want nil, ErrTampered", rc, err)
	}
}

func TestWrite_BackendRefusalReturnsPromptly(t *testing.T) {
	s := NewStore(newLocalBackend(t).blobs, Options{})
	_, err := s.Write(context.Background(), "../escape", mustKey(t), newGenReader("%PDF-1.7\n", 10<<20, 1))
	if !errors.Is(err, ErrInvalidKey) {
		t.Errorf("err = %v, want ErrInvalidKey", err)
	}
}
