package docstore

import (
	"bytes"
	"encoding/binary"
	"net/http"
	"strings"
	"unicode/utf8"
)

// The media types the vault accepts. Text is always stored as UTF-8.
const (
	MimePDF  = "application/pdf"
	MimeJPEG = "image/jpeg"
	MimePNG  = "image/png"
	MimeWEBP = "image/webp"
	MimeHEIC = "image/heic"
	MimeGIF  = "image/gif"
	MimeText = "text/plain; charset=utf-8"
)

// SniffLen is how many leading bytes Sniff needs to decide; Store.Write reads
// this many before anything is stored.
const SniffLen = 512

// heifBrands are the ISO-BMFF brands that mark a HEIF/HEIC still image.
// mif1/msf1 are generic HEIF brands (AVIF uses them too), so they only count
// as the major brand; see sniffHEIC.
var heifBrands = map[string]bool{
	"heic": true, "heix": true, "heim": true, "heis": true, "hevc": true, "hevx": true,
}

// markupHints are substrings that make a "text" file look like something a
// browser or interpreter would run or render; such files are refused rather
// than stored as text/plain.
var markupHints = []string{
	"<!doctype", "<html", "<head", "<body", "<script", "<svg", "<?xml", "<iframe",
	"<object", "<embed", "<meta", "<style", "<link", "<form", "<img",
}

// Sniff decides a file's media type from its first bytes (at most SniffLen are
// looked at), never from its name. ok is false for anything outside the
// allow-list: HTML, XML, SVG, scripts, executables, archives, binary data.
func Sniff(head []byte) (mime string, ok bool) {
	if len(head) > SniffLen {
		head = head[:SniffLen]
	}
	switch {
	case len(head) == 0:
		return "", false
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return MimePDF, true
	case bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}):
		return MimeJPEG, true
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return MimePNG, true
	case bytes.HasPrefix(head, []byte("GIF87a")), bytes.HasPrefix(head, []byte("GIF89a")):
		return MimeGIF, true
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return MimeWEBP, true
	case sniffHEIC(head):
		return MimeHEIC, true
	case sniffText(head):
		return MimeText, true
	}
	return "", false
}

// sniffHEIC reports whether head starts with an ISO-BMFF ftyp box naming a
// HEIF brand: a HEVC brand anywhere, or mif1/msf1 as the major brand of a
// file that does not also claim AVIF.
func sniffHEIC(head []byte) bool {
	if len(head) < 16 || string(head[4:8]) != "ftyp" {
		return false
	}
	size := int(binary.BigEndian.Uint32(head[:4]))
	if size < 16 {
		return false
	}
	end := min(size, len(head))
	major := string(head[8:12])
	var compatible []string
	for i := 16; i+4 <= end; i += 4 {
		compatible = append(compatible, string(head[i:i+4]))
	}
	if heifBrands[major] {
		return true
	}
	for _, b := range compatible {
		if heifBrands[b] {
			return true
		}
	}
	if major != "mif1" && major != "msf1" {
		return false
	}
	for _, b := range compatible {
		if b == "avif" || b == "avis" {
			return false
		}
	}
	return true
}

// sniffText accepts UTF-8 text that a browser would not treat as markup. head
// may end inside a multi-byte character (it is a prefix of the file).
func sniffText(head []byte) bool {
	var v textValidator
	if !v.write(head) {
		return false
	}
	if detected := http.DetectContentType(head); !strings.HasPrefix(detected, "text/plain") {
		return false
	}
	lower := strings.ToLower(string(bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xEF\xBB\xBF")), " \t\r\n\f")))
	if strings.HasPrefix(lower, "#!") || strings.HasPrefix(lower, "<?") || strings.HasPrefix(lower, "<!") {
		return false
	}
	for _, hint := range markupHints {
		if strings.Contains(lower, hint) {
			return false
		}
	}
	return true
}

// textValidator checks a byte stream, fed in pieces, is UTF-8 text with no
// NUL or other binary control bytes. A character split across two writes is
// carried over; finish reports whether the stream ended cleanly.
type textValidator struct {
	carry [utf8.UTFMax]byte
	n     int // bytes held in carry
}

// write validates p after any carried-over partial character.
func (v *textValidator) write(p []byte) bool {
	for v.n > 0 && len(p) > 0 {
		v.carry[v.n] = p[0]
		v.n++
		p = p[1:]
		if utf8.FullRune(v.carry[:v.n]) {
			if r, size := utf8.DecodeRune(v.carry[:v.n]); r == utf8.RuneError && size <= 1 {
				return false
			}
			v.n = 0
		}
	}
	if len(p) == 0 {
		return true
	}
	end := len(p)
	// Hold back a trailing incomplete character for the next write.
	for i := len(p) - 1; i >= 0 && i >= len(p)-utf8.UTFMax+1; i-- {
		if utf8.RuneStart(p[i]) {
			if !utf8.FullRune(p[i:]) {
				end = i
			}
			break
		}
	}
	for _, b := range p[:end] {
		if b < 0x20 && !textControl[b] {
			return false
		}
	}
	if !utf8.Valid(p[:end]) {
		return false
	}
	v.n = copy(v.carry[:], p[end:])
	return true
}

// finish reports whether the stream did not end inside a character.
func (v *textValidator) finish() bool { return v.n == 0 }

// textControl lists the control bytes text may hold: tab, LF, FF, CR and ESC,
// as in the WHATWG sniffing rules (everything else below 0x20 means binary).
var textControl = [0x20]bool{'\t': true, '\n': true, '\f': true, '\r': true, 0x1B: true}
