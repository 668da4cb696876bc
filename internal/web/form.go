package web

import (
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/api"
	"github.com/carecircle/carecircle/internal/storage"
)

// maxFormBytes bounds a form post (file uploads have their own limit).
const maxFormBytes = 1 << 20

// form is a submitted form: what was typed, and the messages to show next
// to each field when it didn't validate.
type form struct {
	Values map[string][]string
	Errors map[string][]string
	// General holds messages that belong to no field.
	General []string
	// fields are the form's field names, longest first, for matching
	// messages to fields.
	fields []string
}

// newForm returns an empty form with the given field names.
func newForm(fields ...string) *form {
	f := &form{Values: map[string][]string{}, Errors: map[string][]string{}}
	f.fields = append(f.fields, fields...)
	sort.Slice(f.fields, func(i, j int) bool { return len(f.fields[i]) > len(f.fields[j]) })
	return f
}

// parseForm reads a posted form (at most maxFormBytes) into a form with the
// given field names.
func parseForm(w http.ResponseWriter, r *http.Request, fields ...string) (*form, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, carecircle.Errorf(carecircle.ETOOLARGE, "the form is too large")
		}
		return nil, carecircle.Invalid("the form could not be read")
	}
	f := newForm(fields...)
	for k, vs := range r.PostForm {
		f.Values[k] = vs
	}
	return f, nil
}

// Get returns the first value of a field, trimmed of surrounding spaces
// except for passwords.
func (f *form) Get(name string) string {
	if f == nil || len(f.Values[name]) == 0 {
		return ""
	}
	if strings.Contains(strings.ToLower(name), "password") {
		return f.Values[name][0]
	}
	return strings.TrimSpace(f.Values[name][0])
}

// Set sets a field's value (to prefill a form).
func (f *form) Set(name, value string) {
	f.Values[name] = []string{value}
}

// Has reports whether a checkbox or multi-value field holds value.
func (f *form) Has(name, value string) bool {
	if f == nil {
		return false
	}
	for _, v := range f.Values[name] {
		if v == value {
			return true
		}
	}
	return false
}

