package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	mrand "math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/app"
	"github.com/carecircle/carecircle/internal/apptest"
	"github.com/carecircle/carecircle/internal/config"
	"github.com/carecircle/carecircle/internal/docstore"
	"github.com/carecircle/carecircle/internal/storage"
	"github.com/carecircle/carecircle/internal/testdb"
)

func init() {
	isolationSetups = append(isolationSetups, func(t *testing.T, f *apptest.Family, ids map[string]string) {
		r := sendUpload(t, f.Caregiver, f.RecipientID, upload{
			fields: [][2]string{{"category", "LEGAL"}, {"name", "Advance directive"}},
			file:   "dnr.pdf", content: strings.NewReader("%PDF-1.7\nDo not resuscitate.\n")})
		if r.Status != 201 {
			t.Fatalf("isolation setup upload: %d %s", r.Status, r.Body)
		}
		ids["document"] = r.Map()["id"].(string)
	})
	isolationCases = append(isolationCases,
		isoCase{"GET", "/api/v1/care-recipients/{recipient}/documents", nil, 200},
		isoCase{"GET", "/api/v1/care-recipients/{recipient}/documents?category=LEGAL", nil, 200},
		// A JSON body is refused as 415 for the owner, after the 404 for
		// everyone else: the recipient is resolved before the body is read.
		isoCase{"POST", "/api/v1/care-recipients/{recipient}/documents", map[string]any{"category": "OTHER"}, 415},
		isoCase{"GET", "/api/v1/documents/{document}", nil, 200},
		isoCase{"GET", "/api/v1/documents/{document}/info", nil, 200},
		isoCase{"PATCH", "/api/v1/documents/{document}", map[string]any{"name": "Hijacked"}, 0},
		isoCase{"DELETE", "/api/v1/documents/{document}", nil, 0},
	)
}

// upload is one multipart request: fields before the file, the file, and
// fields after it. The body is generated while it is sent.
type upload struct {
	fields   [][2]string
	file     string // the part's filename
	partType string // the part's Content-Type (the server must ignore it)
	// disposition, when set, is the file part's whole Content-Disposition.
	disposition string
	content     io.Reader
	noFile      bool
	after       [][2]string
}

// body returns the streaming multipart body and its Content-Type.
func (u upload) body() (io.ReadCloser, string) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := func() error {
			for _, f := range u.fields {
				if err := mw.WriteField(f[0], f[1]); err != nil {
					return err
				}
			}
			if !u.noFile {
				h := textproto.MIMEHeader{}
				h.Set("Content-Disposition", or(u.disposition, fmt.Sprintf(`form-data; name="file"; filename=%q`, u.file)))
				h.Set("Content-Type", or(u.partType, "application/octet-stream"))
				w, err := mw.CreatePart(h)
				if err != nil {
					return err
				}
				if _, err := io.Copy(w, u.content); err != nil {
					return err
				}
			}
			for _, f := range u.after {
				if err := mw.WriteField(f[0], f[1]); err != nil {
					return err
				}
			}
			return mw.Close()
		}()
		pw.CloseWithError(err)
	}()
	return pr, mw.FormDataContentType()
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// sendUpload posts u as c and returns the answer.
func sendUpload(t testing.TB, c *apptest.Client, recipientID string, u upload) *apptest.Response {
	t.Helper()
	r, err := tryUpload(c, recipientID, u)
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	return r
}

// tryUpload is sendUpload reporting transport errors instead of failing.
func tryUpload(c *apptest.Client, recipientID string, u upload) (*apptest.Response, error) {
	body, ct := u.body()
	req, err := http.NewRequest("POST", c.Env.URL+"/api/v1/care-recipients/"+recipientID+"/documents", body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+c.Token)
	return send(req)
}

func send(req *http.Request) (*apptest.Response, error) {
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return &apptest.Response{Status: res.StatusCode, Header: res.Header, Body: b}, err
}

// genReader yields head then pseudo-random bytes up to size, without
// holding the document in memory; the same seed gives the same bytes.
type genReader struct {
	head []byte
	left int64
	rng  *mrand.ChaCha8
}

