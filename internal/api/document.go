package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/docstore"
	"github.com/carecircle/carecircle/internal/storage"
)

// Vault is the file side of the document vault: the encrypted blob store and
// the master key that wraps each family's data key.
type Vault struct {
	Store     *docstore.Store
	MasterKey []byte
}

// Upload body bounds. The body may exceed the file limit by the multipart
// framing and the small fields; past that it is refused while streaming.
const (
	multipartOverhead = 64 << 10
	maxFieldBytes     = 4 << 10
	maxUploadParts    = 16
)

type listDocumentsInput struct {
	ID       string `path:"id" maxLength:"64"`
	Category string `query:"category" enum:"INSURANCE,MEDICAL,LEGAL,IDENTIFICATION,PRESCRIPTION,OTHER"`
	PageQuery
}

type documentIDInput struct {
	ID string `path:"id" maxLength:"64"`
}

type patchDocumentInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		Name      *string `json:"name,omitempty" maxLength:"1000" doc:"the title shown in lists; empty resets it to the file name"`
		Category  *string `json:"category,omitempty" enum:"INSURANCE,MEDICAL,LEGAL,IDENTIFICATION,PRESCRIPTION,OTHER"`
		ExpiresAt *string `json:"expiresAt,omitempty" maxLength:"40" doc:"YYYY-MM-DD (start of that day in the care recipient's zone) or RFC 3339; empty clears"`
	}
}

func (s *Server) registerDocuments() {
	const tag = "Documents"
	huma.Register(s.api, op("listDocuments", http.MethodGet, "/care-recipients/{id}/documents",
		"A care recipient's documents, newest first", tag, 200, true), s.listDocuments)
	huma.Register(s.api, op("getDocumentInfo", http.MethodGet, "/documents/{id}/info",
		"A document's details (no file)", tag, 200, true), s.getDocumentInfo)
	huma.Register(s.api, op("updateDocument", http.MethodPatch, "/documents/{id}",
		"Rename, recategorize or set the expiry of a document (its uploader or an ADMIN)", tag, 200, true), s.updateDocument)
	huma.Register(s.api, op("deleteDocument", http.MethodDelete, "/documents/{id}",
		"Delete a document and its stored file (its uploader or an ADMIN)", tag, 204, true), s.deleteDocument)

	// Upload and download stream their bodies, so they are plain handlers
	// (huma would buffer a multipart body); the OpenAPI document lists them.
	s.mux.HandleFunc("POST /api/v1/care-recipients/{id}/documents", s.uploadDocument)
	s.mux.HandleFunc("GET /api/v1/documents/{id}", s.downloadDocument)
	s.describeStreamingDocumentOps(tag)
}

