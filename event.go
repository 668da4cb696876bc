package carecircle

import (
	"encoding/json"
	"time"
)

// Event types, as in DESIGN §4.
const (
	EventMedicationCreated     = "medication.created"
	EventMedicationUpdated     = "medication.updated"
	EventMedicationDeactivated = "medication.deactivated"
	EventMedicationLogged      = "medication.logged"
	EventMedicationRefill      = "medication.refill_needed"
	EventMedicationMissed      = "medication.missed"

	EventAppointmentCreated   = "appointment.created"
	EventAppointmentUpdated   = "appointment.updated"
	EventAppointmentCancelled = "appointment.cancelled"

	EventTimelineCreated = "timeline.entry.created"
	EventTimelineUpdated = "timeline.entry.updated"
	EventTimelineDeleted = "timeline.entry.deleted"

	EventAlertCreated      = "emergency.alert.created"
	EventAlertAcknowledged = "emergency.alert.acknowledged"
	EventAlertResolved     = "emergency.alert.resolved"

	EventShiftCreated    = "shift.created"
	EventShiftUpdated    = "shift.updated"
	EventShiftCheckedIn  = "shift.checked_in"
	EventShiftCheckedOut = "shift.checked_out"

	EventDocumentUploaded = "document.uploaded"
	EventDocumentDeleted  = "document.deleted"
	EventDocumentUpdated  = "document.updated" // renamed, recategorized or new expiry (beyond DESIGN §4's list)

	EventMemberJoined      = "family.member.joined"
	EventMemberRemoved     = "family.member.removed"
	EventMemberRoleChanged = "family.member.role_changed"

	EventRecipientCreated = "care_recipient.created"
	EventRecipientUpdated = "care_recipient.updated"
	EventRecipientDeleted = "care_recipient.deleted"

	// Internal events travel the same bus but are never sent to browsers.
	EventSessionRevoked = "internal.session.revoked"
	EventDocumentRead   = "internal.document.downloaded"
	EventFamilyCreated  = "internal.family.created"
	EventFamilyUpdated  = "internal.family.updated"
	EventInviteCreated  = "internal.family.invite_created"
)

// Event is a domain event in the CloudEvents 1.0 JSON envelope. Data always
// carries familyId and careRecipientId (empty for family-level events) plus the
// actor, so consumers never need to look the change up again.
type Event struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Type            string          `json:"type"`
	Source          string          `json:"source"`
	Time            time.Time       `json:"time"`
	DataContentType string          `json:"datacontenttype"`
	Data            json.RawMessage `json:"data"`

	// Routing fields, copied out of Data when the event is recorded. They are
	// not part of the envelope on the wire.
	FamilyID        string `json:"-"`
	CareRecipientID string `json:"-"`
	ActorID         string `json:"-"`
	SessionID       string `json:"-"`
}

// IsInternal reports whether the event is for the server's own consumers
// only (not forwarded to WebSocket clients).
func (e Event) IsInternal() bool {
	return len(e.Type) > 9 && e.Type[:9] == "internal."
}

// RoutingKey is the broker routing key: "<type>.<careRecipientId>" (or the
// family id for family-level events).
func (e Event) RoutingKey() string {
	scope := e.CareRecipientID
	if scope == "" {
		scope = e.FamilyID
	}
	if scope == "" {
		scope = "none"
	}
	return e.Type + "." + scope
}

// EventData is the common part of every event's data. Specific events embed
// it and add their own fields.
type EventData struct {
	FamilyID        string `json:"familyId"`
	CareRecipientID string `json:"careRecipientId,omitempty"`
	ActorID         string `json:"actorId,omitempty"`
	ActorName       string `json:"actorName,omitempty"`
	SessionID       string `json:"sessionId,omitempty"`
}

// NewEvent builds an envelope for typ whose data is the JSON of data merged
// with the routing fields of base. The caller records it in the same
// transaction as the change it describes.
func NewEvent(typ, source string, at time.Time, base EventData, data map[string]any) Event {
	payload := map[string]any{"familyId": base.FamilyID}
	if base.CareRecipientID != "" {
		payload["careRecipientId"] = base.CareRecipientID
	}
	if base.ActorID != "" {
		payload["actorId"] = base.ActorID
		payload["actorName"] = base.ActorName
	}
	if base.SessionID != "" {
		payload["sessionId"] = base.SessionID
	}
	for k, v := range data {
		payload[k] = v
	}
	raw, err := json.Marshal(payload)
	if err != nil {
		panic("carecircle: event data not encodable: " + err.Error())
	}
	return Event{
		SpecVersion:     "1.0",
		ID:              NewID(PrefixEvent),
		Type:            typ,
		Source:          source,
		Time:            at.UTC(),
		DataContentType: "application/json",
		Data:            raw,
		FamilyID:        base.FamilyID,
		CareRecipientID: base.CareRecipientID,
		ActorID:         base.ActorID,
		SessionID:       base.SessionID,
	}
}

// MarshalEnvelope returns the CloudEvents JSON of e.
func (e Event) MarshalEnvelope() []byte {
	b, err := json.Marshal(e)
	if err != nil {
		panic("carecircle: event not encodable: " + err.Error())
	}
	return b
}

// ParseEvent decodes a CloudEvents JSON envelope and restores the routing
// fields from its data.
func ParseEvent(raw []byte) (Event, error) {
	var e Event
	if err := json.Unmarshal(raw, &e); err != nil {
		return Event{}, err
	}
	var d EventData
	if len(e.Data) > 0 {
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return Event{}, err
		}
	}
	e.FamilyID, e.CareRecipientID, e.ActorID, e.SessionID = d.FamilyID, d.CareRecipientID, d.ActorID, d.SessionID
	return e, nil
}
