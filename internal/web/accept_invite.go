package web

import (
	"net/http"

	"github.com/carecircle/carecircle"
)

type acceptInviteData struct {
	Token  string
	Info   carecircle.InviteInfo
	Err    string
	WrongU bool // signed in with another address
}

// acceptInvitePage shows which family invites the visitor, with what
// role, and for which address; then sign in or register with that address,
// and accept.
func (h *Handler) acceptInvitePage(w http.ResponseWriter, r *http.Request, v *viewer) {
	tok := r.PathValue("token")
	d := acceptInviteData{Token: tok}
	status := http.StatusOK
	info, err := h.db.InviteInfo(r.Context(), tok)
	switch {
	case err == nil:
		d.Info = info
		d.WrongU = v != nil && carecircle.NormalizeEmail(v.Email) != carecircle.NormalizeEmail(info.Email)
	case carecircle.ErrorCode(err) == carecircle.ENOTFOUND:
		d.Err, status = "This invitation doesn't exist or has been cancelled.", http.StatusNotFound
	case carecircle.ErrorCode(err) == carecircle.EGONE:
		d.Err, status = "This invitation has expired. Ask the family to send a new one.", http.StatusGone
	case carecircle.ErrorCode(err) == carecircle.ECONFLICT:
		d.Err, status = "This invitation has already been used.", http.StatusConflict
	default:
		h.fail(w, r, v, err)
		return
	}
	p := h.newPage(w, r, v, "Join a family")
	p.Data = d
	h.render(w, r, status, "accept_invite", p)
}

// acceptInviteSubmit joins the family (the signed-in address must be the
// invited one).
func (h *Handler) acceptInviteSubmit(w http.ResponseWriter, r *http.Request, v *viewer) {
	tok := r.PathValue("token")
	back := "/accept-invite/" + tok
	if v == nil {
		http.Redirect(w, r, loginURL(back), http.StatusSeeOther)
		return
	}
	fid, role, err := h.db.AcceptInvite(r.Context(), tok)
	if err != nil {
		redirect(w, r, back, "error", carecircle.ErrorMessage(err))
		return
	}
	name := "the family"
	if f, err := h.db.Family(r.Context(), fid); err == nil {
		name = f.Name
	}
	redirect(w, r, "/family#"+fid, "ok", "Welcome! You joined "+name+" as "+roleLabel(role)+".")
}

// roleLabel names a role in a sentence.
func roleLabel(r carecircle.Role) string {
	switch r {
	case carecircle.RoleAdmin:
		return "an admin"
	case carecircle.RoleCaregiver:
		return "a caregiver"
	}
	return "a viewer"
}