func gen(head string, size int64, seed byte) *genReader {
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

func pdf(size int64, seed byte) *genReader { return gen("%PDF-1.7\n", size, seed) }

func sha(r io.Reader) string {
	h := sha256.New()
	io.Copy(h, r)
	return hex.EncodeToString(h.Sum(nil))
}

func shaBytes(b []byte) string { return sha(bytes.NewReader(b)) }

// storedFiles lists every regular file under the vault's directory,
// temporary ones included.
func storedFiles(t testing.TB, e *apptest.Env) []string {
	t.Helper()
	var out []string
	root := filepath.Join(e.Dir, "documents")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			out = append(out, strings.TrimPrefix(p, root))
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return out
}

// events returns the family's recorded events of one type, with their data.
func events(t testing.TB, e *apptest.Env, familyID, typ string) []map[string]any {
	t.Helper()
	all, err := e.App.DB.EventsFor(context.Background(), familyID)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, ev := range all {
		if ev.Type != typ {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(ev.Data, &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func download(c *apptest.Client, id string) *apptest.Response {
	return c.Do("GET", "/api/v1/documents/"+id, nil)
}

func TestDocuments_RoundTripGivesIdenticalBytes(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Vault", "Europe/Berlin")
		const size = 300<<10 + 17 // several encrypted chunks
		r := sendUpload(t, f.Caregiver, f.RecipientID, upload{
			fields: [][2]string{{"category", "INSURANCE"}, {"name", "  Insurance card (front)  "}},
			file:   "card.pdf", partType: "image/png", content: pdf(size, 1),
			after: [][2]string{{"expiresAt", "2031-03-01"}}})
		wantStatus(t, r, 201)
		doc := r.Map()
		wantSHA := sha(pdf(size, 1))
		exp := time.Date(2031, 3, 1, 0, 0, 0, 0, mustZone(t, "Europe/Berlin")).UTC().Format(time.RFC3339)
		ub, _ := doc["uploadedBy"].(map[string]any)
		if !strings.HasPrefix(doc["id"].(string), "doc_") || doc["fileName"] != "card.pdf" || doc["name"] != "Insurance card (front)" ||
			doc["category"] != "INSURANCE" || doc["mimeType"] != "application/pdf" || doc["sizeBytes"] != float64(size) ||
			doc["sha256"] != wantSHA || doc["careRecipientId"] != f.RecipientID || doc["expiresAt"] != exp ||
			ub["id"] != f.Caregiver.UserID || ub["fullName"] != f.Caregiver.Name || doc["createdAt"] == nil {
			t.Errorf("upload answer = %v (want sha %s, expiresAt %s)", doc, wantSHA, exp)
		}
		id := doc["id"].(string)
		text := "Dr. Weber: 5 mg Ramipril daily\n"
		r = sendUpload(t, f.Admin, f.RecipientID, upload{after: [][2]string{{"category", "PRESCRIPTION"}},
			file: "ramipril", content: strings.NewReader(text)})
		wantStatus(t, r, 201)
		if m := r.Map(); m["mimeType"] != "text/plain; charset=utf-8" || m["fileName"] != "ramipril.txt" || m["name"] != "ramipril.txt" || m["expiresAt"] != nil {
			t.Errorf("text upload = %v", m)
		}
		textID := r.Map()["id"].(string)

		// List, newest first, and by category; VIEWER may read.
		var list struct{ Items []map[string]any }
		f.Viewer.Do("GET", "/api/v1/care-recipients/"+f.RecipientID+"/documents", nil).Decode(t, &list)
		if len(list.Items) != 2 || list.Items[0]["id"] != textID || list.Items[1]["id"] != id || list.Items[1]["sha256"] != wantSHA {
			t.Errorf("list = %v", list.Items)
		}
		f.Viewer.Do("GET", "/api/v1/care-recipients/"+f.RecipientID+"/documents?category=INSURANCE", nil).Decode(t, &list)
		if len(list.Items) != 1 || list.Items[0]["id"] != id {
			t.Errorf("INSURANCE list = %v", list.Items)
		}
		wantStatus(t, f.Viewer.Do("GET", "/api/v1/care-recipients/"+f.RecipientID+"/documents?category=SECRET", nil), 400)
		info := f.Viewer.Must(200, "GET", "/api/v1/documents/"+id+"/info", nil)
		if info["sha256"] != wantSHA || info["name"] != "Insurance card (front)" {
			t.Errorf("info = %v", info)
		}

		// Download: exact bytes, stored type, attachment, nosniff, length.
		d := download(f.Viewer, id)
		if d.Status != 200 || int64(len(d.Body)) != size || shaBytes(d.Body) != wantSHA {
			t.Fatalf("download: status %d, %d bytes, sha %s; want %d bytes sha %s", d.Status, len(d.Body), shaBytes(d.Body), size, wantSHA)
		}
		if d.Header.Get("Content-Type") != "application/pdf" || d.Header.Get("X-Content-Type-Options") != "nosniff" ||
			d.Header.Get("Content-Length") != fmt.Sprint(size) ||
			!strings.HasPrefix(d.Header.Get("Content-Disposition"), `attachment; filename="card.pdf"`) ||
			d.Header.Get("Cache-Control") != "private, no-store" {
			t.Errorf("download headers = %v", d.Header)
		}
		if d := download(f.Caregiver, textID); d.Status != 200 || string(d.Body) != text || d.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Errorf("text download = %d %q %v", d.Status, d.Body, d.Header)
		}

		// Events: uploaded (with what a notification needs) and one audit
		// event per download, naming the reader.
		up := events(t, e, f.ID, carecircle.EventDocumentUploaded)
		if len(up) != 2 || up[0]["documentId"] != id || up[0]["name"] != "Insurance card (front)" || up[0]["category"] != "INSURANCE" ||
			up[0]["careRecipientId"] != f.RecipientID || up[0]["uploadedByName"] != f.Caregiver.Name {
			t.Errorf("document.uploaded events = %v", up)
		}
		reads := events(t, e, f.ID, carecircle.EventDocumentRead)
		if len(reads) != 2 || reads[0]["documentId"] != id || reads[0]["downloadedById"] != f.Viewer.UserID ||
			reads[0]["downloadedByName"] != f.Viewer.Name || reads[0]["category"] != "INSURANCE" || reads[1]["documentId"] != textID {
			t.Errorf("download events = %v", reads)
		}

		// Delete removes the row and the stored object.
		if n := len(storedFiles(t, e)); n != 2 {
			t.Fatalf("%d stored files, want 2", n)
		}
		wantStatus(t, f.Caregiver.Do("DELETE", "/api/v1/documents/"+id, nil), 204)
		if files := storedFiles(t, e); len(files) != 1 || !strings.HasSuffix(files[0], textID) {
			t.Errorf("stored files after delete = %v", files)
		}
		wantStatus(t, download(f.Admin, id), 404)
		wantStatus(t, f.Admin.Do("GET", "/api/v1/documents/"+id+"/info", nil), 404)
		wantStatus(t, f.Admin.Do("DELETE", "/api/v1/documents/"+id, nil), 404)
		f.Viewer.Do("GET", "/api/v1/care-recipients/"+f.RecipientID+"/documents", nil).Decode(t, &list)
		if len(list.Items) != 1 {
			t.Errorf("list after delete = %v", list.Items)
		}
		if del := events(t, e, f.ID, carecircle.EventDocumentDeleted); len(del) != 1 || del[0]["documentId"] != id || del[0]["deletedById"] != f.Caregiver.UserID {
			t.Errorf("document.deleted events = %v", del)
		}
	})
}

func TestDocuments_S3RoundTripAndDeleteRemovesObject(t *testing.T) {
	mem := s3mem.New()
	srv := httptest.NewServer(gofakes3.New(mem).Server())
	t.Cleanup(srv.Close)
	const bucket = "carecircle-vault"
	if err := mem.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	objects := func() map[string][]byte {
		list, err := mem.ListBucket(bucket, nil, gofakes3.ListBucketPage{})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]byte{}
		for _, c := range list.Contents {
			o, err := mem.GetObject(bucket, c.Key, nil)
			if err != nil {
				t.Fatal(err)
			}
			out[c.Key], _ = io.ReadAll(o.Contents)
			o.Contents.Close()
		}
		return out
	}
	e := apptest.New(t, apptest.Options{Env: map[string]string{"AWS_S3_BUCKET": bucket, "AWS_S3_ENDPOINT": srv.URL,
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}})
	f := e.NewFamily("Cloud", "America/Chicago")
	const marker = "MARKER-7f3a9c-lab-results-potassium-5.9"
	cases := []struct {
		name    string
		content func() io.Reader
		size    int64
	}{
		{"small text", func() io.Reader { return strings.NewReader("Potassium: " + marker + "\n") }, int64(len("Potassium: " + marker + "\n"))},
		{"multipart-sized pdf", func() io.Reader { return pdf(11<<20+5, 9) }, 11<<20 + 5}, // three S3 parts
	}
	for _, c := range cases {
		r := sendUpload(t, f.Caregiver, f.RecipientID, upload{fields: [][2]string{{"category", "MEDICAL"}}, file: c.name, content: c.content()})
		wantStatus(t, r, 201)
		id := r.Map()["id"].(string)
		key := f.ID + "/" + id
		stored, ok := objects()[key]
		if !ok {
			t.Fatalf("%s: no object %s in the bucket", c.name, key)
		}
		// Any 32 bytes of the document, found in ciphertext, would be
		// plaintext (a shorter needle, like "%PDF", turns up by chance in
		// 11 MB of random bytes about once in 400 runs).
		plain, _ := io.ReadAll(c.content())
		for _, at := range []int{0, (len(plain) - 32) / 2, len(plain) - 32} {
			if bytes.Contains(stored, plain[at:at+32]) {
				t.Errorf("%s: the object holds plaintext (bytes %d–%d of the document)", c.name, at, at+32)
			}
		}
		if bytes.Contains(stored, []byte(marker)) {
			t.Errorf("%s: the object holds the marker in plaintext", c.name)
		}
		d := download(f.Viewer, id)
		if d.Status != 200 || int64(len(d.Body)) != c.size || shaBytes(d.Body) != sha(c.content()) || r.Map()["sha256"] != sha(c.content()) {
			t.Errorf("%s: download %d, %d bytes, sha %s, want %d bytes sha %s", c.name, d.Status, len(d.Body), shaBytes(d.Body), c.size, sha(c.content()))
		}
		wantStatus(t, f.Admin.Do("DELETE", "/api/v1/documents/"+id, nil), 204)
		if _, ok := objects()[key]; ok {
			t.Errorf("%s: object %s still in the bucket after delete", c.name, key)
		}
	}
	if n := len(objects()); n != 0 {
		t.Errorf("%d objects left in the bucket", n)
	}
}

func TestDocuments_EncryptedAtRestAndTamperingDetected(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Secret", "UTC")
		const marker = "MARKER-d41d8c-DNR-signed-by-Margaret"
		text := strings.Repeat("Advance directive. "+marker+"\n", 5000) // several chunks
		r := sendUpload(t, f.Caregiver, f.RecipientID, upload{fields: [][2]string{{"category", "LEGAL"}, {"name", "Directive"}},
			file: "directive.txt", content: strings.NewReader(text)})
		wantStatus(t, r, 201)
		id := r.Map()["id"].(string)
		small := sendUpload(t, f.Caregiver, f.RecipientID, upload{fields: [][2]string{{"category", "LEGAL"}},
			file: "short.txt", content: strings.NewReader("short " + marker)})
		wantStatus(t, small, 201)
		smallID := small.Map()["id"].(string)

		// No file under DATA_DIR (database included) holds the marker.
		err := filepath.WalkDir(e.Dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if bytes.Contains(b, []byte(marker)) {
				t.Errorf("%s holds the plaintext marker", p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if d := download(f.Viewer, id); d.Status != 200 || string(d.Body) != text {
			t.Fatalf("intact download: %d, %d bytes", d.Status, len(d.Body))
		}
		readsBefore := len(events(t, e, f.ID, carecircle.EventDocumentRead))

		// One flipped byte anywhere (the last chunk here, the middle of the
		// short one) is detected before anything is sent.
		for _, tc := range []struct {
			id  string
			pos func(n int) int
		}{{id, func(n int) int { return n - 3 }}, {smallID, func(n int) int { return n / 2 }}} {
			path := filepath.Join(e.Dir, "documents", f.ID, tc.id)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			b[tc.pos(len(b))] ^= 0x01
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			d := download(f.Viewer, tc.id)
			wantStatus(t, d, 500)
			if bytes.Contains(d.Body, []byte(marker)) || bytes.Contains(d.Body, []byte("Advance")) ||
				!strings.Contains(fmt.Sprint(d.Map()["message"]), "integrity") || d.Header.Get("Content-Disposition") != "" {
				t.Errorf("tampered download answered %s %v", d.Body, d.Header)
			}
		}
		if n := len(events(t, e, f.ID, carecircle.EventDocumentRead)); n != readsBefore {
			t.Errorf("a refused download was recorded as read (%d events, want %d)", n, readsBefore)
		}
		// A missing file is reported the same way.
		if err := os.Remove(filepath.Join(e.Dir, "documents", f.ID, id)); err != nil {
			t.Fatal(err)
		}
		wantStatus(t, download(f.Viewer, id), 500)
	})
}

func TestDocuments_TypeComesFromContent(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Types", "UTC")
		elf := append([]byte("\x7fELF\x02\x01\x01\x00"), bytes.Repeat([]byte{0}, 600)...)
		refused := []struct{ name, file, content string }{
			{"HTML named .pdf", "report.pdf", "<!DOCTYPE html><html><script>alert(1)</script></html>"},
			{"ELF named .pdf", "scan.pdf", string(elf)},
			{"SVG named .png", "photo.png", `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`},
			{"zip named .jpg", "card.jpg", "PK\x03\x04" + strings.Repeat("\x00", 100)},
			{"latin-1 text", "note.txt", "Gr\xfc\xdfe aus M\xfcnchen"},
			{"text turning binary after the sniffed head", "log.txt", strings.Repeat("fine text\n", 200) + "\x00\x01\x02"},
		}
		for _, c := range refused {
			for _, partType := range []string{"application/pdf", "text/plain"} {
				r := sendUpload(t, f.Caregiver, f.RecipientID, upload{fields: [][2]string{{"category", "MEDICAL"}},
					file: c.file, partType: partType, content: strings.NewReader(c.content)})
				if r.Status != 415 {
					t.Errorf("%s (part type %s): status %d, want 415: %s", c.name, partType, r.Status, r.Body)
				} else {
					wantStatus(t, r, 415)
				}
			}
		}
		if files := storedFiles(t, e); len(files) != 0 {
			t.Errorf("refused uploads left files: %v", files)
		}
		var list struct{ Items []any }
		f.Admin.Do("GET", "/api/v1/care-recipients/"+f.RecipientID+"/documents", nil).Decode(t, &list)
		if len(list.Items) != 0 || len(events(t, e, f.ID, carecircle.EventDocumentUploaded)) != 0 {
			t.Errorf("refused uploads left rows or events: %v", list.Items)
		}

		// Every allowed type, whatever it is called; a name whose extension
		// disagrees with the content gets the right one added.
		heic := "\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + strings.Repeat("\x00", 40)
		allowed := []struct{ file, content, mime, fileName, disposition string }{
			{"a.pdf", "%PDF-1.4\n%âãÏÓ\n", "application/pdf", "a.pdf", ""},
			{"photo.JPEG", "\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg", "photo.JPEG", ""},
			{"x.png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png", "x.png", ""},
			{"x.webp", "RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp", "x.webp", ""},
			{"IMG_0001.HEIC", heic, "image/heic", "IMG_0001.HEIC", ""},
			{"x.gif", "GIF89a\x01\x00\x01\x00", "image/gif", "x.gif", ""},
			{"notes.md", "# Notes\nBP 130/85 — fine 👍\n", "text/plain; charset=utf-8", "notes.md", ""},
			{"page.html", "plain words, no markup\n", "text/plain; charset=utf-8", "page.html.txt", ""},
			{"scan.exe", "%PDF-1.7\n", "application/pdf", "scan.exe.pdf", ""},
			{`..\..\windows\system32\evil".pdf`, "%PDF-1.7\n", "application/pdf", "evil.pdf", ""},
			{"../../etc/passwd", "root:x:0:0\n", "text/plain; charset=utf-8", "passwd.txt", ""},
			// RFC 2231 lets a name carry CR LF; it must not reach a header.
			{"injection", "%PDF-1.7\n", "application/pdf", "lineX-Injected_ yes.pdf",
				`form-data; name="file"; filename*=UTF-8''line%0D%0AX-Injected%3A%20yes.pdf`},
			{"no name at all", "GIF89a\x01\x00\x01\x00", "image/gif", "document.gif", `form-data; name="file"`},
		}
		for _, c := range allowed {
			r := sendUpload(t, f.Caregiver, f.RecipientID, upload{fields: [][2]string{{"category", "OTHER"}},
				file: c.file, disposition: c.disposition, partType: "text/html", content: strings.NewReader(c.content)})
			if r.Status != 201 {
				t.Errorf("%q: status %d: %s", c.file, r.Status, r.Body)
				continue
			}
			m := r.Map()
			if m["mimeType"] != c.mime || m["fileName"] != c.fileName {
				t.Errorf("%q: mimeType %v fileName %q, want %s %q", c.file, m["mimeType"], m["fileName"], c.mime, c.fileName)
			}
			d := download(f.Viewer, m["id"].(string))
			cd := d.Header.Get("Content-Disposition")
			if d.Status != 200 || string(d.Body) != c.content || d.Header.Get("Content-Type") != c.mime ||
				!strings.HasPrefix(cd, "attachment; ") || strings.ContainsAny(cd, "\r\n/\\") || len(d.Header.Values("X-Injected")) != 0 {
				t.Errorf("%q: download %d, type %s, disposition %q", c.file, d.Status, d.Header.Get("Content-Type"), cd)
			}
		}
	})
}

