package web

import (
	"io"
	"net/http"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/storage"
)

var documentFields = []string{"file", "category", "name", "expiresAt"}

// documentGroup is the documents of one category.
type documentGroup struct {
	Category carecircle.DocumentCategory
	Items    []carecircle.Document
}

type documentsData struct {
	Groups     []documentGroup
	Category   string
	Next       string
	CanWrite   bool
	Form       *form
	Categories []carecircle.DocumentCategory
	Now        time.Time
}

// documentsPage lists a recipient's documents by category, with the
// upload form; downloads go through the API, which checks and audits them.
func (h *Handler) documentsPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	c, ok := h.loadRecipient(w, r, v)
	if !ok {
		return
	}
	f := newForm(documentFields...)
	f.Set("category", string(carecircle.DocumentMedical))
	h.renderDocuments(w, r, v, c, f, http.StatusOK)
}

func (h *Handler) renderDocuments(w http.ResponseWriter, r *http.Request, v *viewer, c *carecircle.CareRecipient, f *form, status int) {
	q := r.URL.Query()
	d := documentsData{CanWrite: v.CanWrite(c.FamilyID), Form: f, Categories: carecircle.DocumentCategories, Now: h.clock.Now()}
	filter := storage.DocumentFilter{Page: storage.Page{Limit: storage.MaxPageSize, Cursor: q.Get("cursor")}}
	if cat := carecircle.DocumentCategory(q.Get("category")); cat.Valid() {
		filter.Category, d.Category = cat, string(cat)
	}
	docs, next, err := h.db.Documents(r.Context(), c.ID, filter)
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	d.Next = next
	for _, cat := range carecircle.DocumentCategories {
		g := documentGroup{Category: cat}
		for _, doc := range docs {
			if doc.Category == cat {
				g.Items = append(g.Items, doc)
			}
		}
		if len(g.Items) > 0 {
			d.Groups = append(d.Groups, g)
		}
	}
	p := h.carePage(w, r, v, c, "documents", "Documents")
	p.Data = d
	h.render(w, r, status, "documents", p)
}

// documentUpload stores an uploaded file through the API's streaming upload
// (type sniffing, size limit, encryption, event) and goes back to the list.
func (h *Handler) documentUpload(w http.ResponseWriter, r *http.Request, v *viewer) {
	c, ok := h.loadRecipient(w, r, v)
	if !ok {
		return
	}
	doc, err := h.api.UploadDocument(r.Context(), w, r)
	if err == nil {
		redirect(w, r, "/care/"+c.ID+"/documents", "ok", doc.Name+" is stored.")
		return
	}
	// The browser waits to finish sending before it reads an answer; what
	// is left of the body is read (within the upload limit) and dropped.
	io.Copy(io.Discard, io.LimitReader(r.Body, maxUploadDrain))
	f := newForm(documentFields...)
	status := f.Fail(err)
	if carecircle.ErrorCode(err) == carecircle.ETOOLARGE || carecircle.ErrorCode(err) == carecircle.EUNSUPPORTED {
		f.General, f.Errors["file"] = nil, []string{upperFirst(carecircle.ErrorMessage(err))}
	}
	if code := carecircle.ErrorCode(err); code == carecircle.ENOTFOUND || code == carecircle.EFORBIDDEN {
		h.fail(w, r, v, err)
		return
	}
	h.renderDocuments(w, r, v, c, f, status)
}

// maxUploadDrain bounds what is read of a refused upload's body.
const maxUploadDrain = 32 << 20

// documentDownload renews the session if needed (like every page) and
// hands over to the API's download, which verifies the file and records
// the download in the audit log.
func (h *Handler) documentDownload(w http.ResponseWriter, r *http.Request, v *viewer) {
	doc, err := h.db.Document(r.Context(), r.PathValue("did"))
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	if !belongs(w, r, h, v, doc.CareRecipientID) {
		return
	}
	http.Redirect(w, r, "/api/v1/documents/"+doc.ID, http.StatusSeeOther)
}

// documentDelete deletes a document (its uploader or an ADMIN).
func (h *Handler) documentDelete(w http.ResponseWriter, r *http.Request, v *viewer) {
	c, ok := h.loadRecipient(w, r, v)
	if !ok {
		return
	}
	doc, err := h.db.Document(r.Context(), r.PathValue("did"))
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	if !belongs(w, r, h, v, doc.CareRecipientID) {
		return
	}
	if err := h.api.DeleteDocument(r.Context(), doc.ID); err != nil {
		redirect(w, r, "/care/"+c.ID+"/documents", "error", errorText(err))
		return
	}
	redirect(w, r, "/care/"+c.ID+"/documents", "ok", doc.Name+" is deleted.")
}
