package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/auth"
)

// NewAccount is what registration stores.
type NewAccount struct {
	Email        string
	PasswordHash string
	FullName     string
	Phone        string
	Timezone     string
}

// SessionMeta describes the device a session is opened from.
type SessionMeta struct {
	IP        string
	UserAgent string
}

// NewSession is a freshly opened or rotated session with its refresh token,
// which exists only here and in the client.
type NewSession struct {
	Session      carecircle.Session
	RefreshToken string
}

const userColumns = `u.id, u.email, u.full_name, u.phone, u.timezone, u.email_verified_at, u.created_at`

func scanUser(row rowScanner) (carecircle.User, error) {
	var u carecircle.User
	var verified sql.NullInt64
	var created int64
	err := row.Scan(&u.ID, &u.Email, &u.FullName, &u.Phone, &u.Timezone, &verified, &created)
	u.EmailVerified = verified.Valid
	u.CreatedAt = fromMS(created)
	return u, err
}

// Register creates the account and its first session in one transaction.
func (db *DB) Register(ctx context.Context, a NewAccount, meta SessionMeta) (carecircle.User, NewSession, error) {
	var u carecircle.User
	var ns NewSession
	err := db.write(ctx, func(tx *Tx) error {
		u = carecircle.User{ID: carecircle.NewID(carecircle.PrefixUser), Email: carecircle.NormalizeEmail(a.Email),
			FullName: a.FullName, Phone: a.Phone, Timezone: a.Timezone, CreatedAt: tx.nowT}
		_, err := tx.ExecContext(ctx, `INSERT INTO users (id, email, password_hash, full_name, phone, timezone, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`, u.ID, u.Email, a.PasswordHash, u.FullName, u.Phone, u.Timezone, tx.now)
		if isUniqueViolation(err) {
			return carecircle.Errorf(carecircle.ECONFLICT, "an account with this email already exists")
		}
		if err != nil {
			return fmt.Errorf("create user: %w", err)
		}
		ns, err = openSession(ctx, tx, u.ID, meta)
		return err
	})
	return u, ns, err
}

func openSession(ctx context.Context, tx *Tx, userID string, meta SessionMeta) (NewSession, error) {
	s := carecircle.Session{ID: carecircle.NewID(carecircle.PrefixSession), UserID: userID, CreatedAt: tx.nowT,
		LastUsedAt: tx.nowT, ExpiresAt: tx.nowT.Add(carecircle.RefreshTokenTTL), IP: meta.IP, UserAgent: truncate(meta.UserAgent, 300)}
	tok := auth.NewRefreshToken(s.ID)
	_, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, user_id, refresh_hash, created_at, last_used_at, expires_at, ip_address, user_agent)
		VALUES ($1, $2, $3, $4, $4, $5, $6, $7)`, s.ID, userID, auth.HashToken(tok), tx.now, ms(s.ExpiresAt), s.IP, s.UserAgent)
	if err != nil {
		return NewSession{}, fmt.Errorf("open session: %w", err)
	}
	return NewSession{Session: s, RefreshToken: tok}, nil
}

// CredentialsFor returns the user and password hash for a login attempt.
func (db *DB) CredentialsFor(ctx context.Context, email string) (carecircle.User, string, error) {
	row := db.r.QueryRowContext(ctx, `SELECT `+userColumns+`, u.password_hash FROM users u WHERE u.email = $1`,
		carecircle.NormalizeEmail(email))
	var u carecircle.User
	var verified sql.NullInt64
	var created int64
	var hash string
	err := row.Scan(&u.ID, &u.Email, &u.FullName, &u.Phone, &u.Timezone, &verified, &created, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return u, "", notFound("user")
	}
	if err != nil {
		return u, "", fmt.Errorf("read credentials: %w", err)
	}
	u.EmailVerified, u.CreatedAt = verified.Valid, fromMS(created)
	return u, hash, nil
}

// PasswordHash returns the signed-in user's current hash.
func (db *DB) PasswordHash(ctx context.Context) (string, error) {
	a, err := actor(ctx)
	if err != nil {
		return "", err
	}
	var h string
	err = db.r.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE id = $1`, a.UserID).Scan(&h)
	return h, err
}

