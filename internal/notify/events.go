package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/storage"
)

// The data of the events notices are made from (see the emit calls in
// internal/storage): everything a text needs travels in the event.

type missedData struct {
	MedicationID       string    `json:"medicationId"`
	MedicationName     string    `json:"medicationName"`
	Dosage             string    `json:"dosage"`
	CareRecipientName  string    `json:"careRecipientName"`
	Timezone           string    `json:"timezone"`
	ScheduledTime      time.Time `json:"scheduledTime"`
	MissedAfterMinutes int       `json:"missedAfterMinutes"`
}

type doseLoggedData struct {
	MedicationID      string    `json:"medicationId"`
	MedicationName    string    `json:"medicationName"`
	Dosage            string    `json:"dosage"`
	Status            string    `json:"status"`
	CareRecipientName string    `json:"careRecipientName"`
	Timezone          string    `json:"timezone"`
	ScheduledTime     time.Time `json:"scheduledTime"`
	LoggedAt          time.Time `json:"loggedAt"`
	LoggedByID        string    `json:"loggedById"`
	LoggedByName      string    `json:"loggedByName"`
	Corrected         bool      `json:"corrected"`
}

type refillData struct {
	MedicationID      string `json:"medicationId"`
	MedicationName    string `json:"medicationName"`
	Dosage            string `json:"dosage"`
	CareRecipientName string `json:"careRecipientName"`
	Timezone          string `json:"timezone"`
	CurrentSupply     int    `json:"currentSupply"`
	RefillThreshold   int    `json:"refillThreshold"`
}

type alertData struct {
	AlertID            string    `json:"alertId"`
	Type               string    `json:"type"`
	Status             string    `json:"status"`
	Description        string    `json:"description"`
	Location           string    `json:"location"`
	TriggeredByID      string    `json:"triggeredById"`
	TriggeredByName    string    `json:"triggeredByName"`
	CareRecipientName  string    `json:"careRecipientName"`
	Timezone           string    `json:"timezone"`
	CreatedAt          time.Time `json:"createdAt"`
	AcknowledgedByName string    `json:"acknowledgedByName"`
	AcknowledgedAt     time.Time `json:"acknowledgedAt"`
	First              bool      `json:"first"`
	ResolvedByName     string    `json:"resolvedByName"`
	ResolvedAt         time.Time `json:"resolvedAt"`
	Notes              string    `json:"notes"`
}

type timelineData struct {
	EntryID           string    `json:"entryId"`
	Type              string    `json:"type"`
	Severity          *string   `json:"severity"`
	Content           string    `json:"content"`
	OccurredAt        time.Time `json:"occurredAt"`
	AuthorID          string    `json:"authorId"`
	AuthorName        string    `json:"authorName"`
	CareRecipientName string    `json:"careRecipientName"`
	Timezone          string    `json:"timezone"`
}

type shiftData struct {
	ShiftID           string     `json:"shiftId"`
	CaregiverID       string     `json:"caregiverId"`
	CaregiverName     string     `json:"caregiverName"`
	StartTime         time.Time  `json:"startTime"`
	EndTime           time.Time  `json:"endTime"`
	Notes             string     `json:"notes"`
	CareRecipientName string     `json:"careRecipientName"`
	Timezone          string     `json:"timezone"`
	CreatedByID       string     `json:"createdById"`
	CreatedByName     string     `json:"createdByName"`
	Cancelled         bool       `json:"cancelled"`
	CheckedOutAt      *time.Time `json:"checkedOutAt"`
	HandoffNotes      string     `json:"handoffNotes"`
	NextShiftID       *string    `json:"nextShiftId"`
	NextCaregiverID   *string    `json:"nextCaregiverId"`
}

