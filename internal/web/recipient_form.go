package web

import (
	"net/http"
	"strconv"

	"github.com/carecircle/carecircle"
)

// The recipient form lists emergency contacts and doctors as numbered rows
// (emergencyContacts[0].name, ...) so it works without JavaScript; blank
// rows are dropped.
const (
	contactRows = 3
	doctorRows  = 3
)

var recipientFields = func() []string {
	fs := []string{"familyId", "firstName", "lastName", "preferredName", "dateOfBirth", "bloodType", "timezone",
		"allergies", "conditions", "notes", "primaryHospital", "insurance.provider", "insurance.policyNumber",
		"insurance.groupNumber", "insurance.phone", "missedDoseMinutes", "emergencyContacts", "doctors"}
	for i := 0; i < 20; i++ {
		n := strconv.Itoa(i)
		fs = append(fs, "emergencyContacts["+n+"].name", "emergencyContacts["+n+"].phone", "emergencyContacts["+n+"].relationship",
			"emergencyContacts["+n+"]", "doctors["+n+"].name", "doctors["+n+"].phone", "doctors["+n+"].specialty", "doctors["+n+"]")
	}
	return fs
}()

type recipientFormData struct {
	Families     []carecircle.MyFamily
	Contacts     []int
	Doctors      []int
	Zones        []string
	BloodTypes   []string
	RecipientID  string
	CanDelete    bool
	DisplayName  string
	ReturnToEdit bool
}

var bloodTypeChoices = []string{"", "A+", "A-", "B+", "B-", "AB+", "AB-", "O+", "O-", "UNKNOWN"}

func rowsOf(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// recipientNewPage shows the form to add a care recipient.
func (h *Handler) recipientNewPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	f := newForm(recipientFields...)
	f.Set("familyId", r.URL.Query().Get("family"))
	f.Set("timezone", v.Timezone)
	f.Set("missedDoseMinutes", strconv.Itoa(carecircle.DefaultMissedDoseMinutes))
	h.renderRecipientForm(w, r, v, f, nil, http.StatusOK)
}

// recipientCreate adds the care recipient and opens their page.
func (h *Handler) recipientCreate(w http.ResponseWriter, r *http.Request, v *viewer) {
	f, err := parseForm(w, r, recipientFields...)
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	c := carecircle.CareRecipient{FamilyID: f.Get("familyId")}
	f.applyRecipient(&c)
	if err = f.validated(c.Validate); err == nil {
		if c, err = h.db.CreateRecipient(r.Context(), c); err == nil {
			redirect(w, r, "/care/"+c.ID, "ok", c.DisplayName()+" is added. Next: their medications and appointments.")
			return
		}
	}
	h.renderRecipientForm(w, r, v, f, nil, f.FailOnce(err))
}

// recipientEditPage shows the recipient's profile for editing.
func (h *Handler) recipientEditPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	c, ok := h.loadRecipient(w, r, v)
	if !ok {
		return
	}
	f := newForm(recipientFields...)
	fillRecipient(f, c)
	h.renderRecipientForm(w, r, v, f, c, http.StatusOK)
}

// recipientSave saves the profile.
func (h *Handler) recipientSave(w http.ResponseWriter, r *http.Request, v *viewer) {
	c, ok := h.loadRecipient(w, r, v)
	if !ok {
		return
	}
	f, err := parseForm(w, r, recipientFields...)
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	_, err = h.db.UpdateRecipient(r.Context(), c.ID, func(c *carecircle.CareRecipient) error {
		f.applyRecipient(c)
		return f.validated(c.Validate)
	})
	if err == nil {
		redirect(w, r, "/care/"+c.ID, "ok", "Saved.")
		return
	}
	h.renderRecipientForm(w, r, v, f, c, f.FailOnce(err))
}

// recipientDelete removes the recipient (ADMIN; history is kept).
func (h *Handler) recipientDelete(w http.ResponseWriter, r *http.Request, v *viewer) {
	c, ok := h.loadRecipient(w, r, v)
	if !ok {
		return
	}
	f, err := parseForm(w, r, "confirm")
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	if f.Get("confirm") != "1" {
		redirect(w, r, "/care/"+c.ID+"/edit", "error", "Tick the box to confirm the removal.")
		return
	}
	if err := h.db.DeleteRecipient(r.Context(), c.ID); err != nil {
		redirect(w, r, "/care/"+c.ID+"/edit", "error", carecircle.ErrorMessage(err))
		return
	}
	redirect(w, r, "/dashboard", "ok", c.DisplayName()+" was removed from CareCircle.")
}

func (h *Handler) renderRecipientForm(w http.ResponseWriter, r *http.Request, v *viewer, f *form, c *carecircle.CareRecipient, status int) {
	d := recipientFormData{Zones: commonZones, BloodTypes: bloodTypeChoices}
	for _, fam := range v.Families {
		if fam.Role.CanWriteCare() {
			d.Families = append(d.Families, fam)
		}
	}
	d.Contacts = rowsOf(max(contactRows, countRows(f, "emergencyContacts")+1))
	d.Doctors = rowsOf(max(doctorRows, countRows(f, "doctors")+1))
	title := "Add a person to care for"
	var p *page
	if c != nil {
		d.RecipientID, d.CanDelete, d.DisplayName = c.ID, v.IsAdmin(c.FamilyID), c.DisplayName()
		title = "Edit " + c.DisplayName()
		p = h.carePage(w, r, v, c, "overview", "Edit")
	} else {
		p = h.newPage(w, r, v, title)
	}
	p.Form, p.Data = f, d
	h.render(w, r, status, "recipient_form", p)
}

