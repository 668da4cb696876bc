package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/jobs"
	"github.com/carecircle/carecircle/internal/storage"
)

// Reminder jobs re-check everything when they run: a medication changed,
// an appointment moved, a dose already logged or an alert acknowledged since
// the job was planned makes it do nothing. Planning can therefore be eager
// and stale jobs never need deleting.

// Dose job phases.
const (
	phaseRemind = "remind"
	phaseMissed = "missed"
)

type dosePayload struct {
	MedicationID string    `json:"medicationId"`
	At           time.Time `json:"at"`
	Phase        string    `json:"phase"`
}

type appointmentPayload struct {
	AppointmentID   string    `json:"appointmentId"`
	OccurrenceStart time.Time `json:"occurrenceStart"`
	Offset          int       `json:"offsetMinutes"`
}

type shiftPayload struct {
	ShiftID string    `json:"shiftId"`
	Start   time.Time `json:"start"`
}

type refillPayload struct {
	MedicationID string `json:"medicationId"`
}

type documentPayload struct {
	DocumentID string    `json:"documentId"`
	ExpiresAt  time.Time `json:"expiresAt"`
	Days       int       `json:"days"`
}

type alertPayload struct {
	AlertID string `json:"alertId"`
	N       int    `json:"n"`
}

func payload(j *storage.Job, v any) error {
	if err := json.Unmarshal(j.Payload, v); err != nil {
		return jobs.Permanent(fmt.Errorf("job %s payload: %w", j.Key, err))
	}
	return nil
}

// gone reports an entity deleted since its job was planned.
func gone(err error) bool { return carecircle.ErrorCode(err) == carecircle.ENOTFOUND }

// runDose is one dose's job. At the dose's time it reminds (the caregiver
// on shift, else every ADMIN and CAREGIVER) and comes back at the
// recipient's missed-dose delay; then, if the dose is still unlogged, it
// records medication.missed, which the notifications consumer turns into
// notices. A dose logged meanwhile, a medication stopped or changed so the
// instant is no longer one of its doses, ends the job quietly.
func (s *Service) runDose(ctx context.Context, j *storage.Job) error {
	var p dosePayload
	if err := payload(j, &p); err != nil {
		return err
	}
	m, logged, err := s.db.DoseForReminder(ctx, p.MedicationID, p.At)
	if gone(err) {
		return nil
	}
	if err != nil {
		return err
	}
	loc := zone(m.Timezone)
	if !m.Active || logged || !m.Plan.IsDose(p.At, loc) {
		return nil
	}
	now := s.clock.Now()
	missedAt := p.At.Add(time.Duration(m.MissedDoseMinutes) * time.Minute)
	if p.Phase != phaseMissed && now.Before(missedAt) {
		return s.remindDose(ctx, j, m, p.At, missedAt)
	}
	if now.Before(missedAt) {
		// The family lengthened the delay since this was scheduled.
		return jobs.Again(missedAt, dosePayload{MedicationID: m.ID, At: p.At, Phase: phaseMissed})
	}
	_, err = s.db.RecordMissedDose(ctx, j.Lock, m, p.At, p.At.In(loc).Format("15:04"))
	if err == nil {
		j.Finished = true
	}
	return lost(err)
}

func (s *Service) remindDose(ctx context.Context, j *storage.Job, m storage.ReminderMedication, at, missedAt time.Time) error {
	members, err := s.audience(ctx, m.FamilyID)
	if err != nil {
		return err
	}
	w := who(caregivers)
	onDuty, err := s.db.CaregiversOnDuty(ctx, m.RecipientID, at)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(members, func(mm member) bool { return caregivers(mm) && slices.Contains(onDuty, mm.UserID) }) {
		w = func(mm member) bool { return caregivers(mm) && slices.Contains(onDuty, mm.UserID) }
	}
	notes := s.build(members, w, notice{category: DoseReminder, familyID: m.FamilyID, recipientID: m.RecipientID,
		sourceKey: j.Key, text: func(mm member) message { return doseReminderText(m, at, mm.loc) }}, s.clock.Now())
	return lost(s.save(ctx, notes, j, &reschedule{at: missedAt,
		payload: dosePayload{MedicationID: m.ID, At: at, Phase: phaseMissed}}))
}

// runAppointmentReminder tells the assigned member and the ADMINs about an
// occurrence that still exists with this reminder offset.
func (s *Service) runAppointmentReminder(ctx context.Context, j *storage.Job) error {
	var p appointmentPayload
	if err := payload(j, &p); err != nil {
		return err
	}
	a, err := s.db.AppointmentForReminder(ctx, p.AppointmentID)
	if gone(err) {
		return nil
	}
	if err != nil {
		return err
	}
	loc := zone(a.Timezone)
	occ := a.OccurrencesIn(loc, p.OccurrenceStart, p.OccurrenceStart.Add(time.Second), 1)
	if !a.Active || !slices.Contains(a.Reminders, p.Offset) || len(occ) == 0 || !occ[0].OccurrenceStart.Equal(p.OccurrenceStart) ||
		!s.clock.Now().Before(p.OccurrenceStart) {
		return nil
	}
	members, err := s.audience(ctx, a.FamilyID)
	if err != nil {
		return err
	}
	w := who(admins)
	if a.AssignedTo != nil {
		w = anyOf(admins, only(a.AssignedTo.ID))
	}
	notes := s.build(members, w, notice{category: Appointment, familyID: a.FamilyID, recipientID: a.CareRecipientID,
		sourceKey: j.Key, text: func(m member) message {
			return appointmentText(a, p.OccurrenceStart, p.Offset, m.loc, m.UserID)
		}}, s.clock.Now())
	return lost(s.save(ctx, notes, j, nil))
}