// HandleEvent is the "notifications" consumer: it tells the right members
// about an event. It is idempotent by event id: a member gets one notice per
// event however often it is delivered.
func (s *Service) HandleEvent(ctx context.Context, e carecircle.Event) error {
	switch e.Type {
	case carecircle.EventMedicationMissed:
		return s.onMissedDose(ctx, e)
	case carecircle.EventMedicationLogged:
		return s.onDoseLogged(ctx, e)
	case carecircle.EventMedicationRefill:
		return s.onRefillNeeded(ctx, e)
	case carecircle.EventAlertCreated, carecircle.EventAlertAcknowledged, carecircle.EventAlertResolved:
		return s.onAlert(ctx, e)
	case carecircle.EventTimelineCreated:
		return s.onTimelineEntry(ctx, e)
	case carecircle.EventShiftCreated, carecircle.EventShiftUpdated, carecircle.EventShiftCheckedOut:
		return s.onShift(ctx, e)
	case carecircle.EventDocumentUploaded:
		return s.onDocumentUploaded(ctx, e)
	}
	return nil
}

func decode(e carecircle.Event, v any) error {
	if err := json.Unmarshal(e.Data, v); err != nil {
		// A malformed event will not improve on retry; say so and move on.
		return fmt.Errorf("event %s (%s) data: %w", e.ID, e.Type, err)
	}
	return nil
}

// tell builds notices for the members w selects and saves them, with any
// follow-up jobs, in one transaction.
func (s *Service) tell(ctx context.Context, e carecircle.Event, w who, n notice, follow ...storage.JobSpec) error {
	members, err := s.audience(ctx, e.FamilyID)
	if err != nil {
		return err
	}
	n.familyID, n.recipientID, n.sourceKey, n.eventID = e.FamilyID, e.CareRecipientID, e.ID, e.ID
	return s.save(ctx, s.build(members, w, n, s.clock.Now()), nil, nil, follow...)
}

func (s *Service) onMissedDose(ctx context.Context, e carecircle.Event) error {
	var d missedData
	if err := decode(e, &d); err != nil {
		return err
	}
	return s.tell(ctx, e, caregivers, notice{category: MissedDose,
		text: func(m member) message { return missedDoseText(d, m.loc) }})
}

func (s *Service) onDoseLogged(ctx context.Context, e carecircle.Event) error {
	var d doseLoggedData
	if err := decode(e, &d); err != nil {
		return err
	}
	actor := d.LoggedByID
	if actor == "" {
		actor = e.ActorID
	}
	med := medLabel(d.MedicationName, d.Dosage)
	loc := zone(d.Timezone)
	return s.tell(ctx, e, except(actor, everyone), notice{category: FamilyActivity,
		text: func(m member) message {
			t := message{URL: "/medications/" + d.MedicationID, Tag: fmt.Sprintf("dose-%s-%d", d.MedicationID, d.ScheduledTime.Unix())}
			verb := "updated the log of"
			if d.Corrected {
				verb = "corrected the log of"
			}
			switch d.Status {
			case "GIVEN":
				t.Title = fmt.Sprintf("%s given to %s", med, d.CareRecipientName)
				t.Body = fmt.Sprintf("%s gave %s %s at %s.", d.LoggedByName, d.CareRecipientName, med, clockAt(d.LoggedAt, loc, m.loc))
				if d.Corrected {
					t.Body = fmt.Sprintf("%s corrected the log: %s was given %s (the %s dose).", d.LoggedByName,
						d.CareRecipientName, med, clockAt(d.ScheduledTime, loc, m.loc))
				}
			case "SKIPPED":
				t.Title = fmt.Sprintf("%s skipped for %s", med, d.CareRecipientName)
				t.Body = fmt.Sprintf("%s skipped %s's %s dose of %s.", d.LoggedByName, d.CareRecipientName,
					clockAt(d.ScheduledTime, loc, m.loc), med)
			case "MISSED":
				t.Title = fmt.Sprintf("%s missed by %s", med, d.CareRecipientName)
				t.Body = fmt.Sprintf("%s marked %s's %s dose of %s as missed.", d.LoggedByName, d.CareRecipientName,
					clockAt(d.ScheduledTime, loc, m.loc), med)
			default:
				t.Title = fmt.Sprintf("%s: %s", d.CareRecipientName, med)
				t.Body = fmt.Sprintf("%s %s %s's %s dose of %s.", d.LoggedByName, verb, d.CareRecipientName,
					clockAt(d.ScheduledTime, loc, m.loc), med)
			}
			return t
		}})
}

