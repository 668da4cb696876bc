package docstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Blobs stores opaque objects by key. Put is all-or-nothing: when it returns
// an error (including a read error from r or a cancelled ctx) no object is
// left under key and a previous object there is untouched. Keys are
// slash-separated segments of [A-Za-z0-9._-], none empty or starting with a
// dot (see ErrInvalidKey).
type Blobs interface {
	Put(ctx context.Context, key string, r io.Reader) error
	// Get returns the object's bytes; an error wrapping ErrNotFound when absent.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes the object; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	Exists(ctx context.Context, key string) (bool, error)
}

// ErrNotFound is wrapped by Blobs.Get when no object has the key.
var ErrNotFound = errors.New("docstore: object not found")

// ErrInvalidKey is wrapped when a key is not acceptable to the backends.
var ErrInvalidKey = errors.New("docstore: invalid object key")

// maxKeyLen keeps keys within what S3 (1024 bytes) and file systems accept.
const maxKeyLen = 512

// checkKey refuses keys that could name anything outside the store: absolute
// paths, "..", backslashes, hidden files (our temp files start with a dot).
func checkKey(key string) error {
	if key == "" || len(key) > maxKeyLen {
		return fmt.Errorf("%w: %q", ErrInvalidKey, key)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" || seg[0] == '.' || len(seg) > 255 {
			return fmt.Errorf("%w: %q", ErrInvalidKey, key)
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
				c == '.' || c == '_' || c == '-'
			if !ok {
				return fmt.Errorf("%w: %q", ErrInvalidKey, key)
			}
		}
	}
	return nil
}

// ctxReader fails reads once ctx is done, so a long copy stops promptly.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