// describeStreamingDocumentOps adds the upload and download to the OpenAPI
// document.
func (s *Server) describeStreamingDocumentOps(tag string) {
	oa := s.api.OpenAPI()
	docSchema := oa.Components.Schemas.Schema(reflect.TypeFor[carecircle.Document](), true, "Document")
	errSchema := &huma.Schema{Type: "object", Description: `{"statusCode":400,"message":["…"],"error":"Bad Request"}`}
	errs := func(codes ...int) map[string]*huma.Response {
		m := map[string]*huma.Response{}
		for _, c := range codes {
			m[fmt.Sprint(c)] = &huma.Response{Description: http.StatusText(c),
				Content: map[string]*huma.MediaType{"application/json": {Schema: errSchema}}}
		}
		return m
	}
	categories := make([]any, len(carecircle.DocumentCategories))
	for i, c := range carecircle.DocumentCategories {
		categories[i] = string(c)
	}
	upload := &huma.Operation{
		OperationID: "uploadDocument", Method: http.MethodPost, Path: "/care-recipients/{id}/documents", Tags: []string{tag},
		Summary: "Upload a document (ADMIN, CAREGIVER)",
		Description: "multipart/form-data, streamed and encrypted as it arrives. The type is sniffed from the content " +
			"(PDF, JPEG, PNG, WEBP, HEIC, GIF, plain text; anything else 415); over the size limit (default 25 MiB) 413. " +
			"Fields may come before or after the file.",
		Security:   secured,
		Parameters: []*huma.Param{{Name: "id", In: "path", Required: true, Schema: &huma.Schema{Type: "string"}}},
		RequestBody: &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{"multipart/form-data": {Schema: &huma.Schema{
			Type:     "object",
			Required: []string{"file", "category"},
			Properties: map[string]*huma.Schema{
				"file":      {Type: "string", Format: "binary"},
				"category":  {Type: "string", Enum: categories},
				"name":      {Type: "string", MaxLength: new(carecircle.MaxDocumentName), Description: "title; default the file name"},
				"expiresAt": {Type: "string", Description: "YYYY-MM-DD (start of that day in the care recipient's zone) or RFC 3339"},
			},
		}}}},
		Responses: errs(400, 401, 403, 404, 413, 415),
	}
	upload.Responses["201"] = &huma.Response{Description: "Stored",
		Content: map[string]*huma.MediaType{"application/json": {Schema: docSchema}}}
	oa.AddOperation(upload)

	download := &huma.Operation{
		OperationID: "downloadDocument", Method: http.MethodGet, Path: "/documents/{id}", Tags: []string{tag},
		Summary: "Download a document's file (any member; recorded in the audit log)",
		Description: "The exact bytes uploaded, with the stored content type and Content-Disposition: attachment. " +
			"A stored file that fails its integrity check is never sent (500).",
		Security:   secured,
		Parameters: []*huma.Param{{Name: "id", In: "path", Required: true, Schema: &huma.Schema{Type: "string"}}},
		Responses:  errs(401, 404, 500),
	}
	download.Responses["200"] = &huma.Response{Description: "The file",
		Content: map[string]*huma.MediaType{"application/octet-stream": {Schema: &huma.Schema{Type: "string", Format: "binary"}}}}
	oa.AddOperation(download)
}

func (s *Server) listDocuments(ctx context.Context, in *listDocumentsInput) (*Body[List[carecircle.Document]], error) {
	items, next, err := s.db.Documents(ctx, in.ID, storage.DocumentFilter{
		Category: carecircle.DocumentCategory(in.Category), Page: in.page()})
	return &Body[List[carecircle.Document]]{Body: List[carecircle.Document]{Items: items, NextCursor: next}}, err
}

func (s *Server) getDocumentInfo(ctx context.Context, in *documentIDInput) (*Body[carecircle.Document], error) {
	d, err := s.db.Document(ctx, in.ID)
	return &Body[carecircle.Document]{Body: d}, err
}

func (s *Server) updateDocument(ctx context.Context, in *patchDocumentInput) (*Body[carecircle.Document], error) {
	b := in.Body
	d, err := s.db.UpdateDocument(ctx, in.ID, func(d *carecircle.Document, loc *time.Location) error {
		if b.Name != nil {
			d.Name = *b.Name // empty resets to the file name (Validate)
		}
		if b.Category != nil {
			d.Category = carecircle.DocumentCategory(*b.Category)
		}
		if b.ExpiresAt != nil {
			if strings.TrimSpace(*b.ExpiresAt) == "" {
				d.ExpiresAt = nil
				return nil
			}
			t, err := carecircle.ParseDocumentExpiry(*b.ExpiresAt, loc)
			if err != nil {
				return err
			}
			d.ExpiresAt = &t
		}
		return nil
	})
	return &Body[carecircle.Document]{Body: d}, err
}

