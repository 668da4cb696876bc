package app

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/storage"
)

// DemoPassword is the password of every seeded demo account.
const DemoPassword = "carecircle-demo-2026"

// Seed loads a demo family: Sarah (ADMIN), Mike (CAREGIVER) and Jennifer
// (VIEWER) caring for Margaret, with her contacts and doctors. It refuses to
// run twice.
func Seed(ctx context.Context, db *storage.DB, out io.Writer) error {
	hash, err := auth.HashPassword(DemoPassword)
	if err != nil {
		return err
	}
	type person struct {
		email, name, tz, phone string
		role                   carecircle.Role
	}
	people := []person{
		{"sarah@example.com", "Sarah Thompson", "America/New_York", "+1 555 0100", carecircle.RoleAdmin},
		{"mike@example.com", "Mike Thompson", "Europe/London", "+44 20 7946 0100", carecircle.RoleCaregiver},
		{"jennifer@example.com", "Jennifer Thompson", "America/Los_Angeles", "+1 555 0102", carecircle.RoleViewer},
	}
	var users []carecircle.User
	for _, p := range people {
		u, _, err := db.Register(ctx, storage.NewAccount{Email: p.email, PasswordHash: hash, FullName: p.name, Phone: p.phone, Timezone: p.tz}, storage.SessionMeta{UserAgent: "seed"})
		if err != nil {
			if carecircle.ErrorCode(err) == carecircle.ECONFLICT {
				return fmt.Errorf("the demo family is already there (%s exists)", p.email)
			}
			return err
		}
		users = append(users, u)
	}
	admin := carecircle.WithActor(ctx, carecircle.Actor{UserID: users[0].ID, Name: users[0].FullName})
	fam, err := db.CreateFamily(admin, "Thompson Family")
	if err != nil {
		return err
	}
	for i, p := range people[1:] {
		ni, err := db.CreateInvite(admin, fam.ID, p.email, p.role)
		if err != nil {
			return err
		}
		u := users[i+1]
		if _, _, err := db.AcceptInvite(carecircle.WithActor(ctx, carecircle.Actor{UserID: u.ID, Name: u.FullName}), ni.Token); err != nil {
			return err
		}
	}
	dob, _ := carecircle.ParseDate("1941-05-12")
	cr, err := db.CreateRecipient(admin, carecircle.CareRecipient{
		FamilyID: fam.ID, FirstName: "Margaret", LastName: "Thompson", PreferredName: "Grandma Maggie",
		DateOfBirth: &dob, BloodType: "A+", Allergies: []string{"Penicillin", "Shellfish"},
		Conditions: []string{"Type 2 diabetes", "Hypertension", "Mild cognitive impairment"},
		Timezone:   "America/New_York", PrimaryHospital: "Mercy General Hospital",
		Insurance:         &carecircle.Insurance{Provider: "Medicare", PolicyNumber: "1EG4-TE5-MK72"},
		EmergencyContacts: []carecircle.EmergencyContact{{Name: "Sarah Thompson", Relationship: "Daughter", Phone: "+1 555 0100"}, {Name: "Robert Hale", Relationship: "Neighbour", Phone: "+1 555 0199"}},
		Doctors:           []carecircle.Doctor{{Name: "Dr. Anita Patel", Specialty: "Cardiology", Phone: "+1 555 0120"}, {Name: "Dr. James Okafor", Specialty: "Primary care", Phone: "+1 555 0121"}},
		MissedDoseMinutes: carecircle.DefaultMissedDoseMinutes,
	})
	if err != nil {
		return err
	}
	if err := seedCare(admin, carecircle.WithActor(ctx, carecircle.Actor{UserID: users[1].ID, Name: users[1].FullName}), db, cr, users); err != nil {
		return err
	}
	fmt.Fprintf(out, "Demo family %q with care recipient %s (%s): medications, appointments, a shift and timeline entries.\n", fam.Name, cr.DisplayName(), cr.ID)
	for _, p := range people {
		fmt.Fprintf(out, "  %-10s %-22s password: %s\n", p.role, p.email, DemoPassword)
	}
	return nil
}

