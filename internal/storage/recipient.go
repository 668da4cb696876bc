package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/carecircle/carecircle"
)

const recipientColumns = `cr.id, cr.family_id, cr.first_name, cr.last_name, cr.preferred_name, cr.date_of_birth,
	cr.blood_type, cr.allergies, cr.conditions, cr.timezone, cr.notes, cr.primary_hospital, cr.insurance,
	cr.emergency_contacts, cr.doctors, cr.missed_dose_minutes, cr.created_at, cr.updated_at`

func scanRecipient(row rowScanner) (carecircle.CareRecipient, error) {
	var c carecircle.CareRecipient
	var dob, insurance sql.NullString
	var allergies, conditions, contacts, doctors string
	var created, updated int64
	err := row.Scan(&c.ID, &c.FamilyID, &c.FirstName, &c.LastName, &c.PreferredName, &dob, &c.BloodType,
		&allergies, &conditions, &c.Timezone, &c.Notes, &c.PrimaryHospital, &insurance, &contacts, &doctors,
		&c.MissedDoseMinutes, &created, &updated)
	if err != nil {
		return c, err
	}
	c.CreatedAt, c.UpdatedAt = fromMS(created), fromMS(updated)
	if dob.Valid {
		if d, err := carecircle.ParseDate(dob.String); err == nil {
			c.DateOfBirth = &d
		}
	}
	for _, f := range []struct {
		src string
		dst any
	}{{allergies, &c.Allergies}, {conditions, &c.Conditions}, {contacts, &c.EmergencyContacts}, {doctors, &c.Doctors}} {
		if err := json.Unmarshal([]byte(f.src), f.dst); err != nil {
			return c, fmt.Errorf("decode care recipient %s: %w", c.ID, err)
		}
	}
	if insurance.Valid && insurance.String != "" {
		c.Insurance = new(carecircle.Insurance)
		if err := json.Unmarshal([]byte(insurance.String), c.Insurance); err != nil {
			return c, fmt.Errorf("decode care recipient %s: %w", c.ID, err)
		}
	}
	return c, nil
}

// recipientArgs are the stored forms of the recipient's editable fields, in
// column order first_name .. missed_dose_minutes.
func recipientArgs(c *carecircle.CareRecipient) []any {
	js := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	var dob, insurance any
	if c.DateOfBirth != nil {
		dob = c.DateOfBirth.String()
	}
	if c.Insurance != nil {
		insurance = js(c.Insurance)
	}
	return []any{c.FirstName, c.LastName, c.PreferredName, dob, c.BloodType, js(c.Allergies), js(c.Conditions),
		c.Timezone, c.Notes, c.PrimaryHospital, insurance, js(c.EmergencyContacts), js(c.Doctors), c.MissedDoseMinutes}
}

func normalizeRecipient(c *carecircle.CareRecipient) {
	if c.Allergies == nil {
		c.Allergies = []string{}
	}
	if c.Conditions == nil {
		c.Conditions = []string{}
	}
	if c.EmergencyContacts == nil {
		c.EmergencyContacts = []carecircle.EmergencyContact{}
	}
	if c.Doctors == nil {
		c.Doctors = []carecircle.Doctor{}
	}
	if c.MissedDoseMinutes == 0 {
		c.MissedDoseMinutes = carecircle.DefaultMissedDoseMinutes
	}
}

// CreateRecipient adds a care recipient to a family (ADMIN or CAREGIVER).
func (db *DB) CreateRecipient(ctx context.Context, c carecircle.CareRecipient) (carecircle.CareRecipient, error) {
	normalizeRecipient(&c)
	err := db.write(ctx, func(tx *Tx) error {
		if !carecircle.HasPrefix(c.FamilyID, carecircle.PrefixFamily) {
			if c.FamilyID == "" {
				// No family to hide: report every missing field at once.
				p := carecircle.Problems{"familyId should not be empty"}
				var ce *carecircle.Error
				if errors.As(c.Validate(), &ce) {
					p = append(p, ce.Fields...)
				}
				return p.Err()
			}
			return notFound("family")
		}
		role, err := familyRole(ctx, tx, c.FamilyID)
		if err != nil {
			return err
		}
		if err := role.Require(carecircle.RoleCaregiver); err != nil {
			return err
		}
		if err := c.Validate(); err != nil {
			return err
		}
		c.ID, c.CreatedAt, c.UpdatedAt = carecircle.NewID(carecircle.PrefixRecipient), tx.nowT, tx.nowT
		args := append([]any{c.ID, c.FamilyID}, recipientArgs(&c)...)
		args = append(args, tx.now)
		if _, err := tx.ExecContext(ctx, `INSERT INTO care_recipients (id, family_id, first_name, last_name, preferred_name,
			date_of_birth, blood_type, allergies, conditions, timezone, notes, primary_hospital, insurance,
			emergency_contacts, doctors, missed_dose_minutes, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17)`, args...); err != nil {
			return fmt.Errorf("create care recipient: %w", err)
		}
		return tx.emit(ctx, carecircle.EventRecipientCreated, "/api/v1/care-recipients", c.FamilyID, c.ID,
			map[string]any{"name": c.DisplayName(), "timezone": c.Timezone})
	})
	return c, err
}

