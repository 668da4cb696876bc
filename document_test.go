package carecircle

import (
	"strings"
	"testing"
	"time"
)

func TestParseDocumentExpiry_DateMeansStartOfDayInTheRecipientsZone(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in   string
		want string // RFC 3339 UTC, "" for an error
	}{
		{"2030-01-15", "2030-01-15T05:00:00Z"},
		{"2030-07-15", "2030-07-15T04:00:00Z"}, // daylight time
		{" 2030-07-15 ", "2030-07-15T04:00:00Z"},
		{"2030-01-15T10:30:00+01:00", "2030-01-15T09:30:00Z"},
		{"2030-02-30", ""},
		{"15/01/2030", ""},
		{"2030-01-15T10:30", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, err := ParseDocumentExpiry(tt.in, ny)
		if tt.want == "" {
			if err == nil || ErrorCode(err) != EINVALID || !strings.HasPrefix(err.(*Error).Fields[0], "expiresAt") {
				t.Errorf("ParseDocumentExpiry(%q) = %v, %v; want an expiresAt error", tt.in, got, err)
			}
			continue
		}
		if err != nil || got.Format(time.RFC3339) != tt.want {
			t.Errorf("ParseDocumentExpiry(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

func TestDocumentValidate_NamesEachProblem(t *testing.T) {
	past := time.Date(1899, 12, 31, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		doc  Document
		want []string
	}{
		{"valid; title defaults to the file name", Document{FileName: "card.pdf", Category: DocumentInsurance}, nil},
		{"unknown category", Document{FileName: "a.pdf", Category: "SECRET"}, []string{"category must be one of INSURANCE, MEDICAL, LEGAL, IDENTIFICATION, PRESCRIPTION, OTHER"}},
		{"no category", Document{FileName: "a.pdf"}, []string{"category must be one of"}},
		{"long title", Document{FileName: "a.pdf", Category: DocumentOther, Name: strings.Repeat("é", 201)}, []string{"name must be at most 200 characters"}},
		{"bidi override", Document{FileName: "a.pdf", Category: DocumentOther, Name: "invoice\u202efdp.exe"}, []string{"name must not contain"}},
		{"line break", Document{FileName: "a.pdf", Category: DocumentOther, Name: "a\nb"}, []string{"name must not contain"}},
		{"expiry too early", Document{FileName: "a.pdf", Category: DocumentOther, ExpiresAt: &past}, []string{"expiresAt must be between 1900 and 2999"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.doc.Validate()
			if tt.want == nil {
				if err != nil || tt.doc.Name != tt.doc.FileName {
					t.Errorf("Validate = %v, name %q", err, tt.doc.Name)
				}
				return
			}
			e, ok := err.(*Error)
			if !ok || len(e.Fields) != len(tt.want) {
				t.Fatalf("Validate = %v, want %v", err, tt.want)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(e.Fields[i], w) {
					t.Errorf("message %q, want prefix %q", e.Fields[i], w)
				}
			}
		})
	}
}

func TestDocumentCategory_KeyDocumentsAreAllButOther(t *testing.T) {
	for _, c := range DocumentCategories {
		if c.IsKey() == (c == DocumentOther) {
			t.Errorf("%s.IsKey() = %v", c, c.IsKey())
		}
	}
	if DocumentCategory("insurance").Valid() || DocumentCategory("").IsKey() {
		t.Error("categories are case-sensitive and never empty")
	}
}