func TestDocuments_TooLargeIsRefusedWhileStreaming(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Big", "UTC")
		const over = 26 << 20
		// Streamed (chunked, no length announced): found while reading.
		r, err := tryUpload(f.Caregiver, f.RecipientID, upload{fields: [][2]string{{"category", "MEDICAL"}}, file: "mri.pdf", content: pdf(over, 3)})
		if err != nil {
			t.Fatalf("streamed oversized upload: the client got no answer: %v", err)
		}
		wantStatus(t, r, 413)
		if !strings.Contains(fmt.Sprint(r.Map()["message"]), "25 MiB") {
			t.Errorf("413 message = %v", r.Map()["message"])
		}
		// Announced by Content-Length: refused before the body is read.
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("category", "MEDICAL")
		w, _ := mw.CreateFormFile("file", "mri.pdf")
		io.Copy(w, pdf(over, 4))
		mw.Close()
		req, _ := http.NewRequest("POST", e.URL+"/api/v1/care-recipients/"+f.RecipientID+"/documents", bytes.NewReader(buf.Bytes()))
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+f.Caregiver.Token)
		r, err = send(req)
		if err != nil {
			t.Fatalf("announced oversized upload: the client got no answer: %v", err)
		}
		wantStatus(t, r, 413)
		// A big field instead of a big file is bounded too.
		r = sendUpload(t, f.Caregiver, f.RecipientID, upload{fields: [][2]string{{"category", "MEDICAL"}, {"name", strings.Repeat("x", 5000)}},
			file: "a.pdf", content: strings.NewReader("%PDF-1.7\n")})
		wantStatus(t, r, 400)

		if files := storedFiles(t, e); len(files) != 0 {
			t.Errorf("oversized uploads left files: %v", files)
		}
		if n := len(events(t, e, f.ID, carecircle.EventDocumentUploaded)); n != 0 {
			t.Errorf("oversized uploads recorded %d events", n)
		}
		// Exactly the limit is accepted.
		r = sendUpload(t, f.Caregiver, f.RecipientID, upload{fields: [][2]string{{"category", "MEDICAL"}}, file: "mri.pdf", content: pdf(25<<20, 5)})
		wantStatus(t, r, 201)
		if r.Map()["sizeBytes"] != float64(25<<20) || r.Map()["sha256"] != sha(pdf(25<<20, 5)) {
			t.Errorf("25 MiB upload = %v", r.Map())
		}
	})
}

