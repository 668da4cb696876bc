package docstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	mrand "math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// backend is a Blobs under test plus a view of everything it physically
// holds, to prove what is (and is not) stored.
type backend struct {
	name  string
	blobs Blobs
	// raw returns every stored object (or file, temporary ones included)
	// by name.
	raw func(t *testing.T) map[string][]byte
	// pending counts unfinished multipart uploads (always 0 for Local).
	pending func(t *testing.T) int
}

func newLocalBackend(t *testing.T) backend {
	t.Helper()
	dir := t.TempDir()
	l, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return backend{
		name:  "local",
		blobs: l,
		raw: func(t *testing.T) map[string][]byte {
			t.Helper()
			out := map[string][]byte{}
			err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				b, err := os.ReadFile(p)
				out[strings.TrimPrefix(p, dir)] = b
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return out
		},
		pending: func(*testing.T) int { return 0 },
	}
}

// newS3Backend serves a fresh in-memory fake S3 over a real HTTP listener.
func newS3Backend(t *testing.T) backend {
	t.Helper()
	mem := s3mem.New()
	srv := httptest.NewServer(gofakes3.New(mem).Server())
	t.Cleanup(srv.Close)
	bucket := "vault-" + randomHex(6)
	if err := mem.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	b, err := NewS3(context.Background(), S3Config{
		Bucket:          bucket,
		Region:          "us-east-1",
		Endpoint:        srv.URL,
		UsePathStyle:    true,
		AccessKeyID:     "test",
		SecretAccessKey: "test",
		Prefix:          "docs/",
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	return backend{
		name:  "s3",
		blobs: b,
		raw: func(t *testing.T) map[string][]byte {
			t.Helper()
			list, err := b.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
			if err != nil {
				t.Fatal(err)
			}
			out := map[string][]byte{}
			for _, o := range list.Contents {
				got, err := b.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
				if err != nil {
					t.Fatal(err)
				}
				data, err := io.ReadAll(got.Body)
				got.Body.Close()
				if err != nil {
					t.Fatal(err)
				}
				out[*o.Key] = data
			}
			return out
		},
		pending: func(t *testing.T) int {
			t.Helper()
			ups, err := b.client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
			var ae smithy.APIError
			if errors.As(err, &ae) && ae.ErrorCode() == "NoSuchUpload" {
				return 0 // gofakes3 says so for a bucket that never had an upload
			}
			if err != nil {
				t.Fatal(err)
			}
			return len(ups.Uploads)
		},
	}
}

func eachBackend(t *testing.T, fn func(t *testing.T, be backend)) {
	for _, mk := range []func(*testing.T) backend{newLocalBackend, newS3Backend} {
		be := mk(t)
		t.Run(be.name, func(t *testing.T) { fn(t, be) })
	}
}

// assertEmpty fails unless the backend holds no object and no pending upload.
func assertEmpty(t *testing.T, be backend) {
	t.Helper()
	if raw := be.raw(t); len(raw) != 0 {
		names := make([]string, 0, len(raw))
		for n := range raw {
			names = append(names, n)
		}
		t.Errorf("%s holds %d objects after a failed write: %v", be.name, len(raw), names)
	}
	if n := be.pending(t); n != 0 {
		t.Errorf("%s holds %d unfinished multipart uploads", be.name, n)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// genReader yields head followed by pseudo-random bytes up to size, without
// holding the document in memory.
type genReader struct {
	head []byte
	left int64
	rng  *mrand.ChaCha8
}

func newGenReader(head string, size int64, seed byte) *genReader {
	return &genReader{head: []byte(head), left: size, rng: mrand.NewChaCha8([32]byte{seed})}
}

func (g *genReader) Read(p []byte) (int, error) {
	if g.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > g.left {
		p = p[:g.left]
	}
	n := copy(p, g.head)
	g.head = g.head[n:]
	g.rng.Read(p[n:])
	g.left -= int64(len(p))
	return len(p), nil
}

// pdfBytes returns a deterministic PDF-looking document of size bytes.
func pdfBytes(t testing.TB, size int, seed byte) []byte {
	t.Helper()
	b, err := io.ReadAll(newGenReader("%PDF-1.7\n", int64(size), seed))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ciphertextSize is the stored size of a plaintext of n bytes with the
// default chunk size.
func ciphertextSize(n int) int {
	chunks := max(1, (n+defaultChunkSize-1)/defaultChunkSize)
	return headerSize + n + chunks*tagSize
}

// plaintextForCiphertext returns the plaintext size whose stored object is
// exactly want bytes.
func plaintextForCiphertext(t *testing.T, want int) int {
	t.Helper()
	n := want - headerSize - tagSize*(want/defaultChunkSize+2)
	for ; n < want; n++ {
		if ciphertextSize(n) == want {
			return n
		}
	}
	t.Fatalf("no plaintext size stores as %d bytes", want)
	return 0
}
