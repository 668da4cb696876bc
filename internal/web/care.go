package web

import (
	"net/http"

	"github.com/carecircle/carecircle"
)

// loadRecipient reads the care recipient named in the path ({id}); a
// recipient of another family is "not found", as in the API. On failure
// the error page has been written and ok is false.
func (h *Handler) loadRecipient(w http.ResponseWriter, r *http.Request, v *viewer) (*carecircle.CareRecipient, bool) {
	c, err := h.db.Recipient(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, v, err)
		return nil, false
	}
	return &c, true
}

// carePage starts the page of a care recipient's tab.
func (h *Handler) carePage(w http.ResponseWriter, r *http.Request, v *viewer, c *carecircle.CareRecipient, tab, title string) *page {
	return h.newPage(w, r, v, title+" · "+c.DisplayName()).withRecipient(c, tab)
}

// belongs reports whether a row loaded by its own id is the recipient's in
// the path, so /care/A/timeline/{entry of B} is not found rather than
// quietly editing B's entry under A's heading.
func belongs(w http.ResponseWriter, r *http.Request, h *Handler, v *viewer, recipientID string) bool {
	if recipientID != r.PathValue("id") {
		h.fail(w, r, v, carecircle.Errorf(carecircle.ENOTFOUND, "not found"))
		return false
	}
	return true
}

// chooseRecipient serves the Emergency and Medications shortcuts: with one
// care recipient it goes straight to their page, with several it lists
// them.
func (h *Handler) chooseRecipient(tab, title string) appHandler {
	return func(w http.ResponseWriter, r *http.Request, v *viewer) {
		if len(v.Recipients) == 1 {
			http.Redirect(w, r, "/care/"+v.Recipients[0].ID+"/"+tab, http.StatusSeeOther)
			return
		}
		p := h.newPage(w, r, v, title)
		p.Tab = tab
		p.Data = tab
		h.render(w, r, http.StatusOK, "choose", p)
	}
}