func (s *Service) onRefillNeeded(ctx context.Context, e carecircle.Event) error {
	var d refillData
	if err := decode(e, &d); err != nil {
		return err
	}
	next := nextRefillReminder(s.clock.Now(), zone(d.Timezone))
	return s.tell(ctx, e, caregivers, notice{category: Refill,
		text: func(m member) message {
			return refillText(d.MedicationName, d.Dosage, d.CareRecipientName, d.MedicationID, d.CurrentSupply, d.RefillThreshold, false)
		}}, refillJob(d.MedicationID, next))
}

// nextRefillReminder is RefillReminderAt on the recipient's next day.
func nextRefillReminder(now time.Time, loc *time.Location) time.Time {
	hh, mm, _ := carecircle.ParseClock(RefillReminderAt)
	return carecircle.LocalInstant(carecircle.DateOf(now, loc).AddDays(1), hh, mm, loc)
}

func refillJob(medID string, at time.Time) storage.JobSpec {
	return storage.JobSpec{Kind: jobRefill, Key: fmt.Sprintf("refill-reminder:%s:%d", medID, at.UnixMilli()), RunAt: at,
		Payload: refillPayload{MedicationID: medID}, MaxAttempts: 5}
}

func (s *Service) onAlert(ctx context.Context, e carecircle.Event) error {
	var d alertData
	if err := decode(e, &d); err != nil {
		return err
	}
	loc := zone(d.Timezone)
	switch e.Type {
	case carecircle.EventAlertCreated:
		// The member who raised it is on the scene; everyone else is told
		// at once, then again until someone acknowledges.
		return s.tell(ctx, e, except(d.TriggeredByID, everyone), notice{category: Emergency, urgent: true,
			text: func(m member) message { return alertText(d, m.loc, 0) }},
			alertRepeatJob(d.AlertID, 1, d.CreatedAt))
	case carecircle.EventAlertAcknowledged:
		if !d.First {
			return nil
		}
		return s.tell(ctx, e, except(e.ActorID, everyone), notice{category: Emergency,
			text: func(m member) message {
				return message{
					Title: fmt.Sprintf("%s acknowledged the emergency for %s", d.AcknowledgedByName, d.CareRecipientName),
					Body: fmt.Sprintf("%s acknowledged the %s alert for %s at %s.", d.AcknowledgedByName, d.Type,
						d.CareRecipientName, clockAt(d.AcknowledgedAt, loc, m.loc)),
					URL: "/emergency/alerts/" + d.AlertID, Tag: d.AlertID,
				}
			}})
	default:
		return s.tell(ctx, e, except(e.ActorID, everyone), notice{category: Emergency,
			text: func(m member) message {
				body := fmt.Sprintf("%s resolved the %s alert for %s at %s.", d.ResolvedByName, d.Type,
					d.CareRecipientName, clockAt(d.ResolvedAt, loc, m.loc))
				if d.Notes != "" {
					body += " " + excerpt(d.Notes, 300)
				}
				return message{Title: fmt.Sprintf("Emergency resolved: %s", d.CareRecipientName), Body: body,
					URL: "/emergency/alerts/" + d.AlertID, Tag: d.AlertID}
			}})
	}
}

func alertRepeatJob(alertID string, n int, raisedAt time.Time) storage.JobSpec {
	return storage.JobSpec{Kind: jobAlertRepeat, Key: fmt.Sprintf("alert-repeat:%s:%d", alertID, n),
		RunAt: raisedAt.Add(time.Duration(n) * AlertRepeatEvery), Payload: alertPayload{AlertID: alertID, N: n}, MaxAttempts: 5}
}

