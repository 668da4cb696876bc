package storage

import (
	"database/sql"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
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

// rowScanner is one row to read: *sql.Row or *sql.Rows.
type rowScanner interface{ Scan(...any) error }

// collect reads every row with scan and closes rows. No rows is an empty
// slice, not nil: a list is [] in JSON.
func collect[T any](rows *sql.Rows, scan func(rowScanner) (T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// cutPage trims items, read as one more than limit, to a page and returns
// the cursor after its last item when more follow ("" on the last page).
// key gives an item's sort instant and id, the parts of its cursor.
func cutPage[T any](items []T, limit int, key func(*T) (time.Time, string)) ([]T, string) {
	if len(items) <= limit {
		return items, ""
	}
	items = items[:limit]
	at, id := key(&items[limit-1])
	return items, EncodeCursor(ms(at), id)
}