// Lines returns a textarea's non-empty lines (lists such as allergies).
func (f *form) Lines(name string) []string {
	out := []string{}
	for _, l := range strings.Split(f.Get(name), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// ErrorsFor returns the messages for a field.
func (f *form) ErrorsFor(name string) []string {
	if f == nil {
		return nil
	}
	return f.Errors[name]
}

// Invalid reports whether a field has messages.
func (f *form) Invalid(name string) bool { return len(f.ErrorsFor(name)) > 0 }

// Failed reports whether the form has any message.
func (f *form) Failed() bool { return f != nil && (len(f.Errors) > 0 || len(f.General) > 0) }

// Add records a message for a field ("" for the whole form).
func (f *form) Add(field, msg string) {
	if field == "" {
		f.General = append(f.General, msg)
		return
	}
	f.Errors[field] = append(f.Errors[field], msg)
}

// Fail records err on the form. Validation messages name their field first
// ("dosage should not be empty", "vitals.systolic must be between…"), as
// the API reports them; each goes to the longest field name it starts with,
// or to the top of the form. Other errors are one general message. It
// returns the HTTP status to answer with.
func (f *form) Fail(err error) int {
	var ce *carecircle.Error
	var eb *api.ErrorBody
	switch {
	case errors.As(err, &eb) && eb.StatusCode < 500:
		// An answer the API built itself, such as its rate limit.
		msg, _ := eb.Message.(string)
		if after := eb.GetHeaders().Get("Retry-After"); after != "" {
			msg += " (in " + after + " seconds)"
		}
		f.General = append(f.General, upperFirst(msg))
		return eb.StatusCode
	case !errors.As(err, &ce):
		f.General = append(f.General, "Something went wrong on our side. Please try again.")
		return http.StatusInternalServerError
	}
	if len(ce.Fields) == 0 {
		f.General = append(f.General, upperFirst(ce.Message))
	}
	for _, m := range ce.Fields {
		field := f.fieldOf(m)
		f.Add(field, upperFirst(f.humanize(m, field)))
	}
	return api.StatusFor(ce.Code)
}

func (f *form) fieldOf(msg string) string {
	for _, name := range f.fields {
		if rest, ok := strings.CutPrefix(msg, name); ok && (rest == "" || strings.IndexByte(" [.", rest[0]) >= 0) {
			return name
		}
	}
	return ""
}

// humanize rewrites a message's leading field name ("fullName should not
// be empty") as words ("Full name should not be empty"), and other field
// names it mentions too ("… after startTime" → "… after start time").
func (f *form) humanize(msg, field string) string {
	rest, ok := strings.CutPrefix(msg, field)
	if field == "" || !ok {
		rest, field = msg, ""
	}
	if rest != "" && rest[0] != ' ' {
		if i := strings.IndexByte(rest, ' '); i >= 0 {
			rest = rest[i:]
		}
	}
	for _, name := range f.fields {
		if strings.Contains(name, "[") || strings.ToLower(name) == name {
			continue
		}
		var parts []string
		for _, p := range strings.Split(name, ".") {
			parts = append(parts, strings.ToLower(words(p)))
		}
		rest = replaceWord(rest, name, strings.Join(parts, " "))
	}
	if field == "" {
		return rest
	}
	return upperFirst(words(field)) + rest
}

// words turns a field name's last part into words: "vitals.heartRate" →
// "heart Rate" → "heart rate" (lower-cased by the caller as needed).
func words(field string) string {
	if i := strings.LastIndexAny(field, ".]"); i >= 0 {
		field = field[i+1:]
	}
	var b strings.Builder
	for i, r := range field {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte(' ')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// replaceWord replaces whole-word occurrences of old in s.
func replaceWord(s, old, repl string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, old)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		end := i + len(old)
		whole := (i == 0 || !isWordByte(s[i-1])) && (end == len(s) || !isWordByte(s[end]))
		b.WriteString(s[:i])
		if whole {
			b.WriteString(repl)
		} else {
			b.WriteString(old)
		}
		s = s[end:]
	}
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.'
}

// upperFirst capitalizes a message's first letter.
func upperFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// FirstError returns the first message of the form, for a flash.
func (f *form) FirstError() string {
	if len(f.General) > 0 {
		return f.General[0]
	}
	for _, name := range f.fields {
		if m := f.Errors[name]; len(m) > 0 {
			return m[0]
		}
	}
	return ""
}

// optionalInt parses an optional whole number field.
func (f *form) optionalInt(name string) *int {
	s := f.Get(name)
	if s == "" {
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		f.Add(name, upperFirst(words(name))+" must be a whole number")
		return nil
	}
	return &n
}

// optionalFloat parses an optional decimal field.
func (f *form) optionalFloat(name, label string) *float64 {
	s := strings.ReplaceAll(f.Get(name), ",", ".")
	if s == "" {
		return nil
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil {
		f.Add(name, label+" must be a number")
		return nil
	}
	return &x
}

// localTime parses a datetime-local field ("2026-03-01T14:30") as a wall
// time in loc, following the same DST rules as dose times.
func (f *form) localTime(name string, loc *time.Location, required bool) time.Time {
	s := f.Get(name)
	if s == "" {
		if required {
			f.Add(name, upperFirst(words(name))+" should not be empty")
		}
		return time.Time{}
	}
	t, err := time.ParseInLocation("2006-01-02T15:04", s, time.UTC)
	if err != nil {
		if t, err = time.ParseInLocation("2006-01-02T15:04:05", s, time.UTC); err != nil {
			f.Add(name, upperFirst(words(name))+" must be a date and time")
			return time.Time{}
		}
	}
	d := carecircle.Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}
	return carecircle.LocalInstant(d, t.Hour(), t.Minute(), loc)
}

// errFormInvalid marks a form whose messages are already recorded.
var errFormInvalid = carecircle.Invalid()

// validated is for forms whose values didn't all parse: it adds the domain
// validation's messages too (so the user sees every problem at once) and
// returns errFormInvalid, or nil when the form is clean.
func (f *form) validated(validate func() error) error {
	if !f.Failed() {
		return nil
	}
	if err := validate(); err != nil {
		f.Fail(err)
	}
	return errFormInvalid
}

// FailOnce is Fail unless err is errFormInvalid (messages already on the
// form); it returns the status to answer with.
func (f *form) FailOnce(err error) int {
	if errors.Is(err, errFormInvalid) {
		return http.StatusBadRequest
	}
	return f.Fail(err)
}

func pageOf(n int) storage.Page { return storage.Page{Limit: n} }