// deleteDocument deletes the row (with its event), then the stored file. A
// file that can't be removed now stays listed by storage.DeletedDocuments
// for Vault.Sweep to retry; the document is gone for the family either way.
func (s *Server) deleteDocument(ctx context.Context, in *documentIDInput) (*NoContent, error) {
	if s.vault == nil {
		return nil, vaultUnavailable()
	}
	key, err := s.db.DeleteDocument(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	s.vault.removeFile(context.WithoutCancel(ctx), s.db, in.ID, key)
	return nil, nil
}

// removeFile deletes a deleted document's stored file and then its row,
// logging a failure for a later sweep.
func (v *Vault) removeFile(ctx context.Context, db *storage.DB, id, key string) bool {
	if err := v.Store.Delete(ctx, key); err != nil {
		logger(ctx).WarnContext(ctx, "document file not removed; a sweep will retry", "document", id, "err", err)
		return false
	}
	if err := db.PurgeDocument(ctx, id); err != nil {
		logger(ctx).WarnContext(ctx, "deleted document's row not purged", "document", id, "err", err)
		return false
	}
	return true
}

// Sweep retries removing the files of deleted documents whose removal failed
// (the store was unreachable, the process stopped), up to limit of them, and
// returns how many it removed.
func (v *Vault) Sweep(ctx context.Context, db *storage.DB, limit int) (int, error) {
	pending, err := db.DeletedDocuments(ctx, limit)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range pending {
		if v.removeFile(ctx, db, d.ID, d.StorageKey) {
			n++
		}
	}
	return n, nil
}

// newWrappedKey makes a family's data key, sealed by the master key.
func (v *Vault) newWrappedKey() ([]byte, error) {
	k, err := docstore.NewDataKey()
	if err != nil {
		return nil, err
	}
	return docstore.WrapKey(v.MasterKey, k)
}

func vaultUnavailable() error {
	return carecircle.Errorf(carecircle.EUNAVAILABLE, "the document vault is not configured on this server")
}

// uploadForm collects the multipart fields of an upload.
type uploadForm struct {
	category, name, expiresAt *string
	stored                    *docstore.Written
	fileName                  string
}

// validate checks the fields received so far; final also requires the file
// and the category.
func (f *uploadForm) validate(loc *time.Location, final bool) (carecircle.Document, error) {
	var p carecircle.Problems
	d := carecircle.Document{FileName: f.fileName}
	if f.category != nil {
		d.Category = carecircle.DocumentCategory(strings.TrimSpace(*f.category))
		p.Add(!d.Category.Valid(), "category must be one of INSURANCE, MEDICAL, LEGAL, IDENTIFICATION, PRESCRIPTION, OTHER")
	} else {
		p.Add(final, "category should not be empty")
	}
	if f.name != nil {
		// The full check (Document.Validate) runs when the row is written.
		d.Name = *f.name
		n := []rune(strings.TrimSpace(d.Name))
		p.Add(len(n) > carecircle.MaxDocumentName, "name must be at most %d characters", carecircle.MaxDocumentName)
	}
	if f.expiresAt != nil && strings.TrimSpace(*f.expiresAt) != "" {
		t, err := carecircle.ParseDocumentExpiry(*f.expiresAt, loc)
		if err != nil {
			p.Add(true, "expiresAt must be a date (YYYY-MM-DD) or an RFC 3339 time")
		} else {
			d.ExpiresAt = &t
		}
	}
	p.Add(final && f.stored == nil, "file should not be empty")
	return d, p.Err()
}

// uploadDocument streams a multipart upload into the vault: the file part is
// sniffed, hashed, size-checked and encrypted as it arrives, so memory stays
// bounded whatever the size. The row (with its event) is written only once
// the file is stored and every field is valid; on any failure the stored
// file is removed, so nothing is left half-written.
func (s *Server) uploadDocument(w http.ResponseWriter, r *http.Request) {
	d, err := s.receiveDocument(w, r)
	if err != nil {
		// The rest of the body is not read: the client learns at once.
		w.Header().Set("Connection", "close")
		writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Location", "/api/v1/documents/"+d.ID+"/info")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(d)
}

func (s *Server) receiveDocument(w http.ResponseWriter, r *http.Request) (carecircle.Document, error) {
	ctx, err := s.signedIn(r)
	if err != nil {
		return carecircle.Document{}, err
	}
	if s.vault == nil {
		return carecircle.Document{}, vaultUnavailable()
	}
	// Who may upload is settled before a byte of the body is read.
	up, err := s.db.PrepareDocumentUpload(ctx, r.PathValue("id"), s.vault.newWrappedKey)
	if err != nil {
		return carecircle.Document{}, err
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return carecircle.Document{}, carecircle.Errorf(carecircle.EUNSUPPORTED,
			"upload a document as multipart/form-data with a file part and a category")
	}
	if params["boundary"] == "" {
		return carecircle.Document{}, carecircle.Invalid("body: multipart/form-data needs a boundary parameter")
	}
	limit := s.vault.Store.MaxSize()
	tooLarge := carecircle.Errorf(carecircle.ETOOLARGE, "file is larger than %s", sizeText(limit))
	if r.ContentLength > limit+multipartOverhead {
		return carecircle.Document{}, tooLarge
	}
	dataKey, err := docstore.UnwrapKey(s.vault.MasterKey, up.WrappedKey)
	if err != nil {
		return carecircle.Document{}, fmt.Errorf("upload document: family %s: %w", up.Scope.FamilyID, err)
	}
	body := &sourceReader{r: http.MaxBytesReader(w, r.Body, limit+multipartOverhead)}
	mr := multipart.NewReader(body, params["boundary"])
	var f uploadForm
	// Whatever fails after the file is stored removes it.
	committed := false
	defer func() {
		if f.stored != nil && !committed {
			if err := s.vault.Store.Delete(context.WithoutCancel(ctx), up.StorageKey); err != nil {
				logger(ctx).ErrorContext(ctx, "stored file of a failed upload not removed", "key", up.StorageKey, "err", err)
			}
		}
	}()
	loc := up.Scope.Location()
	for parts := 0; ; parts++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return carecircle.Document{}, bodyError(body, tooLarge, err, true)
		}
		if parts >= maxUploadParts {
			return carecircle.Document{}, carecircle.Invalid(fmt.Sprintf("body: at most %d multipart fields", maxUploadParts))
		}
		switch name := part.FormName(); name {
		case "file":
			if f.stored != nil {
				return carecircle.Document{}, carecircle.Invalid("file: send one file per upload")
			}
			// Fields sent before the file are checked before it is stored.
			if _, err := f.validate(loc, false); err != nil {
				return carecircle.Document{}, err
			}
			f.fileName = uploadFileName(part)
			written, err := s.vault.Store.Write(ctx, up.StorageKey, dataKey, part)
			if err != nil {
				return carecircle.Document{}, bodyError(body, tooLarge, err, false)
			}
			f.stored = &written
		case "category", "name", "expiresAt":
			v, err := readField(part, body, tooLarge)
			if err != nil {
				return carecircle.Document{}, err
			}
			switch name {
			case "category":
				f.category = &v
			case "name":
				f.name = &v
			default:
				f.expiresAt = &v
			}
		default:
			// Other form fields (a submit button, a CSRF token) are ignored;
			// the body limit bounds them.
			if _, err := io.Copy(io.Discard, part); err != nil {
				return carecircle.Document{}, bodyError(body, tooLarge, err, true)
			}
		}
	}
	d, err := f.validate(loc, true)
	if err != nil {
		return d, err
	}
	d.FileName = fileNameFor(f.fileName, f.stored.MimeType)
	d.ID, d.CareRecipientID = up.DocumentID, up.Scope.RecipientID
	d.MimeType, d.SizeBytes, d.SHA256 = f.stored.MimeType, f.stored.Size, f.stored.SHA256
	d, err = s.db.CreateDocument(ctx, d, up.StorageKey)
	if err != nil {
		return d, err
	}
	committed = true
	return d, nil
}

