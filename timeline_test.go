package carecircle

import (
	"strings"
	"testing"
	"time"
)

func fp(v float64) *float64 { return &v }

func TestTimelineEntryValidate_ReportsEachFieldByName(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	sev := func(s Severity) *Severity { return &s }
	cases := []struct {
		name string
		e    TimelineEntry
		want []string
	}{
		{"note", TimelineEntry{Type: TimelineNote, Content: "Ate lunch", OccurredAt: now}, nil},
		{"vitals speak for themselves", TimelineEntry{Type: TimelineVitals, OccurredAt: now, Vitals: &Vitals{HeartRate: fp(72)}}, nil},
		{"bounds are inclusive", TimelineEntry{Type: TimelineVitals, OccurredAt: now, Vitals: &Vitals{Systolic: fp(300), Diastolic: fp(200),
			HeartRate: fp(250), TemperatureC: fp(30), BloodSugar: fp(1000), OxygenSaturation: fp(50), WeightKg: fp(500)}}, nil},
		{"five minutes ahead is allowed", TimelineEntry{Type: TimelineNote, Content: "x", OccurredAt: now.Add(5 * time.Minute)}, nil},
		{"more than five minutes ahead", TimelineEntry{Type: TimelineNote, Content: "x", OccurredAt: now.Add(5*time.Minute + time.Millisecond)},
			[]string{"occurredAt must not be more than 5 minutes in the future"}},
		{"ancient", TimelineEntry{Type: TimelineNote, Content: "x", OccurredAt: time.Date(1899, 12, 31, 0, 0, 0, 0, time.UTC)},
			[]string{"occurredAt must be after 1900-01-01"}},
		{"missing time", TimelineEntry{Type: TimelineNote, Content: "x"}, []string{"occurredAt should not be empty"}},
		{"unknown type", TimelineEntry{Type: "DIARY", Content: "x", OccurredAt: now},
			[]string{"type must be one of NOTE, VITALS, SYMPTOM, INCIDENT, MOOD, MEAL, ACTIVITY, SLEEP, MEDICATION_CHANGE, APPOINTMENT_SUMMARY"}},
		{"blank content", TimelineEntry{Type: TimelineMood, Content: " \n ", OccurredAt: now}, []string{"content should not be empty"}},
		{"long content", TimelineEntry{Type: TimelineNote, Content: strings.Repeat("é", MaxTimelineContent+1), OccurredAt: now},
			[]string{"content must be at most 10000 characters"}},
		{"bad severity", TimelineEntry{Type: TimelineNote, Content: "x", OccurredAt: now, Severity: sev("URGENT")},
			[]string{"severity must be one of LOW, MEDIUM, HIGH, CRITICAL"}},
		{"vitals entry without vitals", TimelineEntry{Type: TimelineVitals, OccurredAt: now, Vitals: &Vitals{}},
			[]string{"vitals must have at least one measurement for a VITALS entry"}},
		{"diastolic not below systolic", TimelineEntry{Type: TimelineVitals, OccurredAt: now, Vitals: &Vitals{Systolic: fp(90), Diastolic: fp(95)}},
			[]string{"vitals.diastolic must be less than vitals.systolic"}},
		{"every vital out of range", TimelineEntry{Type: TimelineVitals, OccurredAt: now, Vitals: &Vitals{Systolic: fp(49.9), Diastolic: fp(200.5),
			HeartRate: fp(19), TemperatureC: fp(45.1), BloodSugar: fp(9), OxygenSaturation: fp(100.5), WeightKg: fp(0.9)}},
			[]string{"vitals.systolic must be between 50 and 300", "vitals.diastolic must be between 20 and 200",
				"vitals.heartRate must be between 20 and 250", "vitals.temperatureC must be between 30 and 45",
				"vitals.bloodSugar must be between 10 and 1000", "vitals.oxygenSaturation must be between 50 and 100",
				"vitals.weightKg must be between 1 and 500", "vitals.diastolic must be less than vitals.systolic"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.e.Validate(now)
			var got []string
			if err != nil {
				got = err.(*Error).Fields
			}
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Errorf("Validate = %q, want %q", got, c.want)
			}
		})
	}
}

func TestTimelineEntryValidate_Normalizes(t *testing.T) {
	now := time.Now()
	empty := Severity("")
	e := TimelineEntry{Type: TimelineNote, Content: "  Walked to the park  ", OccurredAt: now, Severity: &empty, Vitals: &Vitals{}}
	if err := e.Validate(now); err != nil {
		t.Fatal(err)
	}
	if e.Content != "Walked to the park" || e.Severity != nil || e.Vitals != nil {
		t.Fatalf("normalized = %+v", e)
	}
}
