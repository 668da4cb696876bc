package docstore

import (
	"strings"
	"testing"
)

func TestSniff_AllowListDecidedByContent(t *testing.T) {
	tests := []struct {
		name string
		head string
		want string // "" means refused
	}{
		{"pdf", "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", MimePDF},
		{"jpeg", "\xff\xd8\xff\xe0\x00\x10JFIF\x00", MimeJPEG},
		{"png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", MimePNG},
		{"gif87a", "GIF87a\x01\x00\x01\x00", MimeGIF},
		{"gif89a", "GIF89a\x01\x00\x01\x00", MimeGIF},
		{"webp", "RIFF\x24\x00\x00\x00WEBPVP8 ", MimeWEBP},
		{"heic major brand", "\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", MimeHEIC},
		{"heix major brand", "\x00\x00\x00\x18ftypheix\x00\x00\x00\x00mif1heix", MimeHEIC},
		{"hevc sequence", "\x00\x00\x00\x18ftyphevc\x00\x00\x00\x00msf1hevc", MimeHEIC},
		{"mif1 major with heic compatible", "\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic", MimeHEIC},
		{"mif1 only", "\x00\x00\x00\x14ftypmif1\x00\x00\x00\x00mif1", MimeHEIC},
		{"ascii text", "Blood pressure log\n120/80 at 08:00\n", MimeText},
		{"utf-8 text", "Überweisung für März — 診断書 ✓ 🙂\r\n\tTab", MimeText},
		{"utf-8 bom", "\xef\xbb\xbfHello", MimeText},
		{"text with angle brackets", "if a < b and c > d then call the doctor", MimeText},
		{"text cut inside a character", "abc\xe2\x82", MimeText},
		{"text with a literal replacement character", "a\uFFFDb", MimeText},

		{"empty", "", ""},
		{"avif", "\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", ""},
		{"mif1 claiming avif", "\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1avif", ""},
		{"mp4 video", "\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2", ""},
		{"html doctype", "<!DOCTYPE html><html><body>hi</body></html>", ""},
		{"html after whitespace", "  \n <HTML><BODY>", ""},
		{"script tag mid-text", "Dear family,\nsee <script>alert(1)</script>", ""},
		{"svg", `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`, ""},
		{"xml", `<?xml version="1.0"?><note/>`, ""},
		{"shebang", "#!/bin/sh\nrm -rf /\n", ""},
		{"elf", "\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00>\x00", ""},
		{"zip", "PK\x03\x04\x14\x00\x00\x00\x08\x00", ""},
		{"windows exe", "MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff", ""},
		{"nul in text", "hello\x00world", ""},
		{"binary control byte", "abc\x01def", ""},
		{"latin-1 text", "caf\xe9 au lait", ""},
		{"utf-16 text", "\xff\xfeh\x00i\x00", ""},
		{"riff but not webp", "RIFF\x24\x00\x00\x00AVI LIST", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Sniff([]byte(tt.head))
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("Sniff(%q) = %q, %v; want %q", tt.head, got, ok, tt.want)
			}
		})
	}
}

func TestSniff_LooksOnlyAtTheFirstSniffLenBytes(t *testing.T) {
	head := strings.Repeat("a", SniffLen) + "<script>"
	if got, ok := Sniff([]byte(head)); !ok || got != MimeText {
		t.Errorf("Sniff = %q, %v; want text (markup beyond SniffLen is not looked at)", got, ok)
	}
}

func TestTextValidator_StreamsAcrossWrites(t *testing.T) {
	tests := []struct {
		name   string
		pieces []string
		ok     bool
	}{
		{"character split byte by byte", []string{"a\xe2", "\x82", "\xac", "b"}, true},
		{"four-byte character split", []string{"\xf0\x9f", "\x99", "\x82!"}, true},
		{"replacement character split", []string{"\xef\xbf", "\xbd"}, true},
		{"stream ends inside a character", []string{"ab\xe2\x82"}, false},
		{"bad continuation after split", []string{"a\xe2", "A"}, false},
		{"nul in a later write", []string{"hello ", "wor\x00ld"}, false},
		{"invalid byte in a later write", []string{"hello ", "caf\xe9"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v textValidator
			ok := true
			for _, p := range tt.pieces {
				ok = ok && v.write([]byte(p))
			}
			ok = ok && v.finish()
			if ok != tt.ok {
				t.Errorf("valid = %v, want %v", ok, tt.ok)
			}
		})
	}
}
