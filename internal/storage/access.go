package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/carecircle/carecircle"
)

// This file is the one place that decides who may see what. Every
// family-scoped query goes through one of these functions, which join the
// caller's membership in SQL; a row of a family the caller is not in is
// indistinguishable from a missing row (ENOTFOUND).

// actor returns the signed-in caller or EUNAUTHORIZED.
func actor(ctx context.Context) (carecircle.Actor, error) {
	a, ok := carecircle.ActorFrom(ctx)
	if !ok {
		return carecircle.Actor{}, carecircle.Errorf(carecircle.EUNAUTHORIZED, "sign in required")
	}
	return a, nil
}

// familyRole returns the caller's role in the family.
func familyRole(ctx context.Context, q querier, familyID string) (carecircle.Role, error) {
	a, err := actor(ctx)
	if err != nil {
		return "", err
	}
	var role carecircle.Role
	err = q.QueryRowContext(ctx, `SELECT role FROM family_members WHERE family_id = $1 AND user_id = $2`,
		familyID, a.UserID).Scan(&role)
	if errors.Is(err, sql.ErrNoRows) {
		return "", notFound("family")
	}
	if err != nil {
		return "", fmt.Errorf("family role: %w", err)
	}
	return role, nil
}

// Scope is what the caller may do with one care recipient.
type Scope struct {
	FamilyID    string
	RecipientID string
	Role        carecircle.Role
	Timezone    string
	Name        string // the recipient's display name, for texts
}

// Location returns the recipient's time zone.
func (s Scope) Location() *time.Location {
	loc, err := time.LoadLocation(s.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// requireMakerOrAdmin allows the family's ADMINs, and the member who made a
// record (makerID) while they may still write care data; anyone else gets
// EFORBIDDEN naming who may ("only the <maker> or a family ADMIN may
// change it").
func (s Scope) requireMakerOrAdmin(ctx context.Context, makerID, maker string) error {
	a, err := actor(ctx)
	if err != nil {
		return err
	}
	if s.Role == carecircle.RoleAdmin {
		return nil
	}
	if makerID != a.UserID {
		return carecircle.Errorf(carecircle.EFORBIDDEN, "only the %s or a family ADMIN may change it", maker)
	}
	return s.Role.Require(carecircle.RoleCaregiver)
}

// recipientScope resolves a care recipient through the caller's membership.
// Soft-deleted recipients are not found.
func recipientScope(ctx context.Context, q querier, recipientID string) (Scope, error) {
	a, err := actor(ctx)
	if err != nil {
		return Scope{}, err
	}
	if !carecircle.HasPrefix(recipientID, carecircle.PrefixRecipient) {
		return Scope{}, notFound("care recipient")
	}
	s := Scope{RecipientID: recipientID}
	var first, last, preferred string
	err = q.QueryRowContext(ctx, `SELECT cr.family_id, m.role, cr.timezone, cr.first_name, cr.last_name, cr.preferred_name
		FROM care_recipients cr
		JOIN family_members m ON m.family_id = cr.family_id AND m.user_id = $2
		WHERE cr.id = $1 AND cr.deleted_at IS NULL`, recipientID, a.UserID).
		Scan(&s.FamilyID, &s.Role, &s.Timezone, &first, &last, &preferred)
	if errors.Is(err, sql.ErrNoRows) {
		return Scope{}, notFound("care recipient")
	}
	if err != nil {
		return Scope{}, fmt.Errorf("care recipient scope: %w", err)
	}
	s.Name = preferred
	if s.Name == "" {
		s.Name = first
	}
	return s, nil
}

// RecipientScope is recipientScope for callers outside this package (the
// web UI and the iCalendar feed).
func (db *DB) RecipientScope(ctx context.Context, recipientID string) (Scope, error) {
	return recipientScope(ctx, db.r, recipientID)
}

// childScope resolves a row of a care table (medications, appointments, ...)
// by id through its care recipient and the caller's membership. table must be
// a constant from this package, never user input.
func childScope(ctx context.Context, q querier, table, id, what string) (Scope, error) {
	a, err := actor(ctx)
	if err != nil {
		return Scope{}, err
	}
	var s Scope
	var first, preferred string
	err = q.QueryRowContext(ctx, `SELECT cr.family_id, cr.id, m.role, cr.timezone, cr.first_name, cr.preferred_name
		FROM `+table+` x
		JOIN care_recipients cr ON cr.id = x.care_recipient_id AND cr.deleted_at IS NULL
		JOIN family_members m ON m.family_id = cr.family_id AND m.user_id = $2
		WHERE x.id = $1`, id, a.UserID).
		Scan(&s.FamilyID, &s.RecipientID, &s.Role, &s.Timezone, &first, &preferred)
	if errors.Is(err, sql.ErrNoRows) {
		return Scope{}, notFound(what)
	}
	if err != nil {
		return Scope{}, fmt.Errorf("%s scope: %w", what, err)
	}
	s.Name = preferred
	if s.Name == "" {
		s.Name = first
	}
	return s, nil
}