// countRows returns how many numbered rows of a group the form holds.
func countRows(f *form, group string) int {
	n := 0
	for i := 0; i < 20; i++ {
		k := group + "[" + strconv.Itoa(i) + "]"
		if f.Get(k+".name") != "" || f.Get(k+".phone") != "" {
			n = i + 1
		}
	}
	return n
}

// applyRecipient copies the form onto c, recording malformed values.
func (f *form) applyRecipient(c *carecircle.CareRecipient) {
	c.FirstName, c.LastName, c.PreferredName = f.Get("firstName"), f.Get("lastName"), f.Get("preferredName")
	c.BloodType, c.Timezone = f.Get("bloodType"), f.Get("timezone")
	c.Notes, c.PrimaryHospital = f.Get("notes"), f.Get("primaryHospital")
	c.Allergies, c.Conditions = f.Lines("allergies"), f.Lines("conditions")
	c.DateOfBirth = nil
	if s := f.Get("dateOfBirth"); s != "" {
		if d, err := carecircle.ParseDate(s); err != nil {
			f.Add("dateOfBirth", "Date of birth must be a date (YYYY-MM-DD)")
		} else {
			c.DateOfBirth = &d
		}
	}
	ins := carecircle.Insurance{Provider: f.Get("insurance.provider"), PolicyNumber: f.Get("insurance.policyNumber"),
		GroupNumber: f.Get("insurance.groupNumber"), Phone: f.Get("insurance.phone")}
	c.Insurance = nil
	if ins != (carecircle.Insurance{}) {
		c.Insurance = &ins
	}
	c.EmergencyContacts = []carecircle.EmergencyContact{}
	c.Doctors = []carecircle.Doctor{}
	for i := 0; i < 20; i++ {
		k := "emergencyContacts[" + strconv.Itoa(i) + "]"
		ec := carecircle.EmergencyContact{Name: f.Get(k + ".name"), Relationship: f.Get(k + ".relationship"), Phone: f.Get(k + ".phone")}
		if ec != (carecircle.EmergencyContact{}) {
			c.EmergencyContacts = append(c.EmergencyContacts, ec)
		}
		k = "doctors[" + strconv.Itoa(i) + "]"
		d := carecircle.Doctor{Name: f.Get(k + ".name"), Specialty: f.Get(k + ".specialty"), Phone: f.Get(k + ".phone")}
		if d != (carecircle.Doctor{}) {
			c.Doctors = append(c.Doctors, d)
		}
	}
	if m := f.optionalInt("missedDoseMinutes"); m != nil {
		c.MissedDoseMinutes = *m
	} else if c.MissedDoseMinutes == 0 {
		c.MissedDoseMinutes = carecircle.DefaultMissedDoseMinutes
	}
}

// fillRecipient prefills the form from a stored recipient.
func fillRecipient(f *form, c *carecircle.CareRecipient) {
	f.Set("familyId", c.FamilyID)
	f.Set("firstName", c.FirstName)
	f.Set("lastName", c.LastName)
	f.Set("preferredName", c.PreferredName)
	if c.DateOfBirth != nil {
		f.Set("dateOfBirth", c.DateOfBirth.String())
	}
	f.Set("bloodType", c.BloodType)
	f.Set("timezone", c.Timezone)
	f.Set("allergies", joinLines(c.Allergies))
	f.Set("conditions", joinLines(c.Conditions))
	f.Set("notes", c.Notes)
	f.Set("primaryHospital", c.PrimaryHospital)
	if c.Insurance != nil {
		f.Set("insurance.provider", c.Insurance.Provider)
		f.Set("insurance.policyNumber", c.Insurance.PolicyNumber)
		f.Set("insurance.groupNumber", c.Insurance.GroupNumber)
		f.Set("insurance.phone", c.Insurance.Phone)
	}
	for i, ec := range c.EmergencyContacts {
		k := "emergencyContacts[" + strconv.Itoa(i) + "]"
		f.Set(k+".name", ec.Name)
		f.Set(k+".relationship", ec.Relationship)
		f.Set(k+".phone", ec.Phone)
	}
	for i, d := range c.Doctors {
		k := "doctors[" + strconv.Itoa(i) + "]"
		f.Set(k+".name", d.Name)
		f.Set(k+".specialty", d.Specialty)
		f.Set(k+".phone", d.Phone)
	}
	f.Set("missedDoseMinutes", strconv.Itoa(c.MissedDoseMinutes))
}

func joinLines(xs []string) string {
	out := ""
	for i, x := range xs {
		if i > 0 {
			out += "\n"
		}
		out += x
	}
	return out
}