// OpenSession starts a session for a user who just proved their password.
func (db *DB) OpenSession(ctx context.Context, userID string, meta SessionMeta) (NewSession, error) {
	var ns NewSession
	err := db.write(ctx, func(tx *Tx) (err error) {
		ns, err = openSession(ctx, tx, userID, meta)
		return err
	})
	return ns, err
}

// Refresh rotates a refresh token. Presenting a token that was already
// rotated away means it was copied: the whole session is revoked.
func (db *DB) Refresh(ctx context.Context, token string, meta SessionMeta) (string, NewSession, error) {
	sid, ok := auth.SplitRefreshToken(token)
	unauthorized := carecircle.Errorf(carecircle.EUNAUTHORIZED, "refresh token is invalid or expired")
	if !ok {
		return "", NewSession{}, unauthorized
	}
	hash := auth.HashToken(token)
	var userID string
	var ns NewSession
	var reused bool
	err := db.write(ctx, func(tx *Tx) error {
		var current string
		var expires int64
		var revoked sql.NullInt64
		var s carecircle.Session
		var created int64
		err := tx.QueryRowContext(ctx, `SELECT user_id, refresh_hash, expires_at, revoked_at, created_at, ip_address, user_agent
			FROM sessions WHERE id = $1`, sid).Scan(&userID, &current, &expires, &revoked, &created, &s.IP, &s.UserAgent)
		if errors.Is(err, sql.ErrNoRows) {
			return unauthorized
		}
		if err != nil {
			return fmt.Errorf("refresh: %w", err)
		}
		if revoked.Valid || expires <= tx.now {
			return unauthorized
		}
		if current != hash {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM refresh_rotations WHERE token_hash = $1 AND session_id = $2`,
				hash, sid).Scan(&n); err != nil {
				return fmt.Errorf("refresh: %w", err)
			}
			if n > 0 {
				reused = true
				return revokeSession(ctx, tx, userID, sid, "refresh token reused")
			}
			return unauthorized
		}
		next := auth.NewRefreshToken(sid)
		if _, err := tx.ExecContext(ctx, `INSERT INTO refresh_rotations (token_hash, session_id, rotated_at) VALUES ($1, $2, $3)`,
			hash, sid, tx.now); err != nil {
			return fmt.Errorf("refresh: %w", err)
		}
		exp := tx.nowT.Add(carecircle.RefreshTokenTTL)
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET refresh_hash = $1, last_used_at = $2, expires_at = $3,
			ip_address = $4, user_agent = $5 WHERE id = $6`, auth.HashToken(next), tx.now, ms(exp), meta.IP, truncate(meta.UserAgent, 300), sid); err != nil {
			return fmt.Errorf("refresh: %w", err)
		}
		s.ID, s.UserID, s.CreatedAt, s.LastUsedAt, s.ExpiresAt = sid, userID, fromMS(created), tx.nowT, exp
		ns = NewSession{Session: s, RefreshToken: next}
		return nil
	})
	if err != nil {
		return "", NewSession{}, err
	}
	if reused {
		return "", NewSession{}, unauthorized
	}
	return userID, ns, nil
}

// revokeSession marks one session revoked and tells open sockets.
func revokeSession(ctx context.Context, tx *Tx, userID, sessionID, reason string) error {
	res, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = $1, revoked_reason = $2
		WHERE id = $3 AND revoked_at IS NULL`, tx.now, reason, sessionID)
	if err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	return tx.Record(carecircle.NewEvent(carecircle.EventSessionRevoked, "/api/v1/auth/sessions/"+sessionID, tx.nowT,
		carecircle.EventData{ActorID: userID, SessionID: sessionID},
		map[string]any{"userId": userID, "sessionId": sessionID, "reason": reason}))
}

// revokeAllSessions revokes every live session of a user except keep.
func revokeAllSessions(ctx context.Context, tx *Tx, userID, keep, reason string) error {
	rows, err := tx.QueryContext(ctx, `SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND id <> $2`, userID, keep)
	if err != nil {
		return fmt.Errorf("revoke sessions: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		if err := revokeSession(ctx, tx, userID, id, reason); err != nil {
			return err
		}
	}
	return nil
}

// RevokeSession signs one session out. The caller may revoke only their own
// sessions; anything else is not found.
func (db *DB) RevokeSession(ctx context.Context, sessionID string) error {
	a, err := actor(ctx)
	if err != nil {
		return err
	}
	return db.write(ctx, func(tx *Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions WHERE id = $1 AND user_id = $2`, sessionID, a.UserID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return notFound("session")
		}
		return revokeSession(ctx, tx, a.UserID, sessionID, "signed out")
	})
}

