package carecircle

import (
	"strings"
	"time"
	"unicode/utf8"
)

// AlertType is what kind of emergency an alert reports.
type AlertType string

// Alert types, as in the API contract.
const (
	AlertFall            AlertType = "FALL"
	AlertMedical         AlertType = "MEDICAL"
	AlertMissing         AlertType = "MISSING"
	AlertHospitalization AlertType = "HOSPITALIZATION"
	AlertOther           AlertType = "OTHER"
)

// Valid reports whether t is one of the contract's alert types.
func (t AlertType) Valid() bool {
	switch t {
	case AlertFall, AlertMedical, AlertMissing, AlertHospitalization, AlertOther:
		return true
	}
	return false
}

// AlertStatus is an alert's place in its life: raised, seen, over.
type AlertStatus string

// Alert statuses.
const (
	AlertActive       AlertStatus = "ACTIVE"
	AlertAcknowledged AlertStatus = "ACKNOWLEDGED"
	AlertResolved     AlertStatus = "RESOLVED"
)

// Valid reports whether s is one of the three statuses.
func (s AlertStatus) Valid() bool {
	return s == AlertActive || s == AlertAcknowledged || s == AlertResolved
}

// Emergency alert limits, in characters.
const (
	MaxAlertDescription = 2000
	MaxAlertLocation    = 500
	MaxAlertResolution  = 5000
)

// EmergencyAlert is an emergency raised for a care recipient; it reaches
// every family member at once.
type EmergencyAlert struct {
	ID                string      `json:"id"`
	Status            AlertStatus `json:"status"`
	CareRecipientID   string      `json:"careRecipientId"`
	CareRecipientName string      `json:"careRecipientName"`
	Type              AlertType   `json:"type"`
	Description       string      `json:"description"`
	Location          string      `json:"location"`
	TriggeredBy       MemberRef   `json:"triggeredBy"`
	CreatedAt         time.Time   `json:"createdAt"`
	// AcknowledgedAt/By are the first acknowledgement.
	AcknowledgedAt   *time.Time        `json:"acknowledgedAt"`
	AcknowledgedBy   *MemberRef        `json:"acknowledgedBy"`
	Acknowledgements []Acknowledgement `json:"acknowledgements"`
	ResolvedAt       *time.Time        `json:"resolvedAt"`
	ResolvedBy       *MemberRef        `json:"resolvedBy"`
	ResolutionNotes  string            `json:"resolutionNotes"`
	UpdatedAt        time.Time         `json:"updatedAt"`
}

// Acknowledgement records that a member saw an alert.
type Acknowledgement struct {
	User           MemberRef `json:"user"`
	AcknowledgedAt time.Time `json:"acknowledgedAt"`
}

// Validate normalizes the text fields and checks a new alert, reporting each
// problem by field name.
func (a *EmergencyAlert) Validate() error {
	var p Problems
	a.Description, a.Location = strings.TrimSpace(a.Description), strings.TrimSpace(a.Location)
	p.Add(a.CareRecipientID == "", "careRecipientId should not be empty")
	p.Add(!a.Type.Valid(), "type must be one of FALL, MEDICAL, MISSING, HOSPITALIZATION, OTHER")
	p.Add(a.Description == "", "description should not be empty")
	p.Add(utf8.RuneCountInString(a.Description) > MaxAlertDescription, "description must be at most %d characters", MaxAlertDescription)
	p.Add(utf8.RuneCountInString(a.Location) > MaxAlertLocation, "location must be at most %d characters", MaxAlertLocation)
	return p.Err()
}

// ValidateResolutionNotes checks the notes given when an alert is resolved.
func ValidateResolutionNotes(notes string) error {
	var p Problems
	p.Add(utf8.RuneCountInString(notes) > MaxAlertResolution, "notes must be at most %d characters", MaxAlertResolution)
	return p.Err()
}

// EmergencyInfo is everything a paramedic or an emergency room needs about a
// care recipient, on one page.
type EmergencyInfo struct {
	GeneratedAt       time.Time             `json:"generatedAt"`
	CareRecipient     EmergencyPatient      `json:"careRecipient"`
	Medications       []EmergencyMedication `json:"medications"`
	EmergencyContacts []EmergencyContact    `json:"emergencyContacts"`
	Doctors           []Doctor              `json:"doctors"`
	Insurance         *Insurance            `json:"insurance"`
	PrimaryHospital   string                `json:"primaryHospital"`
	FamilyMembers     []EmergencyMember     `json:"familyMembers"`
	ActiveAlerts      []EmergencyAlert      `json:"activeAlerts"`
	// Documents are the key documents (insurance card, advance directive,
	// ...). The document vault supplies them; without it the list is empty.
	Documents []EmergencyDocument `json:"documents"`
}

// EmergencyPatient is the recipient's identity and medical basics.
type EmergencyPatient struct {
	ID            string   `json:"id"`
	FirstName     string   `json:"firstName"`
	LastName      string   `json:"lastName"`
	PreferredName string   `json:"preferredName"`
	DateOfBirth   *Date    `json:"dateOfBirth"`
	Age           *int     `json:"age"`
	BloodType     string   `json:"bloodType"`
	Allergies     []string `json:"allergies"`
	Conditions    []string `json:"conditions"`
	Notes         string   `json:"notes"`
	Timezone      string   `json:"timezone"`
}

// EmergencyMedication is an active medication as the ER needs to see it.
type EmergencyMedication struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	Dosage       string   `json:"dosage"`
	Frequency    string   `json:"frequency"`
	Times        []string `json:"times"`
	Instructions string   `json:"instructions"`
	PrescribedBy string   `json:"prescribedBy"`
	StartDate    *Date    `json:"startDate"`
	EndDate      *Date    `json:"endDate"`
}

// EmergencyMember is a family member to reach.
type EmergencyMember struct {
	UserID   string `json:"userId"`
	FullName string `json:"fullName"`
	Role     Role   `json:"role"`
	Phone    string `json:"phone"`
	Email    string `json:"email"`
}

// EmergencyDocument is a key document listed on the emergency page.
type EmergencyDocument struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	FileName  string     `json:"fileName"`
	Category  string     `json:"category"`
	MimeType  string     `json:"mimeType"`
	ExpiresAt *time.Time `json:"expiresAt"`
	// ExpiringSoon is set when the document expires within
	// DocumentExpiryWarning or has expired already (Expired); Warning says
	// so in words.
	ExpiringSoon bool   `json:"expiringSoon"`
	Expired      bool   `json:"expired"`
	Warning      string `json:"warning,omitempty"`
}

// AgeOn returns the age in whole years of someone born on birth, on day.
func AgeOn(birth, day Date) int {
	age := day.Year - birth.Year
	if day.Month < birth.Month || (day.Month == birth.Month && day.Day < birth.Day) {
		age--
	}
	return age
}
