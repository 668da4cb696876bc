package carecircle

import (
	"strings"
	"time"
)

// Role is a member's role in one family.
type Role string

// Roles, from most to least powerful.
const (
	RoleAdmin     Role = "ADMIN"
	RoleCaregiver Role = "CAREGIVER"
	RoleViewer    Role = "VIEWER"
)

// Valid reports whether r is one of the three roles.
func (r Role) Valid() bool {
	return r == RoleAdmin || r == RoleCaregiver || r == RoleViewer
}

func (r Role) rank() int {
	switch r {
	case RoleAdmin:
		return 3
	case RoleCaregiver:
		return 2
	case RoleViewer:
		return 1
	}
	return 0
}

// AtLeast reports whether r grants at least what min grants.
func (r Role) AtLeast(min Role) bool { return r.rank() >= min.rank() }

// CanWriteCare reports whether r may change care data (medications, logs,
// appointments, timeline, shifts, alerts).
func (r Role) CanWriteCare() bool { return r.AtLeast(RoleCaregiver) }

// Require returns EFORBIDDEN unless r is at least min.
func (r Role) Require(min Role) error {
	if r.AtLeast(min) {
		return nil
	}
	return Errorf(EFORBIDDEN, "this requires the %s role in the family", min)
}

// Family is a group of people caring for one or more care recipients.
type Family struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"` // the caller's role
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// ValidateFamilyName checks a family's display name.
func ValidateFamilyName(name string) error {
	var p Problems
	n := strings.TrimSpace(name)
	p.Add(n == "", "name should not be empty")
	p.Add(len(n) > 100, "name must be at most 100 characters")
	return p.Err()
}

// Member is a user's membership in a family.
type Member struct {
	UserID   string    `json:"userId"`
	FullName string    `json:"fullName"`
	Email    string    `json:"email"`
	Phone    string    `json:"phone"`
	Role     Role      `json:"role"`
	Timezone string    `json:"timezone"`
	AddedAt  time.Time `json:"addedAt"`
}

// MemberRef names a person in a response: who logged a dose, who drives to
// an appointment, who wrote an entry, who is on shift.
type MemberRef struct {
	ID       string `json:"id"`
	FullName string `json:"fullName"`
}

// Invite is a pending invitation to join a family. Its token exists only in
// the email; storage keeps a hash.
type Invite struct {
	ID         string     `json:"id"`
	FamilyID   string     `json:"familyId"`
	Email      string     `json:"email"`
	Role       Role       `json:"role"`
	ExpiresAt  time.Time  `json:"expiresAt"`
	CreatedAt  time.Time  `json:"createdAt"`
	InvitedBy  string     `json:"invitedBy"`
	AcceptedAt *time.Time `json:"acceptedAt,omitempty"`
}

// InviteTTL is how long an invitation stays valid.
const InviteTTL = 7 * 24 * time.Hour

// InviteInfo is what the public invite page shows before sign-in.
type InviteInfo struct {
	FamilyName  string    `json:"familyName"`
	Role        Role      `json:"role"`
	Email       string    `json:"email"`
	ExpiresAt   time.Time `json:"expiresAt"`
	InviterName string    `json:"inviterName"`
}