// RevokeSessionByRefresh signs out the session a refresh token belongs to,
// provided the token is its current one (logout without an access token).
func (db *DB) RevokeSessionByRefresh(ctx context.Context, token string) error {
	sid, ok := auth.SplitRefreshToken(token)
	if !ok {
		return nil
	}
	return db.write(ctx, func(tx *Tx) error {
		var userID string
		err := tx.QueryRowContext(ctx, `SELECT user_id FROM sessions WHERE id = $1 AND refresh_hash = $2`, sid, auth.HashToken(token)).Scan(&userID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		return revokeSession(ctx, tx, userID, sid, "signed out")
	})
}

// SessionUser returns the user of a live session. The API calls it on every
// authenticated request, so a revoked session is refused at once.
func (db *DB) SessionUser(ctx context.Context, userID, sessionID string) (carecircle.User, error) {
	now, _ := db.now()
	u, err := scanUser(db.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND s.expires_at > $3`, sessionID, userID, now))
	if errors.Is(err, sql.ErrNoRows) {
		return u, carecircle.Errorf(carecircle.EUNAUTHORIZED, "session has ended; sign in again")
	}
	if err != nil {
		return u, fmt.Errorf("session user: %w", err)
	}
	return u, nil
}

// Sessions lists the caller's live sessions, newest first.
func (db *DB) Sessions(ctx context.Context) ([]carecircle.Session, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	now, _ := db.now()
	rows, err := db.r.QueryContext(ctx, `SELECT id, created_at, last_used_at, expires_at, ip_address, user_agent FROM sessions
		WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY last_used_at DESC LIMIT 100`, a.UserID, now)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	out := []carecircle.Session{}
	for rows.Next() {
		var s carecircle.Session
		var c, l, e int64
		if err := rows.Scan(&s.ID, &c, &l, &e, &s.IP, &s.UserAgent); err != nil {
			return nil, err
		}
		s.CreatedAt, s.LastUsedAt, s.ExpiresAt = fromMS(c), fromMS(l), fromMS(e)
		s.Current = s.ID == a.SessionID
		out = append(out, s)
	}
	return out, rows.Err()
}

// Me returns the caller with their families.
func (db *DB) Me(ctx context.Context) (carecircle.Me, error) {
	a, err := actor(ctx)
	if err != nil {
		return carecircle.Me{}, err
	}
	u, err := scanUser(db.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1`, a.UserID))
	if err != nil {
		return carecircle.Me{}, fmt.Errorf("me: %w", err)
	}
	me := carecircle.Me{User: u, Families: []carecircle.MyFamily{}}
	rows, err := db.r.QueryContext(ctx, `SELECT f.id, f.name, m.role FROM family_members m JOIN families f ON f.id = m.family_id
		WHERE m.user_id = $1 ORDER BY m.added_at, f.id`, a.UserID)
	if err != nil {
		return me, fmt.Errorf("me: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var f carecircle.MyFamily
		if err := rows.Scan(&f.ID, &f.Name, &f.Role); err != nil {
			return me, err
		}
		me.Families = append(me.Families, f)
	}
	return me, rows.Err()
}

// UserPatch holds the fields a user may change about themself; nil = keep.
type UserPatch struct {
	FullName *string
	Phone    *string
	Timezone *string
}

// UpdateMe applies a patch to the caller's profile.
func (db *DB) UpdateMe(ctx context.Context, p UserPatch) error {
	a, err := actor(ctx)
	if err != nil {
		return err
	}
	return db.write(ctx, func(tx *Tx) error {
		u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1`, a.UserID))
		if err != nil {
			return fmt.Errorf("update me: %w", err)
		}
		if p.FullName != nil {
			u.FullName = *p.FullName
		}
		if p.Phone != nil {
			u.Phone = *p.Phone
		}
		if p.Timezone != nil {
			u.Timezone = *p.Timezone
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET full_name = $1, phone = $2, timezone = $3, updated_at = $4 WHERE id = $5`,
			u.FullName, u.Phone, u.Timezone, tx.now, u.ID)
		return err
	})
}

