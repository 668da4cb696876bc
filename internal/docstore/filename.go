package docstore

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxFileNameLen caps a stored file name, in bytes.
const maxFileNameLen = 200

// maxExtLen is the longest suffix kept as an extension when truncating.
const maxExtLen = 16

// SafeFileName turns an uploaded file name into one safe to store, show and
// send back: the directory part (either slash) is dropped; control and
// invisible formatting characters (including bidi overrides that disguise
// extensions), quotes and invalid UTF-8 are removed; characters Windows
// forbids become "_"; leading dots and surrounding spaces go. Letters of any
// script are kept. The result is at most 200 bytes, keeping the extension;
// an empty result is "document".
func SafeFileName(name string) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	space := false
	for _, r := range name {
		switch {
		case r == '\r' || r == '\n':
			continue // a line break in a header value is an injection
		case unicode.IsSpace(r):
			space = true
			continue
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '"' || r == '\'' || r == '`':
			continue
		case strings.ContainsRune(`<>:|?*`, r):
			r = '_'
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	name = strings.TrimLeft(b.String(), ". ")
	name = strings.TrimRight(name, ". ")
	if len(name) > maxFileNameLen {
		name = truncateKeepingExt(name)
	}
	if name == "" {
		return "document"
	}
	return name
}

// truncateKeepingExt cuts name to maxFileNameLen bytes on a character
// boundary, keeping a short extension.
func truncateKeepingExt(name string) string {
	ext := ""
	if i := strings.LastIndexByte(name, '.'); i > 0 && len(name)-i <= maxExtLen {
		ext = name[i:]
		name = name[:i]
	}
	limit := maxFileNameLen - len(ext)
	for len(name) > limit {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	name = strings.TrimRight(name, ". ")
	if name == "" {
		name = "document"
	}
	return name + ext
}

// ContentDisposition returns an attachment header value for name: a plain
// ASCII filename for old clients and the exact UTF-8 name as filename* (RFC
// 6266 / RFC 8187). The name is passed through SafeFileName first.
func ContentDisposition(name string) string {
	name = SafeFileName(name)
	var ascii, enc strings.Builder
	for _, r := range name {
		if r >= 0x20 && r < 0x7f && r != '"' && r != '\\' && r != '%' {
			ascii.WriteRune(r)
		} else {
			ascii.WriteByte('_')
		}
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if isAttrChar(c) {
			enc.WriteByte(c)
		} else {
			const hexDigits = "0123456789ABCDEF"
			enc.WriteByte('%')
			enc.WriteByte(hexDigits[c>>4])
			enc.WriteByte(hexDigits[c&0xF])
		}
	}
	return `attachment; filename="` + ascii.String() + `"; filename*=UTF-8''` + enc.String()
}

// isAttrChar reports whether c may appear unencoded in an RFC 8187 value.
func isAttrChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", c) >= 0
}
