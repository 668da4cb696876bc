package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/storage"
)

// doseLog records one tap on Given or Skipped (or "give now" for an
// as-needed medication) and goes back to the page it came from. A dose
// somebody already logged is not an error to the person at the bedside:
// the page says who gave it and when, so nobody gives it twice.
func (h *Handler) doseLog(w http.ResponseWriter, r *http.Request, v *viewer) {
	c, ok := h.loadRecipient(w, r, v)
	if !ok {
		return
	}
	f, err := parseForm(w, r, "medicationId", "scheduledTime", "status", "notes", "return")
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	back := localPath(f.Get("return"))
	if back == "" {
		back = "/care/" + c.ID + "/medications"
	}
	m, err := h.db.Medication(r.Context(), f.Get("medicationId"))
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	if !belongs(w, r, h, v, m.CareRecipientID) {
		return
	}
	in := storage.DoseInput{Status: f.Get("status"), Notes: f.Get("notes")}
	if s := f.Get("scheduledTime"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			redirect(w, r, back, "error", "That dose time could not be read; please try again.")
			return
		}
		in.ScheduledTime = &t
	}
	_, err = h.db.LogDose(r.Context(), m.ID, in)
	if err == nil {
		redirect(w, r, back, "ok", m.Name+" "+m.Dosage+": "+doseVerb(in.Status)+".")
		return
	}
	var ce *carecircle.Error
	if errors.As(err, &ce) && ce.Code == carecircle.ECONFLICT {
		if d, ok := ce.Detail.(map[string]any); ok {
			if l, ok := d["existingLog"].(carecircle.DoseLog); ok {
				p := h.newPage(w, r, v, "").withRecipient(c, "")
				redirect(w, r, back, "error", "Already "+doseVerb(l.Status)+" by "+l.LoggedBy.FullName+" at "+p.Clock(l.LoggedAt)+zoneSuffix(p, l.LoggedAt)+".")
				return
			}
		}
	}
	if code := carecircle.ErrorCode(err); code == carecircle.ENOTFOUND {
		h.fail(w, r, v, err)
		return
	}
	redirect(w, r, back, "error", errorText(err))
}

// doseVerb is a dose status as a past participle.
func doseVerb(status string) string {
	switch status {
	case carecircle.DoseGiven:
		return "given"
	case carecircle.DoseSkipped:
		return "skipped"
	case carecircle.DoseMissed:
		return "marked missed"
	}
	return "logged"
}

// zoneSuffix names the viewer's zone after a clock time when the
// recipient's clock differs.
func zoneSuffix(p *page, t time.Time) string {
	if sameClock(t, p.viewerLoc(), p.recipientLoc()) {
		return ""
	}
	return " " + t.In(p.viewerLoc()).Format("MST")
}