// ChangePassword sets a new hash for the caller and signs out their other
// sessions.
func (db *DB) ChangePassword(ctx context.Context, newHash string) error {
	a, err := actor(ctx)
	if err != nil {
		return err
	}
	return db.write(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3`, newHash, tx.now, a.UserID); err != nil {
			return fmt.Errorf("change password: %w", err)
		}
		return revokeAllSessions(ctx, tx, a.UserID, a.SessionID, "password changed")
	})
}

// Token purposes.
const (
	PurposeVerify = "verify"
	PurposeReset  = "reset"
)

// IssueUserToken creates a single-use email token and returns it; only its
// hash is stored. Earlier unused tokens of the same purpose stop working.
func (db *DB) IssueUserToken(ctx context.Context, userID, purpose string, ttl time.Duration) (string, error) {
	tok := auth.NewToken()
	err := db.write(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE user_tokens SET used_at = $1 WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL`,
			tx.now, userID, purpose); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO user_tokens (token_hash, user_id, purpose, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
			auth.HashToken(tok), userID, purpose, tx.now, ms(tx.nowT.Add(ttl)))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("issue %s token: %w", purpose, err)
	}
	return tok, nil
}

// consumeUserToken marks a token used and returns its user: unknown 400,
// used 409, expired 410.
func consumeUserToken(ctx context.Context, tx *Tx, tok, purpose string) (string, error) {
	var userID string
	var expires int64
	var used sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT user_id, expires_at, used_at FROM user_tokens WHERE token_hash = $1 AND purpose = $2`,
		auth.HashToken(tok), purpose).Scan(&userID, &expires, &used)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", carecircle.Invalid("token is invalid")
	case err != nil:
		return "", fmt.Errorf("read token: %w", err)
	case used.Valid:
		return "", carecircle.Errorf(carecircle.ECONFLICT, "this link has already been used")
	case expires <= tx.now:
		return "", carecircle.Errorf(carecircle.EGONE, "this link has expired; request a new one")
	}
	if _, err := tx.ExecContext(ctx, `UPDATE user_tokens SET used_at = $1 WHERE token_hash = $2`, tx.now, auth.HashToken(tok)); err != nil {
		return "", fmt.Errorf("use token: %w", err)
	}
	return userID, nil
}

// ResetPassword consumes a reset token, sets the new hash and revokes every
// session of the user, so a thief holding a session is out at once.
func (db *DB) ResetPassword(ctx context.Context, tok, newHash string) error {
	return db.write(ctx, func(tx *Tx) error {
		userID, err := consumeUserToken(ctx, tx, tok, PurposeReset)
		if err != nil {
			return err
		}
		// Receiving the reset email proves the address, too.
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1, updated_at = $2,
			email_verified_at = COALESCE(email_verified_at, $2) WHERE id = $3`, newHash, tx.now, userID); err != nil {
			return fmt.Errorf("reset password: %w", err)
		}
		return revokeAllSessions(ctx, tx, userID, "", "password reset")
	})
}

// VerifyEmail consumes a verify token and marks the address verified.
func (db *DB) VerifyEmail(ctx context.Context, tok string) error {
	return db.write(ctx, func(tx *Tx) error {
		userID, err := consumeUserToken(ctx, tx, tok, PurposeVerify)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET email_verified_at = COALESCE(email_verified_at, $1), updated_at = $1 WHERE id = $2`, tx.now, userID)
		return err
	})
}

// UserByID returns a user (no scoping: callers hold the id from a session).
func (db *DB) UserByID(ctx context.Context, id string) (carecircle.User, error) {
	u, err := scanUser(db.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return u, notFound("user")
	}
	return u, err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
