package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/auth"
)

// NewInvite is a created invitation with the token for its email. The token
// is never stored; only its hash is.
type NewInvite struct {
	Invite      carecircle.Invite
	Token       string
	FamilyName  string
	InviterName string
}

// CreateInvite invites an email address to a family (ADMIN). A pending
// invite to the same address is replaced, so "resend" is just inviting again.
func (db *DB) CreateInvite(ctx context.Context, familyID, email string, role carecircle.Role) (NewInvite, error) {
	a, err := actor(ctx)
	if err != nil {
		return NewInvite{}, err
	}
	var p carecircle.Problems
	if msg := carecircle.ValidateEmail("email", email); msg != "" {
		p.Add(true, "%s", msg)
	}
	p.Add(!role.Valid(), "role must be one of ADMIN, CAREGIVER, VIEWER")
	var out NewInvite
	err = db.write(ctx, func(tx *Tx) error {
		f, err := family(ctx, tx, familyID)
		if err != nil {
			return err
		}
		if err := f.Role.Require(carecircle.RoleAdmin); err != nil {
			return err
		}
		if err := p.Err(); err != nil {
			return err
		}
		email := carecircle.NormalizeEmail(email)
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM family_members m JOIN users u ON u.id = m.user_id
			WHERE m.family_id = $1 AND u.email = $2`, familyID, email).Scan(&n); err != nil {
			return fmt.Errorf("create invite: %w", err)
		}
		if n > 0 {
			return carecircle.Errorf(carecircle.ECONFLICT, "%s is already a member of this family", email)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE family_invites SET revoked_at = $1
			WHERE family_id = $2 AND email = $3 AND accepted_at IS NULL AND revoked_at IS NULL`, tx.now, familyID, email); err != nil {
			return fmt.Errorf("create invite: %w", err)
		}
		tok := auth.NewToken()
		inv := carecircle.Invite{ID: carecircle.NewID(carecircle.PrefixInvite), FamilyID: familyID, Email: email, Role: role,
			ExpiresAt: tx.nowT.Add(carecircle.InviteTTL), CreatedAt: tx.nowT, InvitedBy: a.UserID}
		if _, err := tx.ExecContext(ctx, `INSERT INTO family_invites (id, family_id, email, role, token_hash, invited_by, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, inv.ID, familyID, email, role, auth.HashToken(tok), a.UserID, tx.now, ms(inv.ExpiresAt)); err != nil {
			return fmt.Errorf("create invite: %w", err)
		}
		out = NewInvite{Invite: inv, Token: tok, FamilyName: f.Name, InviterName: a.Name}
		return tx.emit(ctx, carecircle.EventInviteCreated, "/api/v1/families/"+familyID+"/invites", familyID, "",
			map[string]any{"inviteId": inv.ID, "email": email, "role": role})
	})
	return out, err
}

// Invites lists a family's pending invitations (ADMIN).
func (db *DB) Invites(ctx context.Context, familyID string) ([]carecircle.Invite, error) {
	role, err := familyRole(ctx, db.r, familyID)
	if err != nil {
		return nil, err
	}
	if err := role.Require(carecircle.RoleAdmin); err != nil {
		return nil, err
	}
	now, _ := db.now()
	rows, err := db.r.QueryContext(ctx, `SELECT id, family_id, email, role, expires_at, created_at, invited_by FROM family_invites
		WHERE family_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at`, familyID, now)
	if err != nil {
		return nil, fmt.Errorf("list invites: %w", err)
	}
	defer rows.Close()
	out := []carecircle.Invite{}
	for rows.Next() {
		var inv carecircle.Invite
		var e, c int64
		if err := rows.Scan(&inv.ID, &inv.FamilyID, &inv.Email, &inv.Role, &e, &c, &inv.InvitedBy); err != nil {
			return nil, err
		}
		inv.ExpiresAt, inv.CreatedAt = fromMS(e), fromMS(c)
		out = append(out, inv)
	}
	return out, rows.Err()
}

// RevokeInvite cancels a pending invitation (ADMIN).
func (db *DB) RevokeInvite(ctx context.Context, familyID, inviteID string) error {
	return db.write(ctx, func(tx *Tx) error {
		role, err := familyRole(ctx, tx, familyID)
		if err != nil {
			return err
		}
		if err := role.Require(carecircle.RoleAdmin); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE family_invites SET revoked_at = $1
			WHERE id = $2 AND family_id = $3 AND accepted_at IS NULL AND revoked_at IS NULL`, tx.now, inviteID, familyID)
		if err != nil {
			return fmt.Errorf("revoke invite: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("invite")
		}
		return nil
	})
}

