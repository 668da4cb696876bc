package carecircle

import (
	"strings"
	"testing"
)

func TestAgeOn_CountsWholeYears(t *testing.T) {
	d := func(s string) Date {
		t.Helper()
		v, err := ParseDate(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		birth, day string
		age        int
	}{
		{"1941-05-12", "2026-05-11", 84},
		{"1941-05-12", "2026-05-12", 85},
		{"1941-05-12", "2026-12-31", 85},
		{"1941-05-12", "2027-01-01", 85},
		{"1940-02-29", "2026-02-28", 85}, // a leap-day birthday comes on 1 March in other years
		{"1940-02-29", "2026-03-01", 86},
		{"1940-02-29", "2028-02-29", 88},
		{"2026-03-01", "2026-03-01", 0},
	}
	for _, c := range cases {
		if got := AgeOn(d(c.birth), d(c.day)); got != c.age {
			t.Errorf("AgeOn(%s, %s) = %d, want %d", c.birth, c.day, got, c.age)
		}
	}
}

func TestEmergencyAlertValidate_ReportsEachFieldByName(t *testing.T) {
	cases := []struct {
		a    EmergencyAlert
		want []string
	}{
		{EmergencyAlert{CareRecipientID: "cr_x", Type: AlertFall, Description: "Fell"}, nil},
		{EmergencyAlert{}, []string{"careRecipientId should not be empty",
			"type must be one of FALL, MEDICAL, MISSING, HOSPITALIZATION, OTHER", "description should not be empty"}},
		{EmergencyAlert{CareRecipientID: "cr_x", Type: "fall", Description: "  "},
			[]string{"type must be one of FALL, MEDICAL, MISSING, HOSPITALIZATION, OTHER", "description should not be empty"}},
		{EmergencyAlert{CareRecipientID: "cr_x", Type: AlertOther, Description: strings.Repeat("d", MaxAlertDescription+1),
			Location: strings.Repeat("l", MaxAlertLocation+1)},
			[]string{"description must be at most 2000 characters", "location must be at most 500 characters"}},
	}
	for _, c := range cases {
		var got []string
		if err := c.a.Validate(); err != nil {
			got = err.(*Error).Fields
		}
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("Validate(%+v) = %q, want %q", c.a.Type, got, c.want)
		}
	}
}
