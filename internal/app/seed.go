package app

import (
	"context"
	"fmt"
	"io"

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
	fmt.Fprintf(out, "Demo family %q with care recipient %s (%s).\n", fam.Name, cr.DisplayName(), cr.ID)
	for _, p := range people {
		fmt.Fprintf(out, "  %-10s %-22s password: %s\n", p.role, p.email, DemoPassword)
	}
	return nil
}
