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

// Calendar feed tokens let a calendar app (which can't sign in) subscribe to
// one care recipient's appointments on behalf of one member. The token is
// shown once and stored only as a hash; each member has at most one live
// token per recipient.

// CreateCalendarToken issues the caller a new feed token for a care
// recipient, revoking their previous one. Any member may subscribe, VIEWERs
// included, since the feed only shows what they can read.
func (db *DB) CreateCalendarToken(ctx context.Context, recipientID string) (string, error) {
	u, err := actor(ctx)
	if err != nil {
		return "", err
	}
	tok := auth.NewToken()
	err = db.write(ctx, func(tx *Tx) error {
		if _, err := recipientScope(ctx, tx, recipientID); err != nil {
			return err
		}
		if err := revokeCalendarTokens(ctx, tx, u.UserID, recipientID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO calendar_tokens (token_hash, user_id, care_recipient_id, created_at)
			VALUES ($1, $2, $3, $4)`, auth.HashToken(tok), u.UserID, recipientID, tx.now); err != nil {
			return fmt.Errorf("create calendar token: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return tok, nil
}

// RevokeCalendarToken revokes the caller's feed token for a care recipient;
// with none, it does nothing.
func (db *DB) RevokeCalendarToken(ctx context.Context, recipientID string) error {
	u, err := actor(ctx)
	if err != nil {
		return err
	}
	return db.write(ctx, func(tx *Tx) error {
		if _, err := recipientScope(ctx, tx, recipientID); err != nil {
			return err
		}
		return revokeCalendarTokens(ctx, tx, u.UserID, recipientID)
	})
}

func revokeCalendarTokens(ctx context.Context, tx *Tx, userID, recipientID string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE calendar_tokens SET revoked_at = $1
		WHERE user_id = $2 AND care_recipient_id = $3 AND revoked_at IS NULL`, tx.now, userID, recipientID); err != nil {
		return fmt.Errorf("revoke calendar token: %w", err)
	}
	return nil
}

// CalendarFeed is what a subscribed calendar shows: a care recipient's
// appointments, cancelled ones included so clients remove them.
type CalendarFeed struct {
	RecipientID   string
	RecipientName string
	Timezone      string
	Appointments  []carecircle.Appointment
}

// Location returns the recipient's time zone.
func (f CalendarFeed) Location() *time.Location {
	loc, err := time.LoadLocation(f.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Feed window: one-off appointments that started more than feedHistory ago
// are left out (recurring series always stay), and of the rest at most
// feedMaxEvents are listed, the latest ones, so a feed stays small enough
// for calendar clients that give up on large downloads.
const (
	feedHistory   = 400 * 24 * time.Hour
	feedMaxEvents = 2000
)

// CalendarFeedByToken returns the feed a token opens. The token stands in
// for a session: it works only while it is the newest of its member for
// that recipient, while that user is still a member of the recipient's
// family (and has been since before the token was made, so leaving and
// being re-invited doesn't revive an old URL), and while the recipient
// exists. Anything else is ENOTFOUND, the same as a wrong token.
func (db *DB) CalendarFeedByToken(ctx context.Context, recipientID, token string) (CalendarFeed, error) {
	f := CalendarFeed{RecipientID: recipientID}
	if token == "" || len(token) > 200 || !carecircle.HasPrefix(recipientID, carecircle.PrefixRecipient) {
		return f, notFound("calendar")
	}
	var first, last, preferred string
	err := db.r.QueryRowContext(ctx, `SELECT cr.first_name, cr.last_name, cr.preferred_name, cr.timezone
		FROM calendar_tokens t
		JOIN care_recipients cr ON cr.id = t.care_recipient_id AND cr.deleted_at IS NULL
		JOIN family_members m ON m.family_id = cr.family_id AND m.user_id = t.user_id AND m.added_at <= t.created_at
		WHERE t.token_hash = $1 AND t.care_recipient_id = $2 AND t.revoked_at IS NULL`,
		auth.HashToken(token), recipientID).Scan(&first, &last, &preferred, &f.Timezone)
	if errors.Is(err, sql.ErrNoRows) {
		return f, notFound("calendar")
	}
	if err != nil {
		return f, fmt.Errorf("calendar token: %w", err)
	}
	f.RecipientName = (&carecircle.CareRecipient{FirstName: first, LastName: last, PreferredName: preferred}).DisplayName()
	return db.withFeedAppointments(ctx, f)
}

// CalendarFeedForMember returns the feed of a care recipient to a signed-in
// member of its family (the actor in ctx), for clients that fetch the feed
// with their own credentials instead of a feed token.
func (db *DB) CalendarFeedForMember(ctx context.Context, recipientID string) (CalendarFeed, error) {
	sc, err := recipientScope(ctx, db.r, recipientID)
	if err != nil {
		return CalendarFeed{}, err
	}
	f := CalendarFeed{RecipientID: recipientID, RecipientName: sc.Name, Timezone: sc.Timezone}
	return db.withFeedAppointments(ctx, f)
}

// withFeedAppointments reads the appointments of f's recipient into f.
func (db *DB) withFeedAppointments(ctx context.Context, f CalendarFeed) (CalendarFeed, error) {
	recipientID := f.RecipientID
	_, now := db.now()
	rows, err := db.r.QueryContext(ctx, `SELECT `+appointmentColumns+` FROM `+appointmentFrom+`
		WHERE a.care_recipient_id = $1 AND (a.recurrence <> '' OR a.start_at >= $2)
		ORDER BY a.start_at DESC, a.id LIMIT $3`, recipientID, ms(now.Add(-feedHistory)), feedMaxEvents)
	if err != nil {
		return f, fmt.Errorf("calendar feed: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		a, err := scanAppointment(rows)
		if err != nil {
			return f, err
		}
		f.Appointments = append(f.Appointments, a)
	}
	if err := rows.Err(); err != nil {
		return f, fmt.Errorf("calendar feed: %w", err)
	}
	return f, nil
}
