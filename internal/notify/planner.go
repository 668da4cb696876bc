package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/storage"
)

// Planning schedules reminder jobs ahead of time, keyed by what they remind
// of (dose:<medication>:<instant ms>, apt-reminder:<appointment>:
// <occurrence ms>:<offset>, shift-reminder:<shift>:<start ms>), so planning
// twice, on two workers, or after a restart schedules each reminder once.
//
// The periodic planner (every PlanEvery) extends a horizon per kind: each
// run plans only [previous horizon, now+PlanAhead). A change (a new
// medication, a moved appointment, a recipient's new time zone) plans that
// item for [now, now+PlanAhead) at once, through the "reminders" event
// consumer. The horizon is computed from the clock before anything is read,
// so an item created while a periodic run reads is either seen by it or
// planned by its own event up to a point past the new horizon: no gap.

// planPage is how many medications the planner reads at a time.
const planPage = 2000

// runPlanner is the periodic planning job.
func (s *Service) runPlanner(ctx context.Context, j *storage.Job) error {
	now := s.clock.Now()
	to := now.Add(PlanAhead)
	if err := s.PlanDoses(ctx, now, to); err != nil {
		return err
	}
	if err := s.planAppointments(ctx, now, to); err != nil {
		return err
	}
	if err := s.planShifts(ctx, now, to); err != nil {
		return err
	}
	return s.planDocuments(ctx, now, to)
}

func (s *Service) planDocuments(ctx context.Context, now, to time.Time) error {
	from, err := s.horizon(ctx, horizonDocs, now)
	if err != nil || !from.Before(to) {
		return err
	}
	longest := time.Duration(slices.Max(DocumentReminderDays)+2) * 24 * time.Hour
	docs, err := s.db.DocumentsExpiringBetween(ctx, from, to.Add(longest))
	if err != nil {
		return err
	}
	var specs []storage.JobSpec
	for _, d := range docs {
		specs = append(specs, documentJobs(d, from, to)...)
	}
	if _, err := s.db.EnqueueJobs(ctx, specs...); err != nil {
		return err
	}
	return s.db.SetPlannerHorizon(ctx, horizonDocs, to)
}

// documentJobs are a document's expiry reminders in [from, to): at
// DocumentReminderAt on each of DocumentReminderDays before its expiry day,
// in the recipient's zone.
func documentJobs(d storage.ReminderDocument, from, to time.Time) []storage.JobSpec {
	if !d.Live {
		return nil
	}
	loc := zone(d.Timezone)
	hh, mm, _ := carecircle.ParseClock(DocumentReminderAt)
	var out []storage.JobSpec
	for _, days := range DocumentReminderDays {
		at := carecircle.LocalInstant(carecircle.DateOf(d.ExpiresAt, loc).AddDays(-days), hh, mm, loc)
		if at.Before(from) || !at.Before(to) || !at.Before(d.ExpiresAt) {
			continue
		}
		out = append(out, storage.JobSpec{Kind: jobDocument, RunAt: at, MaxAttempts: 5,
			Key:     fmt.Sprintf("doc-expiry:%s:%d:%d", d.ID, d.ExpiresAt.UnixMilli(), days),
			Payload: documentPayload{DocumentID: d.ID, ExpiresAt: d.ExpiresAt, Days: days}})
	}
	return out
}

// horizon returns where the named planner's next slice starts. A horizon
// still more than PlanAhead-PlanSlice ahead is left alone (the returned
// start is then past to, so nothing is planned): small slices would read
// every row as often for little work.
func (s *Service) horizon(ctx context.Context, name string, now time.Time) (time.Time, error) {
	h, ok, err := s.db.PlannerHorizon(ctx, name)
	if err != nil {
		return now, err
	}
	switch {
	case !ok || h.Before(now):
		return now, nil
	case h.After(now.Add(PlanAhead - PlanSlice)):
		return now.Add(PlanAhead), nil
	}
	return h, nil
}