func TestDocuments_UploadLimitIsConfigurable(t *testing.T) {
	e := apptest.New(t, apptest.Options{Env: map[string]string{"UPLOAD_LIMIT_MB": "1"}})
	f := e.NewFamily("Small", "UTC")
	r := sendUpload(t, f.Caregiver, f.RecipientID, upload{fields: [][2]string{{"category", "OTHER"}}, file: "a.pdf", content: pdf(1<<20+1, 1)})
	wantStatus(t, r, 413)
	if !strings.Contains(fmt.Sprint(r.Map()["message"]), "1 MiB") {
		t.Errorf("413 message = %v", r.Map()["message"])
	}
	wantStatus(t, sendUpload(t, f.Caregiver, f.RecipientID, upload{fields: [][2]string{{"category", "OTHER"}}, file: "a.pdf", content: pdf(1<<20, 1)}), 201)
}

// TestDocuments_ConcurrentLargeUploadsKeepHeapBounded sends eight 25 MiB
// uploads at once through the real HTTP handler and samples the heap: the
// upload path must stream, never buffer a file.
func TestDocuments_ConcurrentLargeUploadsKeepHeapBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads 200 MiB")
	}
	const (
		uploads = 8
		size    = 25 << 20
		bound   = 64 << 20
	)
	e := apptest.New(t, apptest.Options{})
	f := e.NewFamily("Heap", "UTC")
	// Warm up: the family key, connections, the first allocations.
	wantStatus(t, sendUpload(t, f.Caregiver, f.RecipientID, upload{fields: [][2]string{{"category", "OTHER"}}, file: "w.pdf", content: pdf(1<<20, 99)}), 201)

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	stop, peak := make(chan struct{}), make(chan uint64)
	go func() {
		var m runtime.MemStats
		var max uint64
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&m)
			max = maxU(max, m.HeapInuse)
			select {
			case <-stop:
				peak <- max
				return
			case <-tick.C:
			}
		}
	}()
	start := time.Now()
	results := make([]*apptest.Response, uploads)
	errs := make([]error, uploads)
	var wg sync.WaitGroup
	for i := range uploads {
		wg.Go(func() {
			results[i], errs[i] = tryUpload(f.Caregiver, f.RecipientID, upload{fields: [][2]string{{"category", "MEDICAL"}},
				file: fmt.Sprintf("scan-%d.pdf", i), content: pdf(size, byte(i))})
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stop)
	maxInuse := <-peak
	growth := int64(maxInuse) - int64(before.HeapInuse)
	t.Logf("%d concurrent %d MiB uploads over HTTP in %v: HeapInuse before %.1f MiB, peak %.1f MiB, growth %.1f MiB",
		uploads, size>>20, elapsed.Round(time.Millisecond), float64(before.HeapInuse)/(1<<20), float64(maxInuse)/(1<<20), float64(growth)/(1<<20))
	for i := range uploads {
		if errs[i] != nil {
			t.Fatalf("upload %d: %v", i, errs[i])
		}
		if results[i].Status != 201 || results[i].Map()["sha256"] != sha(pdf(size, byte(i))) {
			t.Errorf("upload %d: %d %.200s", i, results[i].Status, results[i].Body)
		}
	}
	if growth > bound {
		t.Errorf("heap grew by %.1f MiB during the uploads, want < %d MiB", float64(growth)/(1<<20), bound>>20)
	}
}

func maxU(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

func TestDocuments_RolesDecideWhoMayDoWhat(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Roles", "UTC")
		other := e.Register("Second Caregiver")
		f.Admin.Invite(f.ID, other, carecircle.RoleCaregiver)
		pdfDoc := func() upload {
			return upload{fields: [][2]string{{"category", "MEDICAL"}}, file: "labs.pdf", content: strings.NewReader("%PDF-1.7\nlabs\n")}
		}
		wantStatus(t, sendUpload(t, f.Viewer, f.RecipientID, pdfDoc()), 403)
		wantStatus(t, e.Anon().Do("GET", "/api/v1/care-recipients/"+f.RecipientID+"/documents", nil), 401)
		r, err := tryUpload(e.Anon(), f.RecipientID, pdfDoc())
		if err != nil {
			t.Fatal(err)
		}
		wantStatus(t, r, 401)
		r = sendUpload(t, f.Caregiver, f.RecipientID, pdfDoc())
		wantStatus(t, r, 201)
		id := r.Map()["id"].(string)
		wantStatus(t, e.Anon().Do("GET", "/api/v1/documents/"+id, nil), 401)
		if files := storedFiles(t, e); len(files) != 1 {
			t.Errorf("a refused upload stored a file: %v", files)
		}

		// VIEWER reads; only the uploader or an ADMIN changes or deletes.
		f.Viewer.Must(200, "GET", "/api/v1/care-recipients/"+f.RecipientID+"/documents", nil)
		if d := download(f.Viewer, id); d.Status != 200 {
			t.Errorf("VIEWER download: %d", d.Status)
		}
		for _, c := range []*apptest.Client{f.Viewer, other} {
			wantStatus(t, c.Do("PATCH", "/api/v1/documents/"+id, map[string]any{"name": "Mine now"}), 403)
			wantStatus(t, c.Do("DELETE", "/api/v1/documents/"+id, nil), 403)
		}
		m := f.Caregiver.Must(200, "PATCH", "/api/v1/documents/"+id, map[string]any{"name": "Lab results March", "category": "PRESCRIPTION", "expiresAt": "2030-01-31T12:00:00+01:00"})
		if m["name"] != "Lab results March" || m["category"] != "PRESCRIPTION" || m["expiresAt"] != "2030-01-31T11:00:00Z" || m["fileName"] != "labs.pdf" {
			t.Errorf("patched = %v", m)
		}
		m = f.Admin.Must(200, "PATCH", "/api/v1/documents/"+id, map[string]any{"name": "", "expiresAt": ""})
		if m["name"] != "labs.pdf" || m["expiresAt"] != nil || m["category"] != "PRESCRIPTION" {
			t.Errorf("reset = %v", m)
		}
		if ev := events(t, e, f.ID, "document.updated"); len(ev) != 2 || ev[0]["previousName"] != "labs.pdf" || ev[0]["editedById"] != f.Caregiver.UserID {
			t.Errorf("document.updated events = %v", ev)
		}
		for _, bad := range []map[string]any{{"category": "SECRET"}, {"expiresAt": "next week"}, {"expiresAt": "2030-02-30"},
			{"name": "a\u202egnp.exe"}, {"name": strings.Repeat("n", 201)}, {"expiresAt": "1850-01-01"}} {
			wantStatus(t, f.Admin.Do("PATCH", "/api/v1/documents/"+id, bad), 400)
		}
		// The uploader, demoted to VIEWER, may no longer change it; an
		// ADMIN deletes it.
		f.Admin.Must(200, "PATCH", "/api/v1/families/"+f.ID+"/members/"+f.Caregiver.UserID, map[string]any{"role": "VIEWER"})
		wantStatus(t, f.Caregiver.Do("DELETE", "/api/v1/documents/"+id, nil), 403)
		wantStatus(t, f.Admin.Do("DELETE", "/api/v1/documents/"+id, nil), 204)
		if files := storedFiles(t, e); len(files) != 0 {
			t.Errorf("files after delete: %v", files)
		}
	})
}

