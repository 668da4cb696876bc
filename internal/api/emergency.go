package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/carecircle/carecircle"
)

type raiseAlertInput struct {
	Body struct {
		CareRecipientID string `json:"careRecipientId" maxLength:"64"`
		Type            string `json:"type" enum:"FALL,MEDICAL,MISSING,HOSPITALIZATION,OTHER"`
		Description     string `json:"description" maxLength:"2000"`
		Location        string `json:"location,omitempty" maxLength:"500"`
	}
}

type alertIDInput struct {
	ID string `path:"id" maxLength:"64"`
}

type resolveAlertInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body *struct {
		Notes string `json:"notes,omitempty" maxLength:"5000"`
	}
}

type listAlertsInput struct {
	ID     string `path:"id" maxLength:"64"`
	Status string `query:"status" enum:"ACTIVE,ACKNOWLEDGED,RESOLVED"`
	PageQuery
}

func (s *Server) registerEmergency() {
	const tag = "Emergency"
	huma.Register(s.api, op("raiseEmergencyAlert", http.MethodPost, "/emergency/alert", "Raise an emergency alert (ADMIN, CAREGIVER)", tag, 201, true), s.raiseAlert)
	huma.Register(s.api, op("getEmergencyAlert", http.MethodGet, "/emergency/alerts/{id}", "An emergency alert", tag, 200, true), s.getAlert)
	huma.Register(s.api, op("acknowledgeEmergencyAlert", http.MethodPost, "/emergency/alerts/{id}/acknowledge", "Acknowledge an alert (any member)", tag, 200, true), s.acknowledgeAlert)
	huma.Register(s.api, op("resolveEmergencyAlert", http.MethodPost, "/emergency/alerts/{id}/resolve", "Resolve an alert (ADMIN, CAREGIVER)", tag, 200, true), s.resolveAlert)
	huma.Register(s.api, op("listEmergencyAlerts", http.MethodGet, "/care-recipients/{id}/emergency-alerts", "Emergency alerts, newest first", tag, 200, true), s.listAlerts)
	huma.Register(s.api, op("getEmergencyInfo", http.MethodGet, "/care-recipients/{id}/emergency-info", "Everything a paramedic or ER needs, on one page", tag, 200, true), s.emergencyInfo)
}

func (s *Server) raiseAlert(ctx context.Context, in *raiseAlertInput) (*Body[carecircle.EmergencyAlert], error) {
	b := in.Body
	a, err := s.db.RaiseAlert(ctx, carecircle.EmergencyAlert{CareRecipientID: b.CareRecipientID, Type: carecircle.AlertType(b.Type),
		Description: b.Description, Location: b.Location})
	return &Body[carecircle.EmergencyAlert]{Body: a}, err
}

func (s *Server) getAlert(ctx context.Context, in *alertIDInput) (*Body[carecircle.EmergencyAlert], error) {
	a, err := s.db.Alert(ctx, in.ID)
	return &Body[carecircle.EmergencyAlert]{Body: a}, err
}

func (s *Server) acknowledgeAlert(ctx context.Context, in *alertIDInput) (*Body[carecircle.EmergencyAlert], error) {
	a, err := s.db.AcknowledgeAlert(ctx, in.ID)
	return &Body[carecircle.EmergencyAlert]{Body: a}, err
}

func (s *Server) resolveAlert(ctx context.Context, in *resolveAlertInput) (*Body[carecircle.EmergencyAlert], error) {
	notes := ""
	if in.Body != nil {
		notes = in.Body.Notes
	}
	a, err := s.db.ResolveAlert(ctx, in.ID, notes)
	return &Body[carecircle.EmergencyAlert]{Body: a}, err
}

func (s *Server) listAlerts(ctx context.Context, in *listAlertsInput) (*Body[List[carecircle.EmergencyAlert]], error) {
	items, next, err := s.db.Alerts(ctx, in.ID, carecircle.AlertStatus(in.Status), in.page())
	return &Body[List[carecircle.EmergencyAlert]]{Body: List[carecircle.EmergencyAlert]{Items: items, NextCursor: next}}, err
}

func (s *Server) emergencyInfo(ctx context.Context, in *recipientIDInput) (*Body[carecircle.EmergencyInfo], error) {
	info, err := s.db.EmergencyInfo(ctx, in.ID)
	return &Body[carecircle.EmergencyInfo]{Body: info}, err
}