// PlanDoses schedules the dose jobs of every active medication from the
// doses horizon (now, the first time) up to `to`, and moves the horizon
// there. It returns how long the work took in the log only; the benchmark
// times it from outside.
func (s *Service) PlanDoses(ctx context.Context, now, to time.Time) error {
	from, err := s.horizon(ctx, horizonDoses, now)
	if err != nil || !from.Before(to) {
		return err
	}
	after, planned := "", 0
	for {
		meds, err := s.db.ActiveMedications(ctx, after, planPage)
		if err != nil {
			return err
		}
		var specs []storage.JobSpec
		for _, m := range meds {
			specs = append(specs, doseJobs(m, from, to)...)
		}
		n, err := s.db.EnqueueJobs(ctx, specs...)
		if err != nil {
			return err
		}
		planned += n
		if len(meds) < planPage {
			break
		}
		after = meds[len(meds)-1].ID
	}
	if planned > 0 {
		s.log.Info("dose reminders planned", "jobs", planned, "from", from, "to", to)
	}
	return s.db.SetPlannerHorizon(ctx, horizonDoses, to)
}

// doseJobs are a medication's dose jobs in [from, to).
func doseJobs(m storage.ReminderMedication, from, to time.Time) []storage.JobSpec {
	if !m.Active {
		return nil
	}
	var out []storage.JobSpec
	for _, at := range m.Plan.DosesBetween(from, to, zone(m.Timezone)) {
		out = append(out, storage.JobSpec{Kind: jobDose, Key: fmt.Sprintf("dose:%s:%d", m.ID, at.UnixMilli()), RunAt: at,
			Payload: dosePayload{MedicationID: m.ID, At: at, Phase: phaseRemind}, MaxAttempts: 5})
	}
	return out
}

func (s *Service) planAppointments(ctx context.Context, now, to time.Time) error {
	from, err := s.horizon(ctx, horizonAppts, now)
	if err != nil || !from.Before(to) {
		return err
	}
	apts, err := s.db.AppointmentsStartingBefore(ctx, from, to.Add(carecircle.MaxReminderMinutes*time.Minute))
	if err != nil {
		return err
	}
	var specs []storage.JobSpec
	for _, a := range apts {
		specs = append(specs, appointmentJobs(a, from, to)...)
	}
	if _, err := s.db.EnqueueJobs(ctx, specs...); err != nil {
		return err
	}
	return s.db.SetPlannerHorizon(ctx, horizonAppts, to)
}

// appointmentJobs are the reminders of an appointment's occurrences that
// fall in [from, to), one per occurrence and offset.
func appointmentJobs(a storage.ReminderAppointment, from, to time.Time) []storage.JobSpec {
	if !a.Active || len(a.Reminders) == 0 {
		return nil
	}
	longest := time.Duration(slices.Max(a.Reminders)) * time.Minute
	var out []storage.JobSpec
	for _, o := range a.OccurrencesIn(zone(a.Timezone), from, to.Add(longest), 0) {
		for _, off := range a.Reminders {
			at := o.OccurrenceStart.Add(-time.Duration(off) * time.Minute)
			if at.Before(from) || !at.Before(to) {
				continue
			}
			out = append(out, storage.JobSpec{Kind: jobAppointment,
				Key:   fmt.Sprintf("apt-reminder:%s:%d:%d", a.ID, o.OccurrenceStart.UnixMilli(), off),
				RunAt: at, MaxAttempts: 5,
				Payload: appointmentPayload{AppointmentID: a.ID, OccurrenceStart: o.OccurrenceStart, Offset: off}})
		}
	}
	return out
}