func TestDocuments_BadUploadsGetClearMessagesAndLeaveNothing(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Bad", "UTC")
		doc := func() io.Reader { return strings.NewReader("%PDF-1.7\nok\n") }
		cases := []struct {
			name string
			u    upload
			want int
			msg  string
		}{
			{"no category", upload{file: "a.pdf", content: doc()}, 400, "category should not be empty"},
			{"bad category before the file", upload{fields: [][2]string{{"category", "SECRET"}}, file: "a.pdf", content: doc()}, 400, "category must be one of"},
			{"bad category after the file", upload{after: [][2]string{{"category", "SECRET"}}, file: "a.pdf", content: doc()}, 400, "category must be one of"},
			{"bad expiresAt after the file", upload{fields: [][2]string{{"category", "LEGAL"}}, after: [][2]string{{"expiresAt", "soon"}}, file: "a.pdf", content: doc()}, 400, "expiresAt must be"},
			{"hidden characters in the name after the file", upload{fields: [][2]string{{"category", "LEGAL"}}, after: [][2]string{{"name", "fdp.exe\u202e"}}, file: "a.pdf", content: doc()}, 400, "name must not contain"},
			{"no file", upload{fields: [][2]string{{"category", "LEGAL"}}, noFile: true}, 400, "file should not be empty"},
			{"empty file", upload{fields: [][2]string{{"category", "LEGAL"}}, file: "a.pdf", content: strings.NewReader("")}, 400, "file is empty"},
			{"two files", upload{fields: [][2]string{{"category", "LEGAL"}}, file: "a.pdf", content: doc(),
				after: [][2]string{{"file", "%PDF-1.7\nsecond"}}}, 400, "one file"},
		}
		for _, c := range cases {
			r := sendUpload(t, f.Caregiver, f.RecipientID, c.u)
			if r.Status != c.want || !strings.Contains(strings.Join(messages(r), "|"), c.msg) {
				t.Errorf("%s: %d %s, want %d with %q", c.name, r.Status, r.Body, c.want, c.msg)
			}
		}

		// Not multipart, no boundary, a body cut short.
		path := "/api/v1/care-recipients/" + f.RecipientID + "/documents"
		wantStatus(t, f.Caregiver.Do("POST", path, map[string]any{"file": "x", "category": "LEGAL"}), 415)
		raw := func(ct, body string) *apptest.Response {
			req, _ := http.NewRequest("POST", e.URL+path, strings.NewReader(body))
			req.Header.Set("Content-Type", ct)
			req.Header.Set("Authorization", "Bearer "+f.Caregiver.Token)
			return e.Send(req)
		}
		wantStatus(t, raw("multipart/form-data", "--x\r\n"), 400)
		wantStatus(t, raw("multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"category\"\r\n\r\nLEGAL\r\n"+
			"--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n%PDF-1.7\n"+strings.Repeat("cut short ", 10000)), 400)
		wantStatus(t, raw("multipart/form-data; boundary=x", "garbage without any boundary"), 400)
		wantStatus(t, raw("text/plain", "%PDF-1.7"), 415)

		if files := storedFiles(t, e); len(files) != 0 {
			t.Errorf("bad uploads left files: %v", files)
		}
		if n := len(events(t, e, f.ID, carecircle.EventDocumentUploaded)); n != 0 {
			t.Errorf("bad uploads recorded %d events", n)
		}
		// Fields before or after, unknown fields ignored.
		r := sendUpload(t, f.Caregiver, f.RecipientID, upload{fields: [][2]string{{"submit", "Upload"}, {"expiresAt", "2030-05-01T00:00:00Z"}},
			file: "a.pdf", content: doc(), after: [][2]string{{"category", "IDENTIFICATION"}, {"name", "Passport"}}})
		wantStatus(t, r, 201)
		if m := r.Map(); m["category"] != "IDENTIFICATION" || m["name"] != "Passport" || m["expiresAt"] != "2030-05-01T00:00:00Z" {
			t.Errorf("fields after the file = %v", m)
		}
	})
}

