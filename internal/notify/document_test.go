package notify_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"testing"

	"github.com/carecircle/carecircle/internal/apptest"
	"github.com/carecircle/carecircle/internal/storage"
)

// uploadDocument stores a small text document with an expiry date.
func (h *harness) uploadDocument(c *apptest.Client, recipientID, name, category, expires string) map[string]any {
	h.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("category", category)
	mw.WriteField("name", name)
	mw.WriteField("expiresAt", expires)
	w, _ := mw.CreateFormFile("file", "card.txt")
	w.Write([]byte("Policy 12345, valid until " + expires))
	mw.Close()
	req, _ := http.NewRequest("POST", h.e.URL+"/api/v1/care-recipients/"+recipientID+"/documents", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+h.as(c).Token)
	r := h.e.Send(req)
	if r.Status != 201 {
		h.t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	return r.Map()
}

func TestDocumentExpiry_AdminsAreRemindedBeforeTheDay(t *testing.T) {
	eachDialect(t, func(t *testing.T, d storage.Dialect) {
		h := newHarness(t, d, local(t, ny, day, 10, 0))
		f := h.family("Docs", ny, london, ny, tokyo)
		h.uploadDocument(f.Caregiver, f.RecipientID, "Medicare card", "INSURANCE", "2026-05-01")
		h.settle()
		h.expect("upload is family activity", f.Admin, "FAMILY_ACTIVITY", "added a document", counts{1, 0, 0})
		h.expect("not to the uploader", f.Caregiver, "FAMILY_ACTIVITY", "added a document", counts{})

		// 30 days before 1 May is 1 April, already past: 7 days and 1 day remain.
		h.at(local(t, ny, "2026-04-24", 8, 59))
		h.expect("before", f.Admin, "DOCUMENT_EXPIRY", "Medicare card", counts{})
		h.at(local(t, ny, "2026-04-24", 9, 0))
		h.expect("a week before", f.Admin, "DOCUMENT_EXPIRY", "expires in 7 days", counts{1, 1, 0})
		h.expect("ADMINs only", f.Caregiver, "DOCUMENT_EXPIRY", "Medicare card", counts{})
		h.at(local(t, ny, "2026-04-30", 9, 0))
		h.expect("the day before", f.Admin, "DOCUMENT_EXPIRY", "expires tomorrow", counts{1, 1, 0})
		n := h.inbox(f.Admin, "DOCUMENT_EXPIRY")
		if len(n) != 2 || n[1].Body != "Docs's Dad's Medicare card (insurance) expires on Fri 1 May 2026. Upload the renewed one when it arrives." {
			t.Fatalf("document notices = %+v", n)
		}
		h.at(local(t, ny, "2026-05-02", 9, 0))
		h.expect("no more", f.Admin, "DOCUMENT_EXPIRY", "Medicare card", counts{2, 2, 0})
	})
}
