package docstore

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSafeFileName(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"report.pdf", "report.pdf"},
		{"../../etc/passwd", "passwd"},
		{`C:\Users\ann\scan.jpg`, "scan.jpg"},
		{"dir/sub\\mixed.png", "mixed.png"},
		{".htaccess", "htaccess"},
		{"...", "document"},
		{"", "document"},
		{"   ", "document"},
		{"a\r\nb.txt", "ab.txt"},
		{"tab\tand  spaces .pdf", "tab and spaces .pdf"},
		{`my "quoted" 'file'.pdf`, "my quoted file.pdf"},
		{"Überweisung – März.pdf", "Überweisung – März.pdf"},
		{"診断書.pdf", "診断書.pdf"},
		{"invoice\u202Efdp.exe", "invoicefdp.exe"},
		{"zero\u200Bwidth.txt", "zerowidth.txt"},
		{"x<y>:z|?*.pdf", "x_y__z___.pdf"},
		{"bad\xffname.txt", "badname.txt"},
		{"name.pdf. . ", "name.pdf"},
		{"nul\x00byte.pdf", "nulbyte.pdf"},
	}
	for _, tt := range tests {
		if got := SafeFileName(tt.in); got != tt.want {
			t.Errorf("SafeFileName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSafeFileName_CapsLengthKeepingExtension(t *testing.T) {
	for _, in := range []string{
		strings.Repeat("a", 300) + ".pdf",
		strings.Repeat("ä", 150) + ".pdf",
		strings.Repeat("診", 100) + ".jpeg",
	} {
		got := SafeFileName(in)
		ext := in[strings.LastIndexByte(in, '.'):]
		if len(got) > maxFileNameLen || !utf8.ValidString(got) || !strings.HasSuffix(got, ext) {
			t.Errorf("SafeFileName(%d bytes) = %q (%d bytes); want ≤ %d valid bytes ending %s",
				len(in), got, len(got), maxFileNameLen, ext)
		}
	}
}

func TestContentDisposition(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"report.pdf", `attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`},
		{"Überweisung März.pdf", `attachment; filename="_berweisung M_rz.pdf"; filename*=UTF-8''%C3%9Cberweisung%20M%C3%A4rz.pdf`},
		{"100%.txt", `attachment; filename="100_.txt"; filename*=UTF-8''100%25.txt`},
		{"a\"b;c\r\nd.pdf", `attachment; filename="ab;cd.pdf"; filename*=UTF-8''ab%3Bcd.pdf`},
		{"", `attachment; filename="document"; filename*=UTF-8''document`},
	}
	for _, tt := range tests {
		if got := ContentDisposition(tt.in); got != tt.want {
			t.Errorf("ContentDisposition(%q) =\n  %s\nwant\n  %s", tt.in, got, tt.want)
		}
	}
}
