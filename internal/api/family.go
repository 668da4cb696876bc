package api

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/carecircle/carecircle"
)

type familyBody struct {
	Body struct {
		Name string `json:"name" maxLength:"200"`
	}
}

type familyIDInput struct {
	ID string `path:"id" maxLength:"64"`
}

type listFamiliesInput struct {
	PageQuery
}

type familyListInput struct {
	ID string `path:"id" maxLength:"64"`
	PageQuery
}

type renameFamilyInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		Name string `json:"name" maxLength:"200"`
	}
}

// FamilyDetail is a family with its members.
type FamilyDetail struct {
	carecircle.Family
	Members []carecircle.Member `json:"members"`
}

type memberInput struct {
	ID     string `path:"id" maxLength:"64"`
	UserID string `path:"uid" maxLength:"64"`
}

type changeRoleInput struct {
	ID     string `path:"id" maxLength:"64"`
	UserID string `path:"uid" maxLength:"64"`
	Body   struct {
		Role carecircle.Role `json:"role" enum:"ADMIN,CAREGIVER,VIEWER"`
	}
}

type inviteInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		Email string          `json:"email" maxLength:"254"`
		Role  carecircle.Role `json:"role" enum:"ADMIN,CAREGIVER,VIEWER"`
	}
}

// InviteCreated is the answer to an invitation: the token is only in the email.
type InviteCreated struct {
	ID        string          `json:"id"`
	Email     string          `json:"email"`
	Role      carecircle.Role `json:"role"`
	ExpiresAt time.Time       `json:"expiresAt"`
}

type revokeInviteInput struct {
	ID       string `path:"id" maxLength:"64"`
	InviteID string `path:"inviteId" maxLength:"64"`
}

type inviteTokenInput struct {
	Token string `path:"token" maxLength:"200"`
}

// InviteAccepted is the answer to accepting an invitation.
type InviteAccepted struct {
	FamilyID string          `json:"familyId"`
	Role     carecircle.Role `json:"role"`
}

func (s *Server) registerFamilies() {
	const tag = "Families"
	huma.Register(s.api, op("createFamily", http.MethodPost, "/families", "Create a family (you become ADMIN)", tag, 201, true), s.createFamily)
	huma.Register(s.api, op("listFamilies", http.MethodGet, "/families", "Your families", tag, 200, true), s.listFamilies)
	huma.Register(s.api, op("getFamily", http.MethodGet, "/families/{id}", "A family with its members", tag, 200, true), s.getFamily)
	huma.Register(s.api, op("renameFamily", http.MethodPatch, "/families/{id}", "Rename a family (ADMIN)", tag, 200, true), s.renameFamily)
	huma.Register(s.api, op("listMembers", http.MethodGet, "/families/{id}/members", "Members of a family", tag, 200, true), s.listMembers)
	huma.Register(s.api, op("changeRole", http.MethodPatch, "/families/{id}/members/{uid}", "Change a member's role (ADMIN)", tag, 200, true), s.changeRole)
	huma.Register(s.api, op("removeMember", http.MethodDelete, "/families/{id}/members/{uid}", "Remove a member, or leave", tag, 204, true), s.removeMember)
	huma.Register(s.api, op("createInvite", http.MethodPost, "/families/{id}/invites", "Invite someone by email (ADMIN)", tag, 201, true), s.createInvite)
	huma.Register(s.api, op("listInvites", http.MethodGet, "/families/{id}/invites", "Pending invitations (ADMIN)", tag, 200, true), s.listInvites)
	huma.Register(s.api, op("revokeInvite", http.MethodDelete, "/families/{id}/invites/{inviteId}", "Cancel an invitation (ADMIN)", tag, 204, true), s.revokeInvite)
	huma.Register(s.api, op("inviteInfo", http.MethodGet, "/invites/{token}", "What an invitation is for (public)", "Invites", 200, false), s.inviteInfo)
	huma.Register(s.api, op("acceptInvite", http.MethodPost, "/invites/{token}/accept", "Accept an invitation", "Invites", 200, true), s.acceptInvite)
}