// Recipients lists the care recipients of the caller's families, or of one
// family when familyID is set.
func (db *DB) Recipients(ctx context.Context, familyID string) ([]carecircle.CareRecipient, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := db.r.QueryContext(ctx, `SELECT `+recipientColumns+` FROM care_recipients cr
		JOIN family_members m ON m.family_id = cr.family_id AND m.user_id = $1
		WHERE cr.deleted_at IS NULL AND ($2 = '' OR cr.family_id = $2)
		ORDER BY cr.created_at, cr.id LIMIT 500`, a.UserID, familyID)
	if err != nil {
		return nil, fmt.Errorf("list care recipients: %w", err)
	}
	return collect(rows, scanRecipient)
}

// Recipient returns one care recipient of the caller's families.
func (db *DB) Recipient(ctx context.Context, id string) (carecircle.CareRecipient, error) {
	return recipient(ctx, db.r, id)
}

func recipient(ctx context.Context, q querier, id string) (carecircle.CareRecipient, error) {
	a, err := actor(ctx)
	if err != nil {
		return carecircle.CareRecipient{}, err
	}
	c, err := scanRecipient(q.QueryRowContext(ctx, `SELECT `+recipientColumns+` FROM care_recipients cr
		JOIN family_members m ON m.family_id = cr.family_id AND m.user_id = $2
		WHERE cr.id = $1 AND cr.deleted_at IS NULL`, id, a.UserID))
	if errors.Is(err, sql.ErrNoRows) {
		return c, notFound("care recipient")
	}
	if err != nil {
		return c, fmt.Errorf("read care recipient: %w", err)
	}
	return c, nil
}

// UpdateRecipient loads the recipient, lets apply change it, validates and
// saves it (ADMIN or CAREGIVER).
func (db *DB) UpdateRecipient(ctx context.Context, id string, apply func(*carecircle.CareRecipient) error) (carecircle.CareRecipient, error) {
	var c carecircle.CareRecipient
	err := db.write(ctx, func(tx *Tx) error {
		s, err := recipientScope(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := s.Role.Require(carecircle.RoleCaregiver); err != nil {
			return err
		}
		if c, err = recipient(ctx, tx, id); err != nil {
			return err
		}
		oldTZ := c.Timezone
		if err := apply(&c); err != nil {
			return err
		}
		c.ID, c.FamilyID = id, s.FamilyID
		normalizeRecipient(&c)
		if err := c.Validate(); err != nil {
			return err
		}
		c.UpdatedAt = tx.nowT
		args := append(recipientArgs(&c), tx.now, id)
		if _, err := tx.ExecContext(ctx, `UPDATE care_recipients SET first_name = $1, last_name = $2, preferred_name = $3,
			date_of_birth = $4, blood_type = $5, allergies = $6, conditions = $7, timezone = $8, notes = $9,
			primary_hospital = $10, insurance = $11, emergency_contacts = $12, doctors = $13, missed_dose_minutes = $14,
			updated_at = $15 WHERE id = $16`, args...); err != nil {
			return fmt.Errorf("update care recipient: %w", err)
		}
		return tx.emit(ctx, carecircle.EventRecipientUpdated, "/api/v1/care-recipients/"+id, s.FamilyID, id,
			map[string]any{"name": c.DisplayName(), "timezone": c.Timezone, "timezoneChanged": oldTZ != c.Timezone})
	})
	return c, err
}

// DeleteRecipient soft-deletes a care recipient (ADMIN); history stays.
func (db *DB) DeleteRecipient(ctx context.Context, id string) error {
	return db.write(ctx, func(tx *Tx) error {
		s, err := recipientScope(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := s.Role.Require(carecircle.RoleAdmin); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE care_recipients SET deleted_at = $1, updated_at = $1 WHERE id = $2`, tx.now, id); err != nil {
			return fmt.Errorf("delete care recipient: %w", err)
		}
		return tx.emit(ctx, carecircle.EventRecipientDeleted, "/api/v1/care-recipients/"+id, s.FamilyID, id,
			map[string]any{"name": s.Name})
	})
}
