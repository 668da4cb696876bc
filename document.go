package carecircle

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// DocumentCategory is what a stored document is for.
type DocumentCategory string

// Document categories, as in the API contract.
const (
	DocumentInsurance      DocumentCategory = "INSURANCE"
	DocumentMedical        DocumentCategory = "MEDICAL"
	DocumentLegal          DocumentCategory = "LEGAL"
	DocumentIdentification DocumentCategory = "IDENTIFICATION"
	DocumentPrescription   DocumentCategory = "PRESCRIPTION"
	DocumentOther          DocumentCategory = "OTHER"
)

// DocumentCategories lists every category in the contract's order.
var DocumentCategories = []DocumentCategory{DocumentInsurance, DocumentMedical, DocumentLegal,
	DocumentIdentification, DocumentPrescription, DocumentOther}

// Valid reports whether c is one of the contract's categories.
func (c DocumentCategory) Valid() bool {
	for _, v := range DocumentCategories {
		if c == v {
			return true
		}
	}
	return false
}

// IsKey reports whether documents of this category belong on the emergency
// page: everything but OTHER.
func (c DocumentCategory) IsKey() bool { return c.Valid() && c != DocumentOther }

// Document is a file in a care recipient's document vault. The file itself is
// stored encrypted; this is what the family sees about it.
type Document struct {
	ID              string `json:"id"`
	CareRecipientID string `json:"careRecipientId"`
	// Name is the title shown in lists; it defaults to FileName and can be
	// changed. FileName is the uploaded file's (sanitized) name, used when
	// the file is downloaded.
	Name      string           `json:"name"`
	FileName  string           `json:"fileName"`
	Category  DocumentCategory `json:"category"`
	MimeType  string           `json:"mimeType" doc:"sniffed from the content when uploaded"`
	SizeBytes int64            `json:"sizeBytes"`
	SHA256    string           `json:"sha256" doc:"lowercase hex SHA-256 of the file's bytes"`
	// ExpiresAt is when the document (an insurance card, an ID) stops being
	// valid; nil when it doesn't expire.
	ExpiresAt  *time.Time `json:"expiresAt"`
	UploadedBy MemberRef  `json:"uploadedBy"`
	CreatedAt  time.Time  `json:"createdAt"`
	UpdatedAt  time.Time  `json:"updatedAt"`
}

// Document limits.
const (
	// MaxDocumentName is the longest title, in characters.
	MaxDocumentName = 200
	// DocumentExpiryWarning is how far ahead an expiring key document is
	// flagged on the emergency page (and, with notifications, reminded).
	DocumentExpiryWarning = 30 * 24 * time.Hour
)

var (
	earliestExpiry = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	latestExpiry   = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Validate normalizes the document's title (trimmed; the file name when
// empty) and checks the fields a family sets, by field name.
func (d *Document) Validate() error {
	var p Problems
	d.Name = strings.TrimSpace(d.Name)
	if d.Name == "" {
		d.Name = d.FileName
	}
	p.Add(!d.Category.Valid(), "category must be one of %s", joinDocumentCategories())
	p.Add(d.Name == "", "name should not be empty")
	p.Add(utf8.RuneCountInString(d.Name) > MaxDocumentName, "name must be at most %d characters", MaxDocumentName)
	p.Add(!utf8.ValidString(d.Name) || strings.ContainsFunc(d.Name, hiddenRune),
		"name must not contain control or invisible formatting characters")
	if d.ExpiresAt != nil {
		p.Add(d.ExpiresAt.Before(earliestExpiry) || !d.ExpiresAt.Before(latestExpiry),
			"expiresAt must be between 1900 and 2999")
	}
	return p.Err()
}

// hiddenRune reports characters that don't belong in a title: line breaks
// and other controls, and invisible formatting such as bidi overrides that
// can disguise what a name says.
func hiddenRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}

// ParseDocumentExpiry reads an expiresAt value: an RFC 3339 time, or a date
// (YYYY-MM-DD), which means the start of that day in the care recipient's
// zone — the document is no longer valid on the day it expires.
func ParseDocumentExpiry(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if len(s) == len("2006-01-02") {
		d, err := ParseDate(s)
		if err != nil {
			return time.Time{}, Invalid("expiresAt must be a date (YYYY-MM-DD) or an RFC 3339 time")
		}
		return LocalInstant(d, 0, 0, loc).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, Invalid("expiresAt must be a date (YYYY-MM-DD) or an RFC 3339 time")
	}
	return t.UTC().Truncate(time.Millisecond), nil
}

func joinDocumentCategories() string {
	s := make([]string, len(DocumentCategories))
	for i, c := range DocumentCategories {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}
