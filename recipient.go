package carecircle

import (
	"strings"
	"time"
)

// CareRecipient is the person a family cares for.
type CareRecipient struct {
	ID                string             `json:"id"`
	FamilyID          string             `json:"familyId"`
	FirstName         string             `json:"firstName"`
	LastName          string             `json:"lastName"`
	PreferredName     string             `json:"preferredName"`
	DateOfBirth       *Date              `json:"dateOfBirth"`
	BloodType         string             `json:"bloodType"`
	Allergies         []string           `json:"allergies"`
	Conditions        []string           `json:"conditions"`
	Timezone          string             `json:"timezone"`
	Notes             string             `json:"notes"`
	PrimaryHospital   string             `json:"primaryHospital"`
	Insurance         *Insurance         `json:"insurance"`
	EmergencyContacts []EmergencyContact `json:"emergencyContacts"`
	Doctors           []Doctor           `json:"doctors"`
	// MissedDoseMinutes is how long after a dose's time an unlogged dose
	// counts as missed and the family is alerted.
	MissedDoseMinutes int       `json:"missedDoseMinutes"`
	CreatedAt         time.Time `json:"createdAt"`
	UpdatedAt         time.Time `json:"updatedAt"`
}

// DisplayName is how texts refer to the recipient.
func (c *CareRecipient) DisplayName() string {
	if c.PreferredName != "" {
		return c.PreferredName
	}
	return strings.TrimSpace(c.FirstName + " " + c.LastName)
}

// Location returns the recipient's time zone (UTC if somehow invalid).
func (c *CareRecipient) Location() *time.Location {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Insurance is the recipient's health insurance.
type Insurance struct {
	Provider     string `json:"provider"`
	PolicyNumber string `json:"policyNumber"`
	GroupNumber  string `json:"groupNumber,omitempty"`
	Phone        string `json:"phone,omitempty"`
}

// EmergencyContact is a person to call in an emergency.
type EmergencyContact struct {
	Name         string `json:"name"`
	Relationship string `json:"relationship"`
	Phone        string `json:"phone"`
}

// Doctor is one of the recipient's physicians.
type Doctor struct {
	Name      string `json:"name"`
	Specialty string `json:"specialty"`
	Phone     string `json:"phone"`
}

// DefaultMissedDoseMinutes is the escalation delay for an unlogged dose.
const DefaultMissedDoseMinutes = 60

var bloodTypes = map[string]bool{"": true, "A+": true, "A-": true, "B+": true, "B-": true,
	"AB+": true, "AB-": true, "O+": true, "O-": true, "UNKNOWN": true}

// Validate checks every field and reports each problem by name.
func (c *CareRecipient) Validate() error {
	var p Problems
	c.FirstName, c.LastName = strings.TrimSpace(c.FirstName), strings.TrimSpace(c.LastName)
	p.Add(c.FirstName == "", "firstName should not be empty")
	p.Add(len(c.FirstName) > 100, "firstName must be at most 100 characters")
	p.Add(c.LastName == "", "lastName should not be empty")
	p.Add(len(c.LastName) > 100, "lastName must be at most 100 characters")
	p.Add(len(c.PreferredName) > 100, "preferredName must be at most 100 characters")
	if _, msg := ValidateTimezone("timezone", c.Timezone); msg != "" {
		p.Add(true, "%s", msg)
	}
	c.BloodType = strings.ToUpper(strings.TrimSpace(c.BloodType))
	p.Add(!bloodTypes[c.BloodType], "bloodType must be one of A+, A-, B+, B-, AB+, AB-, O+, O-, UNKNOWN")
	if c.DateOfBirth != nil {
		today := DateOf(time.Now(), time.UTC)
		p.Add(c.DateOfBirth.After(today.AddDays(1)), "dateOfBirth must not be in the future")
		p.Add(c.DateOfBirth.Year < 1900, "dateOfBirth must be after 1900")
	}
	p.Add(len(c.Notes) > 5000, "notes must be at most 5000 characters")
	p.Add(len(c.PrimaryHospital) > 200, "primaryHospital must be at most 200 characters")
	validateList(&p, "allergies", c.Allergies)
	validateList(&p, "conditions", c.Conditions)
	if c.Insurance != nil {
		p.Add(len(c.Insurance.Provider) > 200, "insurance.provider must be at most 200 characters")
		p.Add(len(c.Insurance.PolicyNumber) > 100, "insurance.policyNumber must be at most 100 characters")
		if m := ValidatePhone("insurance.phone", c.Insurance.Phone); m != "" {
			p.Add(true, "%s", m)
		}
	}
	p.Add(len(c.EmergencyContacts) > 20, "emergencyContacts must have at most 20 entries")
	for i, ec := range c.EmergencyContacts {
		p.Add(strings.TrimSpace(ec.Name) == "", "emergencyContacts[%d].name should not be empty", i)
		p.Add(strings.TrimSpace(ec.Phone) == "", "emergencyContacts[%d].phone should not be empty", i)
		if m := ValidatePhone("emergencyContacts["+itoa(i)+"].phone", ec.Phone); m != "" && ec.Phone != "" {
			p.Add(true, "%s", m)
		}
		p.Add(len(ec.Name) > 100 || len(ec.Relationship) > 100, "emergencyContacts[%d] fields must be at most 100 characters", i)
	}
	p.Add(len(c.Doctors) > 20, "doctors must have at most 20 entries")
	for i, d := range c.Doctors {
		p.Add(strings.TrimSpace(d.Name) == "", "doctors[%d].name should not be empty", i)
		if m := ValidatePhone("doctors["+itoa(i)+"].phone", d.Phone); m != "" {
			p.Add(true, "%s", m)
		}
		p.Add(len(d.Name) > 100 || len(d.Specialty) > 100, "doctors[%d] fields must be at most 100 characters", i)
	}
	p.Add(c.MissedDoseMinutes < 5 || c.MissedDoseMinutes > 720, "missedDoseMinutes must be between 5 and 720")
	return p.Err()
}

func validateList(p *Problems, field string, items []string) {
	p.Add(len(items) > 50, "%s must have at most 50 entries", field)
	for i, s := range items {
		p.Add(strings.TrimSpace(s) == "", "%s[%d] should not be empty", field, i)
		p.Add(len(s) > 200, "%s[%d] must be at most 200 characters", field, i)
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
