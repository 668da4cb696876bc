package web

import (
	"net/http"

	"github.com/carecircle/carecircle"
)

// familyView is one family on the family page.
type familyView struct {
	carecircle.MyFamily
	Members    []carecircle.Member
	Invites    []carecircle.Invite
	Recipients []carecircle.CareRecipient
	IsAdmin    bool
	InviteForm *form
}

type familyData struct {
	Families   []familyView
	CreateForm *form
	InviteForm *form
	// InviteFamily is the family whose invite form failed validation.
	InviteFamily string
}

// familyPage lists the viewer's families with their members, roles,
// pending invitations and the people they care for; admins invite, change
// roles and remove; everyone may leave.
func (h *Handler) familyPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	h.renderFamily(w, r, v, familyData{CreateForm: newForm("name"), InviteForm: newForm("email", "role")}, http.StatusOK)
}

func (h *Handler) renderFamily(w http.ResponseWriter, r *http.Request, v *viewer, d familyData, status int) {
	ctx := r.Context()
	for _, f := range v.Families {
		fv := familyView{MyFamily: f, IsAdmin: f.Role == carecircle.RoleAdmin, InviteForm: newForm("email", "role")}
		if d.InviteFamily == f.ID {
			fv.InviteForm = d.InviteForm
		}
		var err error
		if fv.Members, err = h.db.Members(ctx, f.ID); err != nil {
			h.fail(w, r, v, err)
			return
		}
		if fv.IsAdmin {
			if fv.Invites, err = h.db.Invites(ctx, f.ID); err != nil {
				h.fail(w, r, v, err)
				return
			}
		}
		for _, c := range v.Recipients {
			if c.FamilyID == f.ID {
				fv.Recipients = append(fv.Recipients, c)
			}
		}
		d.Families = append(d.Families, fv)
	}
	p := h.newPage(w, r, v, "Family")
	p.Tab = "family"
	p.Data = d
	h.render(w, r, status, "family", p)
}

// familyCreate creates a family with the viewer as ADMIN.
func (h *Handler) familyCreate(w http.ResponseWriter, r *http.Request, v *viewer) {
	f, err := parseForm(w, r, "name")
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	fam, err := h.db.CreateFamily(r.Context(), f.Get("name"))
	if err != nil {
		status := f.Fail(err)
		if len(v.Families) == 0 {
			// The first family is created from the dashboard's welcome card.
			d, derr := h.dashboard(r, v)
			if derr != nil {
				h.fail(w, r, v, derr)
				return
			}
			d.Form = f
			p := h.newPage(w, r, v, "Dashboard")
			p.Data = d
			h.render(w, r, status, "dashboard", p)
			return
		}
		h.renderFamily(w, r, v, familyData{CreateForm: f, InviteForm: newForm("email", "role")}, status)
		return
	}
	redirect(w, r, "/care/new?family="+fam.ID, "ok", fam.Name+" is created. Now add the person you care for.")
}

// familyRename renames a family (ADMIN).
func (h *Handler) familyRename(w http.ResponseWriter, r *http.Request, v *viewer) {
	f, err := parseForm(w, r, "name")
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	id := r.PathValue("id")
	if _, err := h.db.RenameFamily(r.Context(), id, f.Get("name")); err != nil {
		redirect(w, r, "/family#"+id, "error", errorText(err))
		return
	}
	redirect(w, r, "/family#"+id, "ok", "The family is renamed.")
}

// inviteCreate invites someone by email (ADMIN); the API's Invite sends
// the email with the link.
func (h *Handler) inviteCreate(w http.ResponseWriter, r *http.Request, v *viewer) {
	f, err := parseForm(w, r, "email", "role")
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	id := r.PathValue("id")
	role := carecircle.Role(f.Get("role"))
	if !role.Valid() {
		f.Add("role", "Choose a role")
	}
	if !f.Failed() {
		inv, err := h.api.Invite(r.Context(), id, f.Get("email"), role)
		if err == nil {
			redirect(w, r, "/family#"+id, "ok", "Invitation sent to "+inv.Email+". It is valid for 7 days.")
			return
		}
		if code := carecircle.ErrorCode(err); code == carecircle.ENOTFOUND || code == carecircle.EFORBIDDEN {
			h.fail(w, r, v, err)
			return
		}
		f.Fail(err)
	}
	h.renderFamily(w, r, v, familyData{CreateForm: newForm("name"), InviteForm: f, InviteFamily: id}, http.StatusBadRequest)
}

// inviteRevoke cancels a pending invitation (ADMIN).
func (h *Handler) inviteRevoke(w http.ResponseWriter, r *http.Request, v *viewer) {
	id := r.PathValue("id")
	if err := h.db.RevokeInvite(r.Context(), id, r.PathValue("inviteId")); err != nil {
		redirect(w, r, "/family#"+id, "error", errorText(err))
		return
	}
	redirect(w, r, "/family#"+id, "ok", "The invitation is cancelled.")
}

// memberRole changes a member's role (ADMIN; the last admin stays).
func (h *Handler) memberRole(w http.ResponseWriter, r *http.Request, v *viewer) {
	f, err := parseForm(w, r, "role")
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	id := r.PathValue("id")
	m, err := h.db.ChangeRole(r.Context(), id, r.PathValue("uid"), carecircle.Role(f.Get("role")))
	if err != nil {
		redirect(w, r, "/family#"+id, "error", errorText(err))
		return
	}
	redirect(w, r, "/family#"+id, "ok", m.FullName+" is now "+roleLabel(m.Role)+".")
}

// memberRemove removes a member (ADMIN), or the viewer themself (leave).
func (h *Handler) memberRemove(w http.ResponseWriter, r *http.Request, v *viewer) {
	id, uid := r.PathValue("id"), r.PathValue("uid")
	if err := h.db.RemoveMember(r.Context(), id, uid); err != nil {
		redirect(w, r, "/family#"+id, "error", errorText(err))
		return
	}
	if uid == v.ID {
		redirect(w, r, "/dashboard", "ok", "You left "+v.FamilyName(id)+".")
		return
	}
	redirect(w, r, "/family#"+id, "ok", "The member is removed.")
}

// errorText is an error as one sentence for a flash message.
func errorText(err error) string {
	var f form
	f.Errors = map[string][]string{}
	f.Fail(err)
	if m := f.FirstError(); m != "" {
		return m
	}
	return carecircle.ErrorMessage(err)
}
