package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/carecircle/carecircle"
)

// RecipientFields are the writable fields of a care recipient. In PATCH,
// absent fields keep their value.
type RecipientFields struct {
	FirstName *string `json:"firstName,omitempty" maxLength:"200"`
	LastName  *string `json:"lastName,omitempty" maxLength:"200"`
	Timezone  *string `json:"timezone,omitempty" maxLength:"64" doc:"IANA time zone"`
	RecipientDetails
}

// RecipientDetails are the fields of a care recipient that are optional
// when it is created.
type RecipientDetails struct {
	PreferredName     *string                       `json:"preferredName,omitempty" maxLength:"200"`
	DateOfBirth       *string                       `json:"dateOfBirth,omitempty" maxLength:"10" doc:"YYYY-MM-DD; empty clears"`
	BloodType         *string                       `json:"bloodType,omitempty" maxLength:"10"`
	Allergies         []string                      `json:"allergies,omitempty" maxItems:"50"`
	Conditions        []string                      `json:"conditions,omitempty" maxItems:"50"`
	Notes             *string                       `json:"notes,omitempty" maxLength:"5000"`
	PrimaryHospital   *string                       `json:"primaryHospital,omitempty" maxLength:"200"`
	Insurance         *carecircle.Insurance         `json:"insurance,omitempty"`
	EmergencyContacts []carecircle.EmergencyContact `json:"emergencyContacts,omitempty" maxItems:"20"`
	Doctors           []carecircle.Doctor           `json:"doctors,omitempty" maxItems:"20"`
	MissedDoseMinutes *int                          `json:"missedDoseMinutes,omitempty" minimum:"5" maximum:"720" doc:"minutes after a dose's time before the family is alerted it was missed"`
}

// apply copies the set fields onto c and reports a malformed date.
func (f *RecipientFields) apply(c *carecircle.CareRecipient, p *carecircle.Problems) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = strings.TrimSpace(*src)
		}
	}
	set(&c.FirstName, f.FirstName)
	set(&c.LastName, f.LastName)
	set(&c.PreferredName, f.PreferredName)
	set(&c.BloodType, f.BloodType)
	set(&c.Timezone, f.Timezone)
	set(&c.Notes, f.Notes)
	set(&c.PrimaryHospital, f.PrimaryHospital)
	if f.DateOfBirth != nil {
		if *f.DateOfBirth == "" {
			c.DateOfBirth = nil
		} else if d, err := carecircle.ParseDate(*f.DateOfBirth); err != nil {
			p.Add(true, "dateOfBirth must be a date (YYYY-MM-DD)")
		} else {
			c.DateOfBirth = &d
		}
	}
	if f.Allergies != nil {
		c.Allergies = f.Allergies
	}
	if f.Conditions != nil {
		c.Conditions = f.Conditions
	}
	if f.Insurance != nil {
		c.Insurance = f.Insurance
		if *f.Insurance == (carecircle.Insurance{}) {
			c.Insurance = nil
		}
	}
	if f.EmergencyContacts != nil {
		c.EmergencyContacts = f.EmergencyContacts
	}
	if f.Doctors != nil {
		c.Doctors = f.Doctors
	}
	if f.MissedDoseMinutes != nil {
		c.MissedDoseMinutes = *f.MissedDoseMinutes
	}
}

// createRecipientInput requires what DESIGN §3 does not mark optional, so a
// body missing several gets all of them named at once.
type createRecipientInput struct {
	Body struct {
		FamilyID  string `json:"familyId" maxLength:"64"`
		FirstName string `json:"firstName" maxLength:"200"`
		LastName  string `json:"lastName" maxLength:"200"`
		Timezone  string `json:"timezone" maxLength:"64" doc:"IANA time zone"`
		RecipientDetails
	}
}

type recipientIDInput struct {
	ID string `path:"id" maxLength:"64"`
}

type patchRecipientInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body RecipientFields
}

type listRecipientsInput struct {
	FamilyID string `query:"familyId" maxLength:"64"`
	PageQuery
}

func (s *Server) registerRecipients() {
	const tag = "Care recipients"
	huma.Register(s.api, op("listCareRecipients", http.MethodGet, "/care-recipients", "Care recipients of your families", tag, 200, true), s.listRecipients)
	huma.Register(s.api, op("createCareRecipient", http.MethodPost, "/care-recipients", "Add a care recipient (ADMIN, CAREGIVER)", tag, 201, true), s.createRecipient)
	huma.Register(s.api, op("getCareRecipient", http.MethodGet, "/care-recipients/{id}", "A care recipient", tag, 200, true), s.getRecipient)
	huma.Register(s.api, op("updateCareRecipient", http.MethodPatch, "/care-recipients/{id}", "Update a care recipient (ADMIN, CAREGIVER)", tag, 200, true), s.updateRecipient)
	huma.Register(s.api, op("deleteCareRecipient", http.MethodDelete, "/care-recipients/{id}", "Remove a care recipient (ADMIN; history is kept)", tag, 204, true), s.deleteRecipient)
}

func (s *Server) listRecipients(ctx context.Context, in *listRecipientsInput) (*Body[List[carecircle.CareRecipient]], error) {
	rs, err := s.db.Recipients(ctx, in.FamilyID)
	if err != nil {
		return nil, err
	}
	l, err := pageOf(rs, func(c carecircle.CareRecipient) string { return c.ID }, in.PageQuery)
	return &Body[List[carecircle.CareRecipient]]{Body: l}, err
}

func (s *Server) createRecipient(ctx context.Context, in *createRecipientInput) (*Body[carecircle.CareRecipient], error) {
	b := in.Body
	c := carecircle.CareRecipient{FamilyID: b.FamilyID}
	var p carecircle.Problems
	f := RecipientFields{FirstName: &b.FirstName, LastName: &b.LastName, Timezone: &b.Timezone, RecipientDetails: b.RecipientDetails}
	f.apply(&c, &p)
	if err := p.Err(); err != nil {
		return nil, err
	}
	c, err := s.db.CreateRecipient(ctx, c)
	return &Body[carecircle.CareRecipient]{Body: c}, err
}

func (s *Server) getRecipient(ctx context.Context, in *recipientIDInput) (*Body[carecircle.CareRecipient], error) {
	c, err := s.db.Recipient(ctx, in.ID)
	return &Body[carecircle.CareRecipient]{Body: c}, err
}

func (s *Server) updateRecipient(ctx context.Context, in *patchRecipientInput) (*Body[carecircle.CareRecipient], error) {
	c, err := s.db.UpdateRecipient(ctx, in.ID, func(c *carecircle.CareRecipient) error {
		var p carecircle.Problems
		in.Body.apply(c, &p)
		return p.Err()
	})
	return &Body[carecircle.CareRecipient]{Body: c}, err
}

func (s *Server) deleteRecipient(ctx context.Context, in *recipientIDInput) (*NoContent, error) {
	return nil, s.db.DeleteRecipient(ctx, in.ID)
}