// seedCare gives the demo recipient a day's worth of care: medications
// (one dose already given), a weekly cardiology appointment Mike drives to,
// Mike's shift today and a few timeline entries.
func seedCare(admin, caregiver context.Context, db *storage.DB, cr carecircle.CareRecipient, users []carecircle.User) error {
	intp := func(n int) *int { return &n }
	meds := []carecircle.Medication{
		{Name: "Metformin", Dosage: "500mg", Frequency: carecircle.FrequencyTwiceDaily, Times: []string{"08:00", "20:00"},
			Instructions: "Take with food", CurrentSupply: intp(58), RefillThreshold: intp(14), PrescribedBy: "Dr. James Okafor"},
		{Name: "Lisinopril", Dosage: "10mg", Frequency: carecircle.FrequencyOnceDaily, Times: []string{"09:00"},
			Instructions: "Check blood pressure first", CurrentSupply: intp(12), RefillThreshold: intp(14), PrescribedBy: "Dr. Anita Patel"},
		{Name: "Acetaminophen", Dosage: "500mg", Frequency: carecircle.FrequencyAsNeeded,
			Instructions: "For knee pain", MinIntervalMinutes: intp(360), MaxDosesPer24h: intp(3)},
	}
	var first carecircle.Medication
	for i, m := range meds {
		created, err := db.CreateMedication(admin, cr.ID, m)
		if err != nil {
			return fmt.Errorf("seed medication %s: %w", m.Name, err)
		}
		if i == 0 {
			first = created
		}
	}
	loc := cr.Location()
	now := time.Now()
	today := carecircle.DateOf(now, loc)
	if doses := first.Plan().DosesOn(today, loc); len(doses) > 0 && doses[0].Before(now) {
		if _, err := db.LogDose(caregiver, first.ID, storage.DoseInput{Status: carecircle.DoseGiven, ScheduledTime: &doses[0], Notes: "With breakfast"}); err != nil {
			return fmt.Errorf("seed dose: %w", err)
		}
	}
	weekly := "FREQ=WEEKLY;COUNT=8"
	start := carecircle.LocalInstant(today.AddDays(3), 10, 30, loc)
	end := start.Add(time.Hour)
	if _, err := db.CreateAppointment(admin, cr.ID, carecircle.Appointment{Title: "Cardiology check-up", StartTime: start, EndTime: &end,
		Location: "Mercy General, Heart Center, 3rd floor", DoctorName: "Dr. Anita Patel", Recurrence: &weekly,
		AssignedTo: &carecircle.MemberRef{ID: users[1].ID}, Reminders: carecircle.DefaultReminders()}); err != nil {
		return fmt.Errorf("seed appointment: %w", err)
	}
	shiftStart := carecircle.LocalInstant(today, 8, 0, loc)
	if _, err := db.CreateShift(admin, cr.ID, carecircle.Shift{CaregiverID: users[1].ID, Caregiver: carecircle.MemberRef{ID: users[1].ID},
		StartTime: shiftStart, EndTime: shiftStart.Add(10 * time.Hour), Notes: "Morning meds, lunch, afternoon walk"}); err != nil {
		return fmt.Errorf("seed shift: %w", err)
	}
	low := carecircle.SeverityLow
	sys, dia, hr := 138.0, 86.0, 72.0
	for _, e := range []carecircle.TimelineEntry{
		{Type: carecircle.TimelineVitals, Content: "Morning check", Vitals: &carecircle.Vitals{Systolic: &sys, Diastolic: &dia, HeartRate: &hr}},
		{Type: carecircle.TimelineMood, Content: "Cheerful, talked about the garden", Severity: &low},
	} {
		if _, err := db.CreateTimelineEntry(caregiver, cr.ID, e); err != nil {
			return fmt.Errorf("seed timeline: %w", err)
		}
	}
	return nil
}