// lost treats a lease taken over by another worker as done: that worker
// runs the job.
func lost(err error) error {
	if errors.Is(err, storage.ErrJobLost) {
		return nil
	}
	return err
}

// runShiftReminder tells the caregiver an hour before a shift that is
// still scheduled at that start and not yet checked in.
func (s *Service) runShiftReminder(ctx context.Context, j *storage.Job) error {
	var p shiftPayload
	if err := payload(j, &p); err != nil {
		return err
	}
	sh, err := s.db.ShiftForReminder(ctx, p.ShiftID)
	if gone(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !sh.Live || sh.CheckedInAt != nil || sh.CheckedOutAt != nil || !sh.StartTime.Equal(p.Start) || !s.clock.Now().Before(sh.StartTime) {
		return nil
	}
	members, err := s.audience(ctx, sh.FamilyID)
	if err != nil {
		return err
	}
	notes := s.build(members, func(m member) bool { return m.UserID == sh.Caregiver.ID && caregivers(m) },
		notice{category: Shift, familyID: sh.FamilyID, recipientID: sh.CareRecipientID, sourceKey: j.Key,
			text: func(m member) message { return shiftReminderText(sh, m.loc) }}, s.clock.Now())
	return lost(s.save(ctx, notes, j, nil))
}

// runRefillReminder repeats the refill notice daily while the supply stays
// at or below the threshold.
func (s *Service) runRefillReminder(ctx context.Context, j *storage.Job) error {
	var p refillPayload
	if err := payload(j, &p); err != nil {
		return err
	}
	m, err := s.db.MedicationForReminder(ctx, p.MedicationID)
	if gone(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !m.Active || !m.NeedsRefill() {
		return nil
	}
	members, err := s.audience(ctx, m.FamilyID)
	if err != nil {
		return err
	}
	now := s.clock.Now()
	notes := s.build(members, caregivers, notice{category: Refill, familyID: m.FamilyID, recipientID: m.RecipientID,
		sourceKey: j.Key, text: func(mm member) message {
			return refillText(m.Name, m.Dosage, m.RecipientName, m.ID, *m.CurrentSupply, *m.RefillThreshold, true)
		}}, now)
	return lost(s.save(ctx, notes, j, nil, refillJob(m.ID, nextRefillReminder(now, zone(m.Timezone)))))
}

// runDocumentReminder tells the ADMINs a document expires soon, if it
// still exists with that expiry.
func (s *Service) runDocumentReminder(ctx context.Context, j *storage.Job) error {
	var p documentPayload
	if err := payload(j, &p); err != nil {
		return err
	}
	d, err := s.db.DocumentForReminder(ctx, p.DocumentID)
	if gone(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !d.Live || !d.ExpiresAt.Equal(p.ExpiresAt) {
		return nil
	}
	members, err := s.audience(ctx, d.FamilyID)
	if err != nil {
		return err
	}
	notes := s.build(members, admins, notice{category: DocumentExpiry, familyID: d.FamilyID, recipientID: d.RecipientID,
		sourceKey: j.Key, text: func(m member) message { return documentExpiryText(d, p.Days) }}, s.clock.Now())
	return lost(s.save(ctx, notes, j, nil))
}

// runAlertRepeat sends an emergency again, by push and email, while no one
// has acknowledged or resolved it, and schedules the next repeat.
func (s *Service) runAlertRepeat(ctx context.Context, j *storage.Job) error {
	var p alertPayload
	if err := payload(j, &p); err != nil {
		return err
	}
	a, familyID, tz, err := s.db.AlertForReminder(ctx, p.AlertID)
	if gone(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if a.Status != carecircle.AlertActive {
		return nil
	}
	members, err := s.audience(ctx, familyID)
	if err != nil {
		return err
	}
	d := alertData{AlertID: a.ID, Type: string(a.Type), Description: a.Description, Location: a.Location,
		TriggeredByName: a.TriggeredBy.FullName, CareRecipientName: a.CareRecipientName, Timezone: tz, CreatedAt: a.CreatedAt}
	notes := s.build(members, except(a.TriggeredBy.ID, everyone), notice{category: Emergency, urgent: true, pushOnly: true,
		familyID: familyID, recipientID: a.CareRecipientID, sourceKey: j.Key,
		text: func(m member) message { return alertText(d, m.loc, p.N) }}, s.clock.Now())
	var follow []storage.JobSpec
	if p.N < AlertMaxRepeats {
		follow = append(follow, alertRepeatJob(a.ID, p.N+1, a.CreatedAt))
	}
	return lost(s.save(ctx, notes, j, nil, follow...))
}