// TestDocuments_EmptyFileIsAFieldError checks an empty file is answered like
// every other validation error: a message list naming the file field.
func TestDocuments_EmptyFileIsAFieldError(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Empty", "UTC")
		r := sendUpload(t, f.Caregiver, f.RecipientID, upload{fields: [][2]string{{"category", "LEGAL"}},
			file: "a.pdf", content: strings.NewReader("")})
		wantError(t, r, 400, "file")
	})
}

// TestDocuments_FailedCommitRemovesTheFile makes the row's transaction fail
// (its event can't be recorded, as with a lost connection) and checks the
// stored file goes with it.
func TestDocuments_FailedCommitRemovesTheFile(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Rollback", "UTC")
		driver, url := "sqlite", "file:"+e.DBURL+"?_pragma=busy_timeout(10000)"
		ddl := []string{`CREATE TRIGGER refuse_uploads BEFORE INSERT ON events WHEN NEW.type = 'document.uploaded'
		BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`}
		if e.App.DB.Dialect == storage.Postgres {
			driver, url = "pgx", e.DBURL
			ddl = []string{`CREATE FUNCTION refuse_uploads() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN
				IF NEW.type = 'document.uploaded' THEN RAISE EXCEPTION 'refused by the test'; END IF;
				RETURN NEW;
			END $$`,
				`CREATE TRIGGER refuse_uploads BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse_uploads()`}
		}
		raw, err := sql.Open(driver, url)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		for _, q := range ddl {
			if _, err := raw.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		r := sendUpload(t, f.Caregiver, f.RecipientID, upload{fields: [][2]string{{"category", "OTHER"}}, file: "a.pdf", content: pdf(200<<10, 1)})
		wantStatus(t, r, 500)
		if files := storedFiles(t, e); len(files) != 0 {
			t.Errorf("a failed commit left files: %v", files)
		}
		var list struct{ Items []any }
		f.Admin.Do("GET", "/api/v1/care-recipients/"+f.RecipientID+"/documents", nil).Decode(t, &list)
		if len(list.Items) != 0 {
			t.Errorf("a failed commit left rows: %v", list.Items)
		}
	})
}

func TestDocuments_FirstUploadsOfAFamilyShareOneKey(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Race", "UTC")
		const n = 6
		ids := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				r, err := tryUpload(f.Caregiver, f.RecipientID, upload{fields: [][2]string{{"category", "OTHER"}},
					file: "a.pdf", content: pdf(100<<10, byte(i))})
				if err == nil && r.Status == 201 {
					ids[i] = r.Map()["id"].(string)
				}
			})
		}
		wg.Wait()
		for i, id := range ids {
			if id == "" {
				t.Fatalf("upload %d failed", i)
			}
			if d := download(f.Viewer, id); d.Status != 200 || shaBytes(d.Body) != sha(pdf(100<<10, byte(i))) {
				t.Errorf("document %d: download %d", i, d.Status)
			}
		}
	})
}

func TestDocuments_EmergencyInfoListsKeyDocumentsWithExpiryWarnings(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("ER", "America/New_York")
		now := time.Now().UTC()
		up := func(category, name, expires string) string {
			u := upload{fields: [][2]string{{"category", category}, {"name", name}}, file: name + ".pdf", content: strings.NewReader("%PDF-1.7\n")}
			if expires != "" {
				u.fields = append(u.fields, [2]string{"expiresAt", expires})
			}
			r := sendUpload(t, f.Caregiver, f.RecipientID, u)
			wantStatus(t, r, 201)
			return r.Map()["id"].(string)
		}
		soon := up("INSURANCE", "Insurance card", now.Add(10*24*time.Hour).Format(time.RFC3339))
		expired := up("IDENTIFICATION", "Passport", now.Add(-48*time.Hour).Format("2006-01-02"))
		later := up("INSURANCE", "Dental plan", now.Add(90*24*time.Hour).Format(time.RFC3339))
		dnr := up("LEGAL", "DNR", "")
		up("OTHER", "Birthday card", now.Add(24*time.Hour).Format(time.RFC3339))
		meds := up("PRESCRIPTION", "Warfarin prescription", "")
		labs := up("MEDICAL", "Lab results", "")

		info := f.Viewer.Must(200, "GET", "/api/v1/care-recipients/"+f.RecipientID+"/emergency-info", nil)
		docs := info["documents"].([]any)
		got := map[string]map[string]any{}
		var order []string
		for _, d := range docs {
			m := d.(map[string]any)
			got[m["id"].(string)] = m
			order = append(order, m["category"].(string))
		}
		if len(docs) != 6 {
			t.Fatalf("documents = %v, want the 6 key documents (not OTHER)", docs)
		}
		if strings.Join(order, ",") != "INSURANCE,INSURANCE,IDENTIFICATION,LEGAL,MEDICAL,PRESCRIPTION" {
			t.Errorf("order = %v", order)
		}
		if d := got[soon]; d["expiringSoon"] != true || d["expired"] != false || !strings.Contains(fmt.Sprint(d["warning"]), "expires on") ||
			!strings.Contains(fmt.Sprint(d["warning"]), "in 10 days") || d["name"] != "Insurance card" || d["fileName"] != "Insurance card.pdf" {
			t.Errorf("expiring document = %v", d)
		}
		if d := got[expired]; d["expiringSoon"] != true || d["expired"] != true || !strings.HasPrefix(fmt.Sprint(d["warning"]), "expired on") {
			t.Errorf("expired document = %v", d)
		}
		for _, id := range []string{later, dnr, meds, labs} {
			if d := got[id]; d == nil || d["expiringSoon"] != false || d["expired"] != false || d["warning"] != nil {
				t.Errorf("document %s = %v, want no warning", id, d)
			}
		}
		if got[dnr]["expiresAt"] != nil || got[later]["expiresAt"] == nil {
			t.Errorf("expiresAt: dnr %v, later %v", got[dnr]["expiresAt"], got[later]["expiresAt"])
		}
		// A deleted document leaves the page.
		wantStatus(t, f.Admin.Do("DELETE", "/api/v1/documents/"+dnr, nil), 204)
		info = f.Viewer.Must(200, "GET", "/api/v1/care-recipients/"+f.RecipientID+"/emergency-info", nil)
		if n := len(info["documents"].([]any)); n != 5 {
			t.Errorf("%d documents after a delete, want 5", n)
		}
	})
}