func (s *Service) onTimelineEntry(ctx context.Context, e carecircle.Event) error {
	var d timelineData
	if err := decode(e, &d); err != nil {
		return err
	}
	kind := strings.ToLower(strings.ReplaceAll(d.Type, "_", " "))
	return s.tell(ctx, e, except(d.AuthorID, everyone), notice{category: FamilyActivity,
		text: func(m member) message {
			title := fmt.Sprintf("%s added a %s about %s", d.AuthorName, kind, d.CareRecipientName)
			if d.Severity != nil && (*d.Severity == "HIGH" || *d.Severity == "CRITICAL") {
				title = fmt.Sprintf("%s (%s): %s added a %s", d.CareRecipientName, strings.ToLower(*d.Severity), d.AuthorName, kind)
			}
			return message{Title: title, Body: excerpt(d.Content, 280), URL: "/timeline/" + d.EntryID, Tag: "timeline-" + d.EntryID}
		}})
}

type documentData struct {
	DocumentID        string `json:"documentId"`
	Name              string `json:"name"`
	Category          string `json:"category"`
	UploadedByID      string `json:"uploadedById"`
	UploadedByName    string `json:"uploadedByName"`
	CareRecipientName string `json:"careRecipientName"`
}

func (s *Service) onDocumentUploaded(ctx context.Context, e carecircle.Event) error {
	var d documentData
	if err := decode(e, &d); err != nil {
		return err
	}
	return s.tell(ctx, e, except(d.UploadedByID, everyone), notice{category: FamilyActivity,
		text: func(m member) message {
			return message{Title: fmt.Sprintf("%s added a document about %s", d.UploadedByName, d.CareRecipientName),
				Body: fmt.Sprintf("%s (%s)", excerpt(d.Name, 200), strings.ToLower(d.Category)),
				URL:  "/documents/" + d.DocumentID, Tag: "document-" + d.DocumentID}
		}})
}

func (s *Service) onShift(ctx context.Context, e carecircle.Event) error {
	var d shiftData
	if err := decode(e, &d); err != nil {
		return err
	}
	loc := zone(d.Timezone)
	switch {
	case e.Type == carecircle.EventShiftCheckedOut:
		// The handoff goes to whoever takes over next.
		if d.NextCaregiverID == nil || *d.NextCaregiverID == "" || *d.NextCaregiverID == d.CaregiverID {
			return nil
		}
		return s.tell(ctx, e, only(*d.NextCaregiverID), notice{category: Shift,
			text: func(m member) message {
				notes := "No handoff notes."
				if d.HandoffNotes != "" {
					notes = "Notes: " + excerpt(d.HandoffNotes, 1000)
				}
				at := e.Time
				if d.CheckedOutAt != nil {
					at = *d.CheckedOutAt
				}
				return message{Title: fmt.Sprintf("Handoff from %s", d.CaregiverName),
					Body: fmt.Sprintf("%s checked out of their shift with %s at %s. %s", d.CaregiverName, d.CareRecipientName,
						clockAt(at, loc, m.loc), notes),
					URL: "/shifts/" + *d.NextShiftID, Tag: "shift-" + *d.NextShiftID}
			}})
	case d.CaregiverID == e.ActorID:
		return nil // they arranged it themselves
	case d.Cancelled:
		return s.tell(ctx, e, only(d.CaregiverID), notice{category: Shift,
			text: func(m member) message {
				return message{Title: fmt.Sprintf("Shift with %s cancelled", d.CareRecipientName),
					Body: fmt.Sprintf("Your shift with %s on %s was cancelled.", d.CareRecipientName, dayAt(d.StartTime, loc, m.loc)),
					URL:  "/shifts/" + d.ShiftID, Tag: "shift-" + d.ShiftID}
			}})
	case e.Type == carecircle.EventShiftCreated:
		return s.tell(ctx, e, only(d.CaregiverID), notice{category: Shift,
			text: func(m member) message {
				return message{Title: fmt.Sprintf("New shift with %s", d.CareRecipientName),
					Body: fmt.Sprintf("%s scheduled you with %s from %s to %s.", d.CreatedByName, d.CareRecipientName,
						dayAt(d.StartTime, loc, m.loc), clockAt(d.EndTime, loc, m.loc)),
					URL: "/shifts/" + d.ShiftID, Tag: "shift-" + d.ShiftID}
			}})
	}
	return nil
}
