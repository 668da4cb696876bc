package docstore

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func encryptBytes(t *testing.T, key, plain []byte, chunkSize int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := newEncryptWriter(&buf, key, chunkSize)
	if err != nil {
		t.Fatal(err)
	}
	// Odd-sized writes exercise chunk boundaries that do not line up with them.
	for p := plain; len(p) > 0; {
		n := min(len(p), 37)
		if _, err := w.Write(p[:n]); err != nil {
			t.Fatal(err)
		}
		p = p[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func decryptBytes(key, sealed []byte) ([]byte, error) {
	r, err := newDecryptReader(bytes.NewReader(sealed), key)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

func TestFormat_RoundTripsEverySizeAroundChunkBoundaries(t *testing.T) {
	const chunk = 64
	key := mustKey(t)
	for _, size := range []int{0, 1, chunk - 1, chunk, chunk + 1, 2 * chunk, 3*chunk + 5, 10 * chunk} {
		plain := bytes.Repeat([]byte{0xA5}, size)
		for i := range plain {
			plain[i] = byte(i * 7)
		}
		sealed := encryptBytes(t, key, plain, chunk)
		chunks := max(1, (size+chunk-1)/chunk)
		if want := headerSize + size + chunks*tagSize; len(sealed) != want {
			t.Errorf("size %d: sealed %d bytes, want %d", size, len(sealed), want)
		}
		got, err := decryptBytes(key, sealed)
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("size %d: round trip = %d bytes, %v", size, len(got), err)
		}
	}
}

func TestFormat_SameInputEncryptsDifferently(t *testing.T) {
	key := mustKey(t)
	plain := []byte("same document twice")
	a, b := encryptBytes(t, key, plain, 64), encryptBytes(t, key, plain, 64)
	if bytes.Equal(a, b) {
		t.Error("two encryptions are identical; salt and nonce prefix are not random")
	}
}

func TestFormat_DetectsReorderingAndSplicing(t *testing.T) {
	const chunk = 64
	key := mustKey(t)
	plain := make([]byte, 4*chunk+10)
	for i := range plain {
		plain[i] = byte(i)
	}
	sealed := encryptBytes(t, key, plain, chunk)
	body := sealed[headerSize:]
	c := chunk + tagSize
	other := encryptBytes(t, key, plain, chunk) // same key and plaintext, another salt

	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := map[string][]byte{
		"swap first two chunks": cat(sealed[:headerSize], body[c:2*c], body[:c], body[2*c:]),
		"duplicate a chunk":     cat(sealed[:headerSize], body[:c], body[:c], body[c:]),
		"drop a middle chunk":   cat(sealed[:headerSize], body[:c], body[2*c:]),
		"drop the last chunk":   sealed[:headerSize+4*c],
		"append a chunk":        cat(sealed, body[:c]),
		"append one byte":       cat(sealed, []byte{0}),
		"header from another":   cat(other[:headerSize], body),
		"chunk from another":    cat(sealed[:headerSize+c], other[headerSize+c:headerSize+2*c], body[2*c:]),
		"header only":           sealed[:headerSize],
		"nothing":               nil,
	}
	for name, bad := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := decryptBytes(key, bad); !errors.Is(err, ErrTampered) {
				t.Errorf("err = %v, want ErrTampered", err)
			}
		})
	}
}

func TestFormat_WrongKeyFails(t *testing.T) {
	sealed := encryptBytes(t, mustKey(t), []byte("hello"), 64)
	if _, err := decryptBytes(mustKey(t), sealed); !errors.Is(err, ErrTampered) {
		t.Errorf("err = %v, want ErrTampered", err)
	}
}

// failingReader returns err after delivering data.
type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestFormat_ReadErrorIsNotReportedAsTampering(t *testing.T) {
	key := mustKey(t)
	sealed := encryptBytes(t, key, make([]byte, 300), 64)
	ioErr := errors.New("connection reset")
	r, err := newDecryptReader(&failingReader{data: sealed[:200], err: ioErr}, key)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(r)
	if !errors.Is(err, ioErr) || errors.Is(err, ErrTampered) {
		t.Errorf("err = %v, want the read error and not ErrTampered", err)
	}
}