func TestDocuments_OpenAPIListsUploadAndDownload(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
			RequestBody *struct {
				Content map[string]any `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
	}
	e.Anon().Do("GET", "/api/docs/openapi.json", nil).Decode(t, &doc)
	up := doc.Paths["/care-recipients/{id}/documents"]["post"]
	if up.OperationID != "uploadDocument" || up.RequestBody == nil || up.RequestBody.Content["multipart/form-data"] == nil {
		t.Errorf("upload operation = %+v", up)
	}
	for path, method := range map[string]string{"/documents/{id}": "get", "/documents/{id}/info": "get",
		"/care-recipients/{id}/documents": "get"} {
		if doc.Paths[path][method].OperationID == "" {
			t.Errorf("%s %s missing from the OpenAPI document", method, path)
		}
	}
	if page := e.Anon().Do("GET", "/api/docs", nil); !strings.Contains(page.String(), "uploadDocument") {
		t.Error("the docs page does not list the upload")
	}
}

// TestRotateKey_DocumentsReadableWithNewKeyOnly rotates the master key in
// both modes (the key file under DATA_DIR; a key from the environment),
// restarts on the new key and reads every document; the old key no longer
// starts the server.
func TestRotateKey_DocumentsReadableWithNewKeyOnly(t *testing.T) {
	for _, d := range testdb.Dialects() {
		modes := []string{"key file", "environment"}
		if d == storage.Postgres {
			modes = modes[1:] // scale-out mode always takes the key from the environment
		}
		for _, mode := range modes {
			t.Run(string(d)+"/"+mode, func(t *testing.T) { rotateKeyRoundTrip(t, d, mode) })
		}
	}
}

func rotateKeyRoundTrip(t *testing.T, dialect storage.Dialect, mode string) {
	dir := t.TempDir()
	env := map[string]string{}
	if mode == "key file" {
		env["ENCRYPTION_KEY"] = "" // embedded mode generates and keeps one
	}
	e := apptest.New(t, apptest.Options{Dialect: dialect, DataDir: dir, Env: env})
	docs := map[string]string{} // id -> sha
	var fams []*apptest.Family
	for i, name := range []string{"Ash", "Birch"} {
		f := e.NewFamily(name, "UTC")
		fams = append(fams, f)
		for j := range 2 {
			r := sendUpload(t, f.Caregiver, f.RecipientID, upload{fields: [][2]string{{"category", "LEGAL"}},
				file: "d.pdf", content: pdf(int64(70<<10*(j+1)), byte(10*i+j))})
			wantStatus(t, r, 201)
			docs[r.Map()["id"].(string)] = r.Map()["sha256"].(string)
		}
	}
	oldKey := e.App.Cfg.EncryptionKey
	cfgEnv := map[string]string{"DATA_DIR": dir, "DATABASE_URL": e.DBURL, "JWT_SECRET": "test-secret-test-secret-test-secret-0123456789"}
	if mode == "environment" {
		cfgEnv["ENCRYPTION_KEY"] = oldKey
	}
	cfg, err := config.Load(func(k string) string { return cfgEnv[k] })
	if err != nil {
		t.Fatal(err)
	}
	newKey := ""
	if mode == "environment" {
		newKey = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="
	}
	var out bytes.Buffer
	if err := app.RotateKey(context.Background(), cfg, newKey, &out); err != nil {
		t.Fatalf("rotate-key: %v", err)
	}
	t.Logf("rotate-key said: %s", out.String())
	if !strings.Contains(out.String(), "Rewrapped 2 family keys") {
		t.Errorf("rotate-key output = %q", out.String())
	}
	if mode == "key file" {
		b, err := os.ReadFile(filepath.Join(dir, "secrets", "encryption_key"))
		if err != nil {
			t.Fatal(err)
		}
		newKey = strings.TrimSpace(string(b))
		olds, _ := filepath.Glob(filepath.Join(dir, "secrets", "encryption_key.old-*"))
		if newKey == oldKey || len(olds) != 1 {
			t.Fatalf("key file not replaced (old kept: %v)", olds)
		}
		if b, _ := os.ReadFile(olds[0]); strings.TrimSpace(string(b)) != oldKey {
			t.Errorf("the kept old key is not the old key")
		}
	}

	// Restart with the new key: every document reads back.
	restartEnv := map[string]string{"ENCRYPTION_KEY": newKey}
	if mode == "key file" {
		restartEnv["ENCRYPTION_KEY"] = "" // read from the replaced file
	}
	e2 := apptest.New(t, apptest.Options{Dialect: dialect, DataDir: dir, DatabaseURL: e.DBURL, Env: restartEnv})
	for _, f := range fams {
		c := &apptest.Client{Env: e2, Email: f.Viewer.Email, Password: f.Viewer.Password}
		c.Login()
		var list struct{ Items []map[string]any }
		c.Do("GET", "/api/v1/care-recipients/"+f.RecipientID+"/documents", nil).Decode(t, &list)
		if len(list.Items) != 2 {
			t.Fatalf("%d documents after restart", len(list.Items))
		}
		for _, it := range list.Items {
			id := it["id"].(string)
			if d := download(c, id); d.Status != 200 || shaBytes(d.Body) != docs[id] {
				t.Errorf("document %s after rotation: %d %.100s", id, d.Status, d.Body)
			}
		}
		// New uploads work under the new key too.
		wantStatus(t, sendUpload(t, &apptest.Client{Env: e2, Token: loginToken(t, e2, f.Caregiver)}, f.RecipientID,
			upload{fields: [][2]string{{"category", "OTHER"}}, file: "new.txt", content: strings.NewReader("after rotation\n")}), 201)
	}

	// The old key no longer opens the documents: the server refuses
	// to start on it rather than lock families out.
	oldEnv := map[string]string{"DATA_DIR": dir, "DATABASE_URL": e.DBURL, "BASE_URL": "http://localhost:3000",
		"JWT_SECRET": "test-secret-test-secret-test-secret-0123456789", "ENCRYPTION_KEY": oldKey}
	oldCfg, err := config.Load(func(k string) string { return oldEnv[k] })
	if err != nil {
		t.Fatal(err)
	}
	if a, err := app.New(context.Background(), oldCfg, app.Options{}); err == nil {
		a.Close()
		t.Error("the server started on the old key")
	} else if !strings.Contains(err.Error(), "does not open the stored document keys") {
		t.Errorf("start on the old key: %v", err)
	}
}

func loginToken(t *testing.T, e *apptest.Env, c *apptest.Client) string {
	t.Helper()
	cc := &apptest.Client{Env: e, Email: c.Email, Password: c.Password}
	cc.Login()
	return cc.Token
}

// FuzzDocumentUpload sends arbitrary multipart bodies to the upload: never
// a 5xx, and a failed upload leaves no file.
func FuzzDocumentUpload(f *testing.F) {
	e := apptest.New(f, apptest.Options{})
	fam := e.NewFamily("FuzzVault", "UTC")
	part := func(name, filename, body string) string {
		cd := `form-data; name="` + name + `"`
		if filename != "" {
			cd += `; filename="` + filename + `"`
		}
		return "--B\r\nContent-Disposition: " + cd + "\r\n\r\n" + body + "\r\n"
	}
	f.Add([]byte(part("category", "", "LEGAL") + part("file", "a.pdf", "%PDF-1.7\nx") + "--B--\r\n"))
	f.Add([]byte(part("file", "a.txt", "hello") + part("category", "", "OTHER") + part("expiresAt", "", "2030-01-01") + "--B--\r\n"))
	f.Add([]byte(part("file", "../../x", "<html>") + "--B--\r\n"))
	f.Add([]byte(part("category", "", "X") + "--B"))
	f.Add([]byte("--B\r\nContent-Disposition: form-data; name*=UTF-8''file; filename*=UTF-8''%E2%80%AE.pdf\r\n\r\n%PDF-\r\n--B--\r\n"))
	f.Add([]byte("--B\r\n\r\n\r\n--B--"))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, _ := http.NewRequest("POST", e.URL+"/api/v1/care-recipients/"+fam.RecipientID+"/documents", bytes.NewReader(body))
		req.Header.Set("Content-Type", "multipart/form-data; boundary=B")
		req.Header.Set("Authorization", "Bearer "+fam.Caregiver.Token)
		r, err := send(req)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status >= 500 {
			t.Fatalf("status %d for %q: %s", r.Status, body, r.Body)
		}
		if r.Status == 201 {
			wantStatus(t, fam.Caregiver.For(t).Do("DELETE", "/api/v1/documents/"+r.Map()["id"].(string), nil), 204)
		}
		if files := storedFiles(t, e); len(files) != 0 {
			t.Fatalf("files left: %v", files)
		}
	})
}

// TestRotateKey_InterruptedRotationIsFinishedAtStart simulates a rotate-key
// that committed the rewrapped keys but stopped before replacing the key
// file: the next start finishes it instead of locking the family out.
func TestRotateKey_InterruptedRotationIsFinishedAtStart(t *testing.T) {
	dir := t.TempDir()
	e := apptest.New(t, apptest.Options{DataDir: dir, Env: map[string]string{"ENCRYPTION_KEY": ""}})
	f := e.NewFamily("Crash", "UTC")
	r := sendUpload(t, f.Caregiver, f.RecipientID, upload{fields: [][2]string{{"category", "LEGAL"}}, file: "poa.pdf", content: pdf(90<<10, 7)})
	wantStatus(t, r, 201)
	id, want := r.Map()["id"].(string), r.Map()["sha256"].(string)

	oldKey, err := docstore.ParseMasterKey(e.App.Cfg.EncryptionKey)
	if err != nil {
		t.Fatal(err)
	}
	nextText, _ := docstore.GenerateMasterKey()
	next, _ := docstore.ParseMasterKey(nextText)
	secrets := filepath.Join(dir, "secrets")
	if err := os.WriteFile(filepath.Join(secrets, "encryption_key.new"), []byte(nextText+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	n, err := e.App.DB.RewrapFamilyKeys(context.Background(), func(w []byte) ([]byte, error) { return docstore.RewrapKey(oldKey, next, w) }, nil)
	if err != nil || n != 1 {
		t.Fatalf("rewrap: %d, %v", n, err)
	}

	e2 := apptest.New(t, apptest.Options{DataDir: dir, DatabaseURL: e.DBURL, Env: map[string]string{"ENCRYPTION_KEY": ""}})
	if d := download(&apptest.Client{Env: e2, Token: loginToken(t, e2, f.Viewer)}, id); d.Status != 200 || shaBytes(d.Body) != want {
		t.Fatalf("download after the finished rotation: %d %.100s", d.Status, d.Body)
	}
	b, _ := os.ReadFile(filepath.Join(secrets, "encryption_key"))
	olds, _ := filepath.Glob(filepath.Join(secrets, "encryption_key.old-*"))
	if strings.TrimSpace(string(b)) != nextText || len(olds) != 1 {
		t.Errorf("key file = %q (want the new key), old keys kept: %v", b, olds)
	}
	if _, err := os.Stat(filepath.Join(secrets, "encryption_key.new")); !os.IsNotExist(err) {
		t.Errorf("encryption_key.new still there: %v", err)
	}
}

func TestRotateKey_RefusesTheSameOrAMalformedKey(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	cfg := e.App.Cfg
	for _, k := range []string{cfg.EncryptionKey, "too-short", strings.Repeat("z", 64)} {
		if err := app.RotateKey(context.Background(), cfg, k, io.Discard); err == nil {
			t.Errorf("rotate-key to %q succeeded", k)
		}
	}
}

// TestDocuments_SweepRemovesFilesWhoseRemovalFailed makes removing a deleted
// document's file fail, then checks the document is gone for the family at
// once and the sweep removes the file later.
func TestDocuments_SweepRemovesFilesWhoseRemovalFailed(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Sweep", "UTC")
		r := sendUpload(t, f.Caregiver, f.RecipientID, upload{fields: [][2]string{{"category", "OTHER"}}, file: "a.pdf", content: pdf(1000, 1)})
		wantStatus(t, r, 201)
		id := r.Map()["id"].(string)
		// A non-empty directory where the file was can't be removed.
		path := filepath.Join(e.Dir, "documents", f.ID, id)
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(path, "stuck"), 0o700); err != nil {
			t.Fatal(err)
		}
		wantStatus(t, f.Admin.Do("DELETE", "/api/v1/documents/"+id, nil), 204)
		wantStatus(t, f.Admin.Do("GET", "/api/v1/documents/"+id+"/info", nil), 404)
		ctx := context.Background()
		if pending, err := e.App.DB.DeletedDocuments(ctx, 10); err != nil || len(pending) != 1 || pending[0].ID != id {
			t.Fatalf("pending removals = %v, %v", pending, err)
		}
		if n, err := e.App.Vault.Sweep(ctx, e.App.DB, 10); err != nil || n != 0 {
			t.Errorf("sweep while still stuck removed %d: %v", n, err)
		}
		os.Remove(filepath.Join(path, "stuck"))
		if n, err := e.App.Vault.Sweep(ctx, e.App.DB, 10); err != nil || n != 1 {
			t.Errorf("sweep removed %d: %v", n, err)
		}
		if pending, _ := e.App.DB.DeletedDocuments(ctx, 10); len(pending) != 0 {
			t.Errorf("pending after the sweep: %v", pending)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("file still there: %v", err)
		}
	})
}

// TestDocuments_EveryDownloadIsInTheAuditLog: who read the DNR, and when.
func TestDocuments_EveryDownloadIsInTheAuditLog(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Audited", "UTC")
		r := sendUpload(t, f.Caregiver, f.RecipientID, upload{fields: [][2]string{{"category", "LEGAL"}, {"name", "DNR"}},
			file: "dnr.pdf", content: pdf(2000, 7)})
		wantStatus(t, r, 201)
		docID := r.Map()["id"].(string)
		for _, who := range []*apptest.Client{f.Viewer, f.Admin, f.Viewer} {
			if d := download(who, docID); d.Status != 200 {
				t.Fatalf("download: %d", d.Status)
			}
		}
		want := map[string]int{f.Viewer.UserID: 2, f.Admin.UserID: 1}
		deadline := time.Now().Add(10 * time.Second)
		for {
			got := map[string]int{}
			for _, it := range f.Admin.Must(200, "GET", "/api/v1/families/"+f.ID+"/audit?limit=200", nil)["items"].([]any) {
				m := it.(map[string]any)
				if m["action"] == "document.downloaded" && m["resourceId"] == docID {
					got[m["actor"].(map[string]any)["id"].(string)]++
				}
			}
			if got[f.Viewer.UserID] == want[f.Viewer.UserID] && got[f.Admin.UserID] == want[f.Admin.UserID] {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("downloads in the audit log by user: %v, want %v", got, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
