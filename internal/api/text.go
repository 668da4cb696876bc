package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/carecircle/carecircle"
)

// maxScannedBody bounds how much of a JSON body refuseUnstorable reads ahead; every
// JSON operation refuses larger bodies anyway (op's MaxBodyBytes).
const maxScannedBody = 1 << 20

// refuseUnstorable answers 400 for a NUL character or invalid UTF-8 in a
// query value and for a NUL in a JSON body's string (JSON decoding already
// replaces invalid UTF-8), and 404 for either in the path. No text a family
// enters means anything with them, and PostgreSQL can't store them in a text
// column: left alone they would fail the query as a 500. Each message names
// the field.
func refuseUnstorable(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			next.ServeHTTP(w, r)
			return
		}
		if strings.ContainsRune(r.URL.Path, 0) || !utf8.ValidString(r.URL.Path) {
			// No id holds such a character: nothing by that name exists.
			writeError(w, r, carecircle.Errorf(carecircle.ENOTFOUND, "not found"))
			return
		}
		var p carecircle.Problems
		if strings.Contains(r.URL.RawQuery, "%") {
			q := r.URL.Query()
			keys := make([]string, 0, len(q))
			for k := range q {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				name := strings.ToValidUTF8(strings.ReplaceAll(k, "\x00", ""), "")
				for _, v := range q[k] {
					p.Add(strings.ContainsRune(k+v, 0), "%s must not contain NUL characters", name)
					p.Add(!utf8.ValidString(k+v), "%s must be valid UTF-8", name)
				}
			}
		}
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); r.Body != nil && (mt == "" || strings.HasSuffix(mt, "json")) {
			head, err := io.ReadAll(io.LimitReader(r.Body, maxScannedBody+1))
			if err != nil {
				writeError(w, r, carecircle.Invalid("body could not be read"))
				return
			}
			r.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(head), r.Body), r.Body}
			if len(head) <= maxScannedBody && hasEscapedNUL(head) {
				var v any
				if json.Unmarshal(head, &v) == nil {
					nulFields(&p, "", v)
				}
			}
		}
		if err := p.Err(); err != nil {
			writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// hasEscapedNUL reports whether a JSON text holds the escape \u0000 (a raw
// NUL byte is not valid JSON and fails decoding on its own).
func hasEscapedNUL(b []byte) bool {
	for i := bytes.Index(b, []byte(`u0000`)); i >= 0; {
		// The escape counts when an odd run of backslashes precedes it.
		n := 0
		for j := i - 1; j >= 0 && b[j] == '\\'; j-- {
			n++
		}
		if n%2 == 1 {
			return true
		}
		next := bytes.Index(b[i+1:], []byte(`u0000`))
		if next < 0 {
			return false
		}
		i += next + 1
	}
	return false
}

// nulFields records each string (or key) under path holding a NUL.
func nulFields(p *carecircle.Problems, path string, v any) {
	name := path
	if name == "" {
		name = "body"
	}
	switch x := v.(type) {
	case string:
		p.Add(strings.ContainsRune(x, 0), "%s must not contain NUL characters", name)
	case []any:
		for i, it := range x {
			nulFields(p, fmt.Sprintf("%s[%d]", name, i), it)
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			child := strings.ReplaceAll(k, "\x00", "")
			if path != "" {
				child = path + "." + child
			}
			p.Add(strings.ContainsRune(k, 0), "%s must not contain NUL characters", child)
			nulFields(p, child, x[k])
		}
	}
}
