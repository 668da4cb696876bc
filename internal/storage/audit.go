package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/carecircle/carecircle"
)

// AuditEntry is one line of a family's audit log.
type AuditEntry struct {
	ID              string                `json:"id"`
	EventID         string                `json:"eventId"`
	Action          string                `json:"action"`
	Summary         string                `json:"summary"`
	Actor           *carecircle.MemberRef `json:"actor"`
	SessionID       string                `json:"sessionId,omitempty"`
	ResourceType    string                `json:"resourceType"`
	ResourceID      string                `json:"resourceId"`
	CareRecipientID string                `json:"careRecipientId,omitempty"`
	OccurredAt      time.Time             `json:"occurredAt"`
	Data            json.RawMessage       `json:"data"`
}

var actionPhrases = map[string]string{
	carecircle.EventMedicationCreated: "added a medication", carecircle.EventMedicationUpdated: "changed a medication",
	carecircle.EventMedicationDeactivated: "stopped a medication", carecircle.EventMedicationLogged: "logged a dose",
	carecircle.EventMedicationRefill: "flagged a refill", carecircle.EventMedicationMissed: "missed dose recorded",
	carecircle.EventAppointmentCreated: "added an appointment", carecircle.EventAppointmentUpdated: "changed an appointment",
	carecircle.EventAppointmentCancelled: "cancelled an appointment", carecircle.EventTimelineCreated: "added a timeline entry",
	carecircle.EventTimelineUpdated: "edited a timeline entry", carecircle.EventTimelineDeleted: "deleted a timeline entry",
	carecircle.EventAlertCreated: "raised an emergency alert", carecircle.EventAlertAcknowledged: "acknowledged an emergency alert",
	carecircle.EventAlertResolved: "resolved an emergency alert", carecircle.EventShiftCreated: "scheduled a shift",
	carecircle.EventShiftUpdated: "changed a shift", carecircle.EventShiftCheckedIn: "checked in to a shift",
	carecircle.EventShiftCheckedOut: "checked out of a shift", carecircle.EventDocumentUploaded: "uploaded a document",
	carecircle.EventDocumentDeleted: "deleted a document", carecircle.EventDocumentUpdated: "changed a document", carecircle.EventDocumentRead: "downloaded a document",
	carecircle.EventMemberJoined: "joined the family", carecircle.EventMemberRemoved: "removed a member",
	carecircle.EventMemberRoleChanged: "changed a member's role", carecircle.EventRecipientCreated: "added a care recipient",
	carecircle.EventRecipientUpdated: "updated a care recipient", carecircle.EventRecipientDeleted: "removed a care recipient",
	carecircle.EventFamilyCreated: "created the family", carecircle.EventFamilyUpdated: "renamed the family",
	carecircle.EventInviteCreated: "invited someone",
}

var idPrefixes = []string{carecircle.PrefixDocument, carecircle.PrefixDoseLog, carecircle.PrefixMedication, carecircle.PrefixAppointment,
	carecircle.PrefixTimeline, carecircle.PrefixAlert, carecircle.PrefixShift, carecircle.PrefixInvite, carecircle.PrefixUser,
	carecircle.PrefixRecipient, carecircle.PrefixFamily}

// resourceOf names what an event is about: its type without the verb, and
// the most specific id in its source path (or data).
func resourceOf(e carecircle.Event, data map[string]any) (typ, id string) {
	typ = e.Type
	if i := strings.LastIndexByte(typ, '.'); i > 0 {
		typ = typ[:i]
	}
	typ = strings.TrimPrefix(strings.ReplaceAll(typ, ".", "_"), "internal_")
	for _, key := range []string{"documentId", "logId", "alertId", "entryId", "shiftId", "appointmentId", "medicationId", "inviteId", "userId"} {
		if v, ok := data[key].(string); ok && v != "" {
			return typ, v
		}
	}
	segs := strings.Split(e.Source, "/")
	for i := len(segs) - 1; i >= 0; i-- {
		for _, p := range idPrefixes {
			if carecircle.HasPrefix(segs[i], p) {
				return typ, segs[i]
			}
		}
	}
	if e.CareRecipientID != "" {
		return typ, e.CareRecipientID
	}
	return typ, e.FamilyID
}

// RecordAudit appends an event to its family's audit log. It is the audit
// consumer: a redelivered event (same id) changes nothing. Events without a
// family (session revocations) are not family activity and are skipped.
func (db *DB) RecordAudit(ctx context.Context, e carecircle.Event) error {
	if e.FamilyID == "" {
		return nil
	}
	var data map[string]any
	_ = json.Unmarshal(e.Data, &data)
	actorName, _ := data["actorName"].(string)
	typ, id := resourceOf(e, data)
	phrase := actionPhrases[e.Type]
	if phrase == "" {
		phrase = e.Type
	}
	summary := phrase
	if actorName != "" {
		summary = actorName + " " + phrase
	}
	for _, k := range []string{"medicationName", "title", "name", "fileName", "fullName"} {
		if v, ok := data[k].(string); ok && v != "" {
			summary += ": " + v
			break
		}
	}
	// A background write: on SQLite the insert shares a group commit (and
	// its fsync) with the requests' own writes instead of paying one per
	// event.
	err := db.writeBackground(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO audit_log (id, event_id, family_id, care_recipient_id, actor_id, actor_name,
			session_id, action, resource_type, resource_id, summary, data, occurred_at, recorded_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (event_id) DO NOTHING`,
			carecircle.NewID(carecircle.PrefixAudit), e.ID, e.FamilyID, e.CareRecipientID, e.ActorID, actorName, e.SessionID,
			strings.TrimPrefix(e.Type, "internal."), typ, id, truncate(summary, 300), string(e.Data), ms(e.Time), tx.now)
		return err
	})
	if err != nil {
		return fmt.Errorf("record audit: %w", err)
	}
	return nil
}

// Audit returns a page of a family's audit log, newest first (ADMIN).
func (db *DB) Audit(ctx context.Context, familyID string, p Page) ([]AuditEntry, string, error) {
	role, err := familyRole(ctx, db.r, familyID)
	if err != nil {
		return nil, "", err
	}
	if err := role.Require(carecircle.RoleAdmin); err != nil {
		return nil, "", err
	}
	key, id := int64(1<<62), "~"
	if p.Cursor != "" {
		if key, id, err = DecodeCursor(p.Cursor); err != nil {
			return nil, "", err
		}
	}
	limit := p.size()
	rows, err := db.r.QueryContext(ctx, `SELECT id, event_id, action, summary, actor_id, actor_name, session_id, resource_type,
		resource_id, care_recipient_id, occurred_at, data FROM audit_log
		WHERE family_id = $1 AND (occurred_at < $2 OR (occurred_at = $2 AND id < $3))
		ORDER BY occurred_at DESC, id DESC LIMIT $4`, familyID, key, id, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("read audit: %w", err)
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		var a AuditEntry
		var actorID, actorName, data string
		var at int64
		if err := rows.Scan(&a.ID, &a.EventID, &a.Action, &a.Summary, &actorID, &actorName, &a.SessionID, &a.ResourceType,
			&a.ResourceID, &a.CareRecipientID, &at, &data); err != nil {
			return nil, "", err
		}
		if actorID != "" {
			a.Actor = &carecircle.MemberRef{ID: actorID, FullName: actorName}
		}
		a.OccurredAt, a.Data = fromMS(at), json.RawMessage(data)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	out, next := cutPage(out, limit, func(a *AuditEntry) (time.Time, string) { return a.OccurredAt, a.ID })
	return out, next, nil
}
