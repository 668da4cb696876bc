package web

import (
	"net/http"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/storage"
)

var alertFields = []string{"type", "description", "location"}

type emergencyData struct {
	Info     carecircle.EmergencyInfo
	History  []carecircle.EmergencyAlert
	CanWrite bool
	Form     *form
	Print    bool
}

// emergencyPage raises, acknowledges and resolves alerts for a recipient,
// and shows their emergency information card. The service worker keeps a
// copy of this page for each of the user's recipients, so it opens with no
// network at all.
func (h *Handler) emergencyPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	c, ok := h.loadRecipient(w, r, v)
	if !ok {
		return
	}
	f := newForm(alertFields...)
	f.Set("type", string(carecircle.AlertMedical))
	h.renderEmergency(w, r, v, c, f, http.StatusOK)
}

func (h *Handler) renderEmergency(w http.ResponseWriter, r *http.Request, v *viewer, c *carecircle.CareRecipient, f *form, status int) {
	d, err := h.emergencyData(r, v, c)
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	d.Form = f
	p := h.carePage(w, r, v, c, "emergency", "Emergency")
	p.Data = d
	h.render(w, r, status, "emergency", p)
}

func (h *Handler) emergencyData(r *http.Request, v *viewer, c *carecircle.CareRecipient) (emergencyData, error) {
	d := emergencyData{CanWrite: v.CanWrite(c.FamilyID)}
	var err error
	if d.Info, err = h.db.EmergencyInfo(r.Context(), c.ID); err != nil {
		return d, err
	}
	if d.History, _, err = h.db.Alerts(r.Context(), c.ID, carecircle.AlertResolved, storage.Page{Limit: 5}); err != nil {
		return d, err
	}
	return d, nil
}

// emergencyCardPage is the emergency information alone, laid out to print
// and hand to a paramedic.
func (h *Handler) emergencyCardPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	c, ok := h.loadRecipient(w, r, v)
	if !ok {
		return
	}
	d, err := h.emergencyData(r, v, c)
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	d.Print = true
	p := h.carePage(w, r, v, c, "emergency", "Emergency card")
	p.Data = d
	h.render(w, r, http.StatusOK, "emergency_card", p)
}

// alertRaise raises an alert that reaches every family member at once. The
// description may be left empty in a hurry: the alert's kind stands in.
func (h *Handler) alertRaise(w http.ResponseWriter, r *http.Request, v *viewer) {
	c, ok := h.loadRecipient(w, r, v)
	if !ok {
		return
	}
	f, err := parseForm(w, r, alertFields...)
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	a := carecircle.EmergencyAlert{CareRecipientID: c.ID, Type: carecircle.AlertType(f.Get("type")),
		Description: f.Get("description"), Location: f.Get("location")}
	if a.Description == "" && a.Type.Valid() {
		a.Description = alertTypeLabel(a.Type) + " — raised by " + v.FullName
	}
	a, err = h.db.RaiseAlert(r.Context(), a)
	if err != nil {
		h.renderEmergency(w, r, v, c, f, f.Fail(err))
		return
	}
	redirect(w, r, "/alerts/"+a.ID, "ok", "The whole family is being alerted now.")
}

// alertTypeLabel names an alert type in a sentence.
func alertTypeLabel(t carecircle.AlertType) string {
	switch t {
	case carecircle.AlertFall:
		return "Fall"
	case carecircle.AlertMedical:
		return "Medical emergency"
	case carecircle.AlertMissing:
		return "Missing"
	case carecircle.AlertHospitalization:
		return "Taken to hospital"
	}
	return "Emergency"
}