func (s *Server) createFamily(ctx context.Context, in *familyBody) (*Body[carecircle.Family], error) {
	f, err := s.db.CreateFamily(ctx, in.Body.Name)
	return &Body[carecircle.Family]{Body: f}, err
}

func (s *Server) listFamilies(ctx context.Context, in *listFamiliesInput) (*Body[List[carecircle.Family]], error) {
	fs, err := s.db.Families(ctx)
	if err != nil {
		return nil, err
	}
	l, err := pageOf(fs, func(f carecircle.Family) string { return f.ID }, in.PageQuery)
	return &Body[List[carecircle.Family]]{Body: l}, err
}

func (s *Server) getFamily(ctx context.Context, in *familyIDInput) (*Body[FamilyDetail], error) {
	f, err := s.db.Family(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	ms, err := s.db.Members(ctx, in.ID)
	return &Body[FamilyDetail]{Body: FamilyDetail{Family: f, Members: ms}}, err
}

func (s *Server) renameFamily(ctx context.Context, in *renameFamilyInput) (*Body[carecircle.Family], error) {
	f, err := s.db.RenameFamily(ctx, in.ID, in.Body.Name)
	return &Body[carecircle.Family]{Body: f}, err
}

func (s *Server) listMembers(ctx context.Context, in *familyListInput) (*Body[List[carecircle.Member]], error) {
	ms, err := s.db.Members(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	l, err := pageOf(ms, func(m carecircle.Member) string { return m.UserID }, in.PageQuery)
	return &Body[List[carecircle.Member]]{Body: l}, err
}

func (s *Server) changeRole(ctx context.Context, in *changeRoleInput) (*Body[carecircle.Member], error) {
	m, err := s.db.ChangeRole(ctx, in.ID, in.UserID, in.Body.Role)
	return &Body[carecircle.Member]{Body: m}, err
}

func (s *Server) removeMember(ctx context.Context, in *memberInput) (*NoContent, error) {
	return nil, s.db.RemoveMember(ctx, in.ID, in.UserID)
}

func (s *Server) createInvite(ctx context.Context, in *inviteInput) (*Body[InviteCreated], error) {
	ni, err := s.db.CreateInvite(ctx, in.ID, in.Body.Email, in.Body.Role)
	if err != nil {
		return nil, err
	}
	link := s.cfg.BaseURL + "/accept-invite/" + url.PathEscape(ni.Token)
	s.emails.Invite(ni.Invite.Email, ni.InviterName, ni.FamilyName, ni.Invite.Role, link, ni.Invite.ExpiresAt)
	inv := ni.Invite
	return &Body[InviteCreated]{Body: InviteCreated{ID: inv.ID, Email: inv.Email, Role: inv.Role, ExpiresAt: inv.ExpiresAt}}, nil
}

func (s *Server) listInvites(ctx context.Context, in *familyListInput) (*Body[List[carecircle.Invite]], error) {
	is, err := s.db.Invites(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	l, err := pageOf(is, func(i carecircle.Invite) string { return i.ID }, in.PageQuery)
	return &Body[List[carecircle.Invite]]{Body: l}, err
}

func (s *Server) revokeInvite(ctx context.Context, in *revokeInviteInput) (*NoContent, error) {
	return nil, s.db.RevokeInvite(ctx, in.ID, in.InviteID)
}

func (s *Server) inviteInfo(ctx context.Context, in *inviteTokenInput) (*Body[carecircle.InviteInfo], error) {
	info, err := s.db.InviteInfo(ctx, in.Token)
	return &Body[carecircle.InviteInfo]{Body: info}, err
}

func (s *Server) acceptInvite(ctx context.Context, in *inviteTokenInput) (*Body[InviteAccepted], error) {
	fid, role, err := s.db.AcceptInvite(ctx, in.Token)
	return &Body[InviteAccepted]{Body: InviteAccepted{FamilyID: fid, Role: role}}, err
}