// sourceReader remembers how reading the body ended, so a failed upload can
// tell the client's fault (a body too large, cut short or malformed) from
// the server's (the store failed).
type sourceReader struct {
	r   io.Reader
	err error // a read error other than EOF
	eof bool
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	switch {
	case errors.Is(err, io.EOF):
		s.eof = true
	case err != nil:
		s.err = err
	}
	return n, err
}

// bodyError classifies a failure while receiving the upload. readingBody
// says err came from parsing the body itself (not from storing the file).
func bodyError(body *sourceReader, tooLarge, err error, readingBody bool) error {
	var ce *carecircle.Error
	if errors.As(err, &ce) {
		return err
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || errors.As(body.err, &mbe) {
		return tooLarge
	}
	if readingBody || body.err != nil || body.eof || errors.Is(err, io.ErrUnexpectedEOF) {
		return carecircle.Invalid("body: the multipart upload is malformed or ended early")
	}
	return err
}

// readField reads a small text field of the form.
func readField(part *multipart.Part, body *sourceReader, tooLarge error) (string, error) {
	b, err := io.ReadAll(io.LimitReader(part, maxFieldBytes+1))
	if err != nil {
		return "", bodyError(body, tooLarge, err, true)
	}
	if len(b) > maxFieldBytes {
		return "", carecircle.Invalid(fmt.Sprintf("%s must be at most %d bytes", part.FormName(), maxFieldBytes))
	}
	return string(b), nil
}

// uploadFileName is the part's file name made safe to store and send back.
func uploadFileName(part *multipart.Part) string {
	// Part.FileName drops directories only with the platform's separator;
	// SafeFileName drops both kinds and everything unsafe in a header.
	_, params, _ := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
	raw := params["filename"]
	if raw == "" {
		return ""
	}
	return docstore.SafeFileName(raw)
}

// extensions are the file name endings that match each sniffed type; the
// first is added to a name that ends otherwise.
var extensions = map[string][]string{
	docstore.MimePDF:  {".pdf"},
	docstore.MimeJPEG: {".jpg", ".jpeg", ".jfif"},
	docstore.MimePNG:  {".png"},
	docstore.MimeWEBP: {".webp"},
	docstore.MimeHEIC: {".heic", ".heif"},
	docstore.MimeGIF:  {".gif"},
	docstore.MimeText: {".txt", ".text", ".md", ".csv", ".tsv", ".log"},
}

// fileNameFor returns the name a document is downloaded as: the uploaded
// name, with the extension of its sniffed type added unless it has one
// already. A PDF named "scan.exe" or a text named "page.html" is thereby
// opened as what it is ("scan.exe.pdf", "page.html.txt").
func fileNameFor(name, mimeType string) string {
	if name == "" {
		name = "document"
	}
	exts := extensions[mimeType]
	if len(exts) == 0 {
		return name
	}
	lower := strings.ToLower(name)
	for _, e := range exts {
		if strings.HasSuffix(lower, e) && len(lower) > len(e) {
			return name
		}
	}
	return strings.TrimRight(name, ".") + exts[0]
}

func sizeText(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// downloadDocument sends a document's exact bytes. The whole stored file is
// authenticated before the response starts (docstore.Store.Open), so a
// tampered file is reported and never served; the download is recorded for
// the audit log before the first byte goes out.
func (s *Server) downloadDocument(w http.ResponseWriter, r *http.Request) {
	ctx, err := s.signedIn(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if s.vault == nil {
		writeError(w, r, vaultUnavailable())
		return
	}
	id := r.PathValue("id")
	d, blob, err := s.db.DocumentForDownload(ctx, id)
	if err != nil {
		writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", d.MimeType)
	h.Set("Content-Disposition", docstore.ContentDisposition(d.FileName))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, no-store")
	// Even if a browser were talked into rendering the file, it gets no
	// scripts and no origin.
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	if r.Method == http.MethodHead {
		h.Set("Content-Length", fmt.Sprint(d.SizeBytes))
		w.WriteHeader(http.StatusOK)
		return
	}
	dataKey, err := docstore.UnwrapKey(s.vault.MasterKey, blob.WrappedKey)
	if err != nil {
		s.refuseDownload(w, r, d, blob, fmt.Errorf("unwrap family key: %w", err))
		return
	}
	rc, size, err := s.vault.Store.Open(ctx, blob.StorageKey, dataKey)
	if err == nil && size != d.SizeBytes {
		rc.Close()
		err = fmt.Errorf("%w: stored file holds %d bytes, the document %d", docstore.ErrTampered, size, d.SizeBytes)
	}
	if err != nil {
		s.refuseDownload(w, r, d, blob, err)
		return
	}
	defer rc.Close()
	if err := s.db.RecordDocumentDownload(ctx, d); err != nil {
		// Every download is in the audit log, or it doesn't happen.
		writeError(w, r, err)
		return
	}
	h.Set("Content-Length", fmt.Sprint(d.SizeBytes))
	w.WriteHeader(http.StatusOK)
	if err := copyVerified(w, rc, d.SHA256); err != nil {
		// Headers are gone; cutting the connection short of Content-Length
		// is how the client learns the body is not the document.
		logger(ctx).ErrorContext(ctx, "document download aborted", "document", d.ID, "family", blob.FamilyID, "err", err)
		panic(http.ErrAbortHandler)
	}
}

// refuseDownload reports a stored file that can't be served: tampered,
// missing or unreadable. It is logged as an error (someone must look at the
// storage) and the client gets a 500 that says what happened.
func (s *Server) refuseDownload(w http.ResponseWriter, r *http.Request, d carecircle.Document, blob storage.DocumentBlob, err error) {
	ctx := r.Context()
	for k := range w.Header() {
		if k != "X-Request-Id" {
			w.Header().Del(k)
		}
	}
	s.secure(w, r)
	msg := "this document's stored file could not be read; it was not sent"
	switch {
	case errors.Is(err, docstore.ErrTampered):
		msg = "this document's stored file failed its integrity check (damaged or altered); it was not sent"
	case errors.Is(err, docstore.ErrNotFound):
		msg = "this document's stored file is missing; it was not sent"
	}
	logger(ctx).ErrorContext(ctx, "document not served", "document", d.ID, "family", blob.FamilyID,
		"key", blob.StorageKey, "err", err)
	writeError(w, r, &carecircle.Error{Code: carecircle.EINTERNAL, Message: msg})
}

// copyVerified copies the plaintext to w, holding back the last block until
// the whole stream's SHA-256 matches the one recorded at upload, so a file
// swapped for another of the same family's never arrives complete.
func copyVerified(w io.Writer, src io.Reader, wantSHA string) error {
	sum := sha256.New()
	cur, next := make([]byte, 32<<10), make([]byte, 32<<10)
	n, err := io.ReadFull(src, cur)
	for {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			sum.Write(cur[:n])
			if got := hex.EncodeToString(sum.Sum(nil)); got != wantSHA {
				return fmt.Errorf("%w: SHA-256 %s, recorded %s", docstore.ErrTampered, got, wantSHA)
			}
			_, werr := w.Write(cur[:n])
			return werr
		}
		if err != nil {
			return err
		}
		m, nerr := io.ReadFull(src, next)
		if m == 0 && (errors.Is(nerr, io.EOF) || errors.Is(nerr, io.ErrUnexpectedEOF)) {
			// cur was the last full block.
			err = io.EOF
			continue
		}
		sum.Write(cur[:n])
		if _, werr := w.Write(cur[:n]); werr != nil {
			return werr
		}
		cur, next, n, err = next, cur, m, nerr
	}
}