func (s *Service) planShifts(ctx context.Context, now, to time.Time) error {
	from, err := s.horizon(ctx, horizonShifts, now)
	if err != nil || !from.Before(to) {
		return err
	}
	shifts, err := s.db.ShiftsStartingBetween(ctx, from.Add(ShiftReminderBefore), to.Add(ShiftReminderBefore))
	if err != nil {
		return err
	}
	var specs []storage.JobSpec
	for _, sh := range shifts {
		specs = append(specs, shiftJobs(sh, from, to)...)
	}
	if _, err := s.db.EnqueueJobs(ctx, specs...); err != nil {
		return err
	}
	return s.db.SetPlannerHorizon(ctx, horizonShifts, to)
}

func shiftJobs(sh storage.ReminderShift, from, to time.Time) []storage.JobSpec {
	at := sh.StartTime.Add(-ShiftReminderBefore)
	if !sh.Live || sh.CheckedInAt != nil || at.Before(from) || !at.Before(to) {
		return nil
	}
	return []storage.JobSpec{{Kind: jobShift, Key: fmt.Sprintf("shift-reminder:%s:%d", sh.ID, sh.StartTime.UnixMilli()),
		RunAt: at, MaxAttempts: 5, Payload: shiftPayload{ShiftID: sh.ID, Start: sh.StartTime}}}
}

// PlanEvent is the "reminders" consumer: it plans the reminders of what an
// event changed, for [now, now+PlanAhead). Jobs of the old plan stay and
// find, when they run, that they no longer apply.
func (s *Service) PlanEvent(ctx context.Context, e carecircle.Event) error {
	var d struct {
		DocumentID      string `json:"documentId"`
		MedicationID    string `json:"medicationId"`
		AppointmentID   string `json:"appointmentId"`
		ShiftID         string `json:"shiftId"`
		TimezoneChanged bool   `json:"timezoneChanged"`
	}
	now := s.clock.Now()
	to := now.Add(PlanAhead)
	var specs []storage.JobSpec
	switch e.Type {
	case carecircle.EventMedicationCreated, carecircle.EventMedicationUpdated:
		if err := decode(e, &d); err != nil {
			return err
		}
		m, err := s.db.MedicationForReminder(ctx, d.MedicationID)
		if gone(err) {
			return nil
		}
		if err != nil {
			return err
		}
		specs = doseJobs(m, now, to)
	case carecircle.EventAppointmentCreated, carecircle.EventAppointmentUpdated:
		if err := decode(e, &d); err != nil {
			return err
		}
		a, err := s.db.AppointmentForReminder(ctx, d.AppointmentID)
		if gone(err) {
			return nil
		}
		if err != nil {
			return err
		}
		specs = appointmentJobs(a, now, to)
	case carecircle.EventShiftCreated, carecircle.EventShiftUpdated:
		if err := decode(e, &d); err != nil {
			return err
		}
		sh, err := s.db.ShiftForReminder(ctx, d.ShiftID)
		if gone(err) {
			return nil
		}
		if err != nil {
			return err
		}
		specs = shiftJobs(sh, now, to)
	case carecircle.EventDocumentUploaded, carecircle.EventDocumentUpdated:
		if err := decode(e, &d); err != nil {
			return err
		}
		doc, err := s.db.DocumentForReminder(ctx, d.DocumentID)
		if gone(err) {
			return nil
		}
		if err != nil {
			return err
		}
		specs = documentJobs(doc, now, to)
	case carecircle.EventRecipientUpdated:
		if err := json.Unmarshal(e.Data, &d); err != nil || !d.TimezoneChanged {
			return nil
		}
		meds, err := s.db.RecipientMedications(ctx, e.CareRecipientID)
		if err != nil {
			return err
		}
		for _, m := range meds {
			specs = append(specs, doseJobs(m, now, to)...)
		}
		apts, err := s.db.RecipientAppointments(ctx, e.CareRecipientID, now)
		if err != nil {
			return err
		}
		for _, a := range apts {
			specs = append(specs, appointmentJobs(a, now, to)...)
		}
	default:
		return nil
	}
	if len(specs) == 0 {
		return nil
	}
	if _, err := s.db.EnqueueJobs(ctx, specs...); err != nil {
		return err
	}
	s.runner.Wake()
	return nil
}
