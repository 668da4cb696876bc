package web

import (
	"net/http"

	"github.com/carecircle/carecircle"
)

type alertData struct {
	Alert     carecircle.EmergencyAlert
	Recipient *carecircle.CareRecipient
	// TriggeredByPhone is the phone of the member who raised the alert.
	TriggeredByPhone string
	AckedByMe        bool
	CanWrite         bool
}

// alertPage shows one alert with who raised it and who has seen it, and
// buttons to acknowledge, call and resolve. The emergency script shows the
// same content full screen.
func (h *Handler) alertPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	ctx := r.Context()
	a, err := h.db.Alert(ctx, r.PathValue("aid"))
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	c, err := h.db.Recipient(ctx, a.CareRecipientID)
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	ms, err := h.db.Members(ctx, c.FamilyID)
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	d := alertData{Alert: a, Recipient: &c, CanWrite: v.CanWrite(c.FamilyID)}
	for _, m := range ms {
		if m.UserID == a.TriggeredBy.ID {
			d.TriggeredByPhone = m.Phone
		}
	}
	for _, ack := range a.Acknowledgements {
		if ack.User.ID == v.ID {
			d.AckedByMe = true
		}
	}
	p := h.carePage(w, r, v, &c, "emergency", alertTypeLabel(a.Type))
	p.Data = d
	h.render(w, r, http.StatusOK, "alert", p)
}

// alertAcknowledge records that the viewer saw the alert.
func (h *Handler) alertAcknowledge(w http.ResponseWriter, r *http.Request, v *viewer) {
	id := r.PathValue("aid")
	if _, err := h.db.AcknowledgeAlert(r.Context(), id); err != nil {
		if carecircle.ErrorCode(err) == carecircle.ENOTFOUND {
			h.fail(w, r, v, err)
			return
		}
		redirect(w, r, "/alerts/"+id, "error", errorText(err))
		return
	}
	redirect(w, r, "/alerts/"+id, "ok", "Acknowledged: the family knows you've seen it.")
}

// alertResolve closes the alert with notes (ADMIN, CAREGIVER).
func (h *Handler) alertResolve(w http.ResponseWriter, r *http.Request, v *viewer) {
	f, err := parseForm(w, r, "notes")
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	id := r.PathValue("aid")
	a, err := h.db.ResolveAlert(r.Context(), id, f.Get("notes"))
	if err != nil {
		if carecircle.ErrorCode(err) == carecircle.ENOTFOUND {
			h.fail(w, r, v, err)
			return
		}
		redirect(w, r, "/alerts/"+id, "error", errorText(err))
		return
	}
	redirect(w, r, "/care/"+a.CareRecipientID+"/emergency", "ok", "The alert is resolved.")
}
