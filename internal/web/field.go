package web

import (
	"strings"
)

// fieldData is one labelled form control as the "field" partial renders
// it: label, control, hint and the field's messages, wired together with
// ids for screen readers.
type fieldData struct {
	Name, Label, Type string
	Value             string
	Values            []string // for multi-selects and checkbox groups
	Errors            []string
	Hint              string
	Required          bool
	Autocomplete      string
	Attrs             map[string]string // min, max, step, inputmode, pattern...
	Options           []option
	Rows              int
}

// option is one choice of a select or radio group.
type option struct {
	Value, Label string
}

// ID is the control's element id.
func (f fieldData) ID() string {
	return "f-" + strings.NewReplacer(".", "-", "[", "-", "]", "").Replace(f.Name)
}

// Selected reports whether value is chosen.
func (f fieldData) Selected(value string) bool {
	if value == f.Value {
		return true
	}
	for _, v := range f.Values {
		if v == value {
			return true
		}
	}
	return false
}

// field builds a fieldData for the template helper
// {{template "field" (field .Form "email" "Email" "email" "required" "autocomplete=email")}}.
// Options: "required", "hint=…", "autocomplete=…", "rows=…", any other
// "attr=value" becomes an attribute of the control.
func field(f *form, name, label, typ string, opts ...string) fieldData {
	d := fieldData{Name: name, Label: label, Type: typ, Value: f.Get(name), Errors: f.ErrorsFor(name), Attrs: map[string]string{}}
	if f != nil {
		d.Values = f.Values[name]
	}
	if typ == "password" {
		d.Value = "" // never echo a password back
	}
	for _, o := range opts {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "required":
			d.Required = true
		case "hint":
			d.Hint = v
		case "autocomplete":
			d.Autocomplete = v
		case "rows":
			d.Rows = atoiOr(v, 3)
		default:
			d.Attrs[k] = v
		}
	}
	return d
}

// withOptions adds the choices of a select or radio group.
func withOptions(d fieldData, pairs ...string) fieldData {
	for i := 0; i+1 < len(pairs); i += 2 {
		d.Options = append(d.Options, option{Value: pairs[i], Label: pairs[i+1]})
	}
	return d
}

func atoiOr(s string, def int) int {
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			return def
		}
		n = n*10 + int(r-'0')
	}
	if s == "" {
		return def
	}
	return n
}
