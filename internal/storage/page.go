package storage

import (
	"encoding/base64"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/carecircle/carecircle"
)

// Page asks for one page of a list: at most Limit items after Cursor.
type Page struct {
	Limit  int
	Cursor string
}

// Page size bounds.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// size returns the effective limit.
func (p Page) size() int {
	switch {
	case p.Limit <= 0:
		return DefaultPageSize
	case p.Limit > MaxPageSize:
		return MaxPageSize
	}
	return p.Limit
}

// Cursors are keyset positions: the sort key (epoch ms) and the id of the
// last item shown, so pages stay stable while rows are added.

// EncodeCursor returns the opaque cursor after an item.
func EncodeCursor(key int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(key, 10) + "|" + id))
}

// DecodeCursor parses a cursor; a malformed one is a 400 naming "cursor".
func DecodeCursor(s string) (key int64, id string, err error) {
	bad := carecircle.Invalid("cursor is invalid")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, "", bad
	}
	k, id, ok := strings.Cut(string(b), "|")
	if !ok || id == "" || strings.ContainsFunc(id, func(r rune) bool { return r < ' ' || r == utf8.RuneError }) {
		return 0, "", bad
	}
	key, err = strconv.ParseInt(k, 10, 64)
	if err != nil {
		return 0, "", bad
	}
	return key, id, nil
}
