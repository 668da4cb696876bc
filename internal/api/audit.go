package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/carecircle/carecircle/internal/storage"
)

type auditInput struct {
	ID string `path:"id" maxLength:"64"`
	PageQuery
}

func (s *Server) registerAudit() {
	huma.Register(s.api, op("familyAudit", http.MethodGet, "/families/{id}/audit",
		"The family's audit log: who did what, when, from which session (ADMIN)", "Families", 200, true), s.familyAudit)
}

func (s *Server) familyAudit(ctx context.Context, in *auditInput) (*Body[List[storage.AuditEntry]], error) {
	items, next, err := s.db.Audit(ctx, in.ID, in.page())
	return &Body[List[storage.AuditEntry]]{Body: List[storage.AuditEntry]{Items: items, NextCursor: next}}, err
}