type inviteRow struct {
	carecircle.Invite
	familyName, inviterName string
	revoked                 bool
}

func inviteByToken(ctx context.Context, q querier, tok string) (inviteRow, error) {
	var r inviteRow
	var e, c int64
	var acc, rev sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT i.id, i.family_id, i.email, i.role, i.expires_at, i.created_at, i.invited_by,
			i.accepted_at, i.revoked_at, f.name, u.full_name
		FROM family_invites i JOIN families f ON f.id = i.family_id JOIN users u ON u.id = i.invited_by
		WHERE i.token_hash = $1`, auth.HashToken(tok)).
		Scan(&r.ID, &r.FamilyID, &r.Email, &r.Role, &e, &c, &r.InvitedBy, &acc, &rev, &r.familyName, &r.inviterName)
	if errors.Is(err, sql.ErrNoRows) {
		return r, notFound("invite")
	}
	if err != nil {
		return r, fmt.Errorf("read invite: %w", err)
	}
	r.ExpiresAt, r.CreatedAt, r.AcceptedAt, r.revoked = fromMS(e), fromMS(c), fromNullMS(acc), rev.Valid
	return r, nil
}

// checkUsable maps an invite's state to the contract's errors: revoked 404,
// used 409, expired 410.
func (r inviteRow) checkUsable(now int64) error {
	switch {
	case r.revoked:
		return notFound("invite")
	case r.AcceptedAt != nil:
		return carecircle.Errorf(carecircle.ECONFLICT, "this invitation has already been used")
	case ms(r.ExpiresAt) <= now:
		return carecircle.Errorf(carecircle.EGONE, "this invitation has expired; ask for a new one")
	}
	return nil
}

// InviteInfo returns what the public invite page shows. Anyone holding the
// token may see it.
func (db *DB) InviteInfo(ctx context.Context, tok string) (carecircle.InviteInfo, error) {
	r, err := inviteByToken(ctx, db.r, tok)
	if err != nil {
		return carecircle.InviteInfo{}, err
	}
	now, _ := db.now()
	if err := r.checkUsable(now); err != nil {
		return carecircle.InviteInfo{}, err
	}
	return carecircle.InviteInfo{FamilyName: r.familyName, Role: r.Role, Email: r.Email, ExpiresAt: r.ExpiresAt, InviterName: r.inviterName}, nil
}

// AcceptInvite adds the caller to the invite's family. The caller's email
// must be the invited one (case-insensitively); it then counts as verified.
func (db *DB) AcceptInvite(ctx context.Context, tok string) (familyID string, role carecircle.Role, err error) {
	a, err := actor(ctx)
	if err != nil {
		return "", "", err
	}
	err = db.write(ctx, func(tx *Tx) error {
		r, err := inviteByToken(ctx, tx, tok)
		if err != nil {
			return err
		}
		if err := r.checkUsable(tx.now); err != nil {
			return err
		}
		var email string
		if err := tx.QueryRowContext(ctx, `SELECT email FROM users WHERE id = $1`, a.UserID).Scan(&email); err != nil {
			return fmt.Errorf("accept invite: %w", err)
		}
		if carecircle.NormalizeEmail(email) != r.Email {
			return carecircle.Errorf(carecircle.EFORBIDDEN, "this invitation was sent to a different email address")
		}
		res, err := tx.ExecContext(ctx, `UPDATE family_invites SET accepted_at = $1, accepted_by = $2
			WHERE id = $3 AND accepted_at IS NULL`, tx.now, a.UserID, r.ID)
		if err != nil {
			return fmt.Errorf("accept invite: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return carecircle.Errorf(carecircle.ECONFLICT, "this invitation has already been used")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO family_members (family_id, user_id, role, added_at) VALUES ($1, $2, $3, $4)`,
			r.FamilyID, a.UserID, r.Role, tx.now); err != nil {
			if isUniqueViolation(err) {
				return carecircle.Errorf(carecircle.ECONFLICT, "you are already a member of this family")
			}
			return fmt.Errorf("accept invite: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET email_verified_at = COALESCE(email_verified_at, $1) WHERE id = $2`, tx.now, a.UserID); err != nil {
			return fmt.Errorf("accept invite: %w", err)
		}
		familyID, role = r.FamilyID, r.Role
		return tx.emit(ctx, carecircle.EventMemberJoined, "/api/v1/invites/accept", r.FamilyID, "",
			map[string]any{"userId": a.UserID, "fullName": a.Name, "role": r.Role, "inviteId": r.ID})
	})
	return familyID, role, err
}
