package storage

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/carecircle/carecircle"
)

// A care recipient's day of doses: the medications' plans expanded in the
// recipient's zone (see schedule.go in the root package for the DST rules),
// joined with the dose logs.

// ScheduleForDay returns a care recipient's doses of one local day (today in
// the recipient's zone when day is nil), ordered by time, each with its log
// or its PENDING/MISSED status. Deactivated medications are not scheduled,
// but doses that were logged that day (AS_NEEDED doses, doses of a
// medication since deactivated or re-timed) are listed too: a family needs
// to see what was given.
func (db *DB) ScheduleForDay(ctx context.Context, recipientID string, day *carecircle.Date) (carecircle.DaySchedule, error) {
	a, err := actor(ctx)
	if err != nil {
		return carecircle.DaySchedule{}, err
	}
	if !carecircle.HasPrefix(recipientID, carecircle.PrefixRecipient) {
		return carecircle.DaySchedule{}, notFound("care recipient")
	}
	tz, missed, meds, err := scheduleMedications(ctx, db.r, recipientID, a.UserID)
	if err != nil {
		return carecircle.DaySchedule{}, err
	}
	loc, now := loadZone(tz), db.Clock.Now()
	d := carecircle.DateOf(now, loc)
	if day != nil {
		d = *day
	}
	out := carecircle.DaySchedule{Date: d, Timezone: tz, Items: []carecircle.ScheduledDose{}}

	// A day's doses can spill past its midnights (a time in a DST gap), so
	// read the logs of a wider window and match them by instant.
	from := carecircle.LocalInstant(d, 0, 0, loc).Add(-3 * time.Hour)
	to := carecircle.LocalInstant(d.AddDays(1), 0, 0, loc).Add(3 * time.Hour)
	logs, names, err := doseLogsBetween(ctx, db.r, recipientID, from, to)
	if err != nil {
		return out, err
	}
	type doseKey struct {
		med string
		at  int64
	}
	byDose := make(map[doseKey]int, len(logs))
	for i := range logs {
		byDose[doseKey{logs[i].MedicationID, ms(logs[i].ScheduledTime)}] = i
	}
	used := make([]bool, len(logs))
	missedAfter := time.Duration(missed) * time.Minute
	plans := make(map[string]carecircle.DosePlan, len(meds))
	for i := range meds {
		m := &meds[i]
		plan := m.Plan()
		plans[m.ID] = plan
		for _, t := range plan.DosesOn(d, loc) {
			item := carecircle.ScheduledDose{MedicationID: m.ID, Name: m.Name, Dosage: m.Dosage,
				LocalTime: carecircle.ClockOf(t, loc), ScheduledTime: t.UTC()}
			if j, ok := byDose[doseKey{m.ID, ms(t)}]; ok {
				used[j] = true
				item.Log = &logs[j]
			}
			item.Status = carecircle.DoseStatus(t, now, missedAfter, item.Log)
			out.Items = append(out.Items, item)
		}
	}
	for j := range logs {
		l := &logs[j]
		if used[j] || carecircle.DateOf(l.ScheduledTime, loc) != d {
			continue
		}
		if plan, ok := plans[l.MedicationID]; ok && plan.IsDose(l.ScheduledTime, loc) {
			continue // a dose of a neighbouring day that spilled into this one
		}
		out.Items = append(out.Items, carecircle.ScheduledDose{MedicationID: l.MedicationID, Name: names[j].name,
			Dosage: names[j].dosage, LocalTime: carecircle.ClockOf(l.ScheduledTime, loc), ScheduledTime: l.ScheduledTime,
			Status: l.Status, Log: l})
	}
	slices.SortStableFunc(out.Items, func(x, y carecircle.ScheduledDose) int {
		if c := x.ScheduledTime.Compare(y.ScheduledTime); c != 0 {
			return c
		}
		if c := strings.Compare(x.Name, y.Name); c != 0 {
			return c
		}
		return strings.Compare(x.MedicationID, y.MedicationID)
	})
	return out, nil
}

// scheduleMedications reads, in one query through the caller's
// membership, the recipient's zone and missed-dose delay and what the
// schedule needs of its active medications (in no particular order).
func scheduleMedications(ctx context.Context, q querier, recipientID, userID string) (tz string, missedMinutes int64, meds []carecircle.Medication, err error) {
	rows, err := q.QueryContext(ctx, `SELECT cr.timezone, cr.missed_dose_minutes,
			x.id, x.name, x.dosage, x.frequency, x.times, x.days_of_week, x.start_date, x.end_date
		FROM care_recipients cr
		JOIN family_members m ON m.family_id = cr.family_id AND m.user_id = $2
		LEFT JOIN medications x ON x.care_recipient_id = cr.id AND x.deactivated_at IS NULL
		WHERE cr.id = $1 AND cr.deleted_at IS NULL`, recipientID, userID)
	if err != nil {
		return "", 0, nil, fmt.Errorf("schedule: %w", err)
	}
	defer rows.Close()
	found := false
	for rows.Next() {
		found = true
		var id, name, dosage, freq, times, days, start, end sql.NullString
		if err := rows.Scan(&tz, &missedMinutes, &id, &name, &dosage, &freq, &times, &days, &start, &end); err != nil {
			return "", 0, nil, fmt.Errorf("schedule: %w", err)
		}
		if !id.Valid {
			continue // no active medications
		}
		m := carecircle.Medication{ID: id.String, Name: name.String, Dosage: dosage.String, Frequency: freq.String}
		if err := decodePlanLists(&m, times.String, days.String); err != nil {
			return "", 0, nil, err
		}
		m.StartDate, m.EndDate = datePtr(start), datePtr(end)
		meds = append(meds, m)
	}
	if err := rows.Err(); err != nil {
		return "", 0, nil, fmt.Errorf("schedule: %w", err)
	}
	if !found {
		return "", 0, nil, notFound("care recipient")
	}
	return tz, missedMinutes, meds, nil
}

type medName struct{ name, dosage string }

// doseLogsBetween reads a recipient's dose logs with scheduled instants in
// [from, to), with their medications' names; the caller has checked access.
func doseLogsBetween(ctx context.Context, q querier, recipientID string, from, to time.Time) ([]carecircle.DoseLog, []medName, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+doseLogColumns+`, x.name, x.dosage FROM medication_logs l`+doseLogJoins+`
		JOIN medications x ON x.id = l.medication_id
		WHERE l.care_recipient_id = $1 AND l.scheduled_at >= $2 AND l.scheduled_at < $3`, recipientID, ms(from), ms(to))
	if err != nil {
		return nil, nil, fmt.Errorf("schedule logs: %w", err)
	}
	defer rows.Close()
	var logs []carecircle.DoseLog
	var names []medName
	for rows.Next() {
		var n medName
		l, err := scanDoseLog(rows, &n.name, &n.dosage)
		if err != nil {
			return nil, nil, fmt.Errorf("schedule logs: %w", err)
		}
		logs, names = append(logs, l), append(names, n)
	}
	return logs, names, rows.Err()
}
