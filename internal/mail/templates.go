package mail

import (
	"embed"
	"fmt"
	htmltemplate "html/template"
	"regexp"
	"strings"
	texttemplate "text/template"
)

//go:embed templates
var templateFS embed.FS

// VerifyData fills the email-address confirmation email.
type VerifyData struct {
	Name string // the recipient's name; "there" when empty
	Link string // BASE_URL/verify-email?token=...
}

// ResetData fills the password-reset email.
type ResetData struct {
	Name      string
	Link      string // BASE_URL/reset-password?token=...
	ExpiresIn string // how long the link works, in words: "1 hour"
}

// InviteData fills the family invitation email.
type InviteData struct {
	InviterName string
	FamilyName  string
	Role        string // as the recipient should read it: "Caregiver"
	Link        string // BASE_URL/accept-invite/<token>
	ExpiresAt   string // a formatted date: "Monday, 9 March 2026"
}

// NotificationData fills the generic notification email (a missed dose, an
// appointment change, an emergency alert).
type NotificationData struct {
	Name  string
	Title string // also the subject
	Body  string // plain text; line breaks are kept
	Link  string // optional: where to see it in CareCircle
}

// Verify renders the email asking a new user to confirm their address.
func Verify(data VerifyData) (subject, text, html string) { return render("verify", data) }

// Reset renders the password-reset email.
func Reset(data ResetData) (subject, text, html string) { return render("reset", data) }

// Invite renders the invitation to join a family.
func Invite(data InviteData) (subject, text, html string) { return render("invite", data) }

// Notification renders a notification email.
func Notification(data NotificationData) (subject, text, html string) {
	return render("notification", data)
}

// emailTemplate is one email: a text/template defining "subject" with the text
// body as its main template, and an html/template for the HTML body.
type emailTemplate struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// templates is parsed once at start-up and only read afterwards.
var templates = parseTemplates("verify", "reset", "invite", "notification")

// buttonData is what the layout's "button" block needs.
type buttonData struct{ Link, Label string }

func parseTemplates(names ...string) map[string]emailTemplate {
	funcs := htmltemplate.FuncMap{
		"button": func(link, label string) buttonData { return buttonData{Link: link, Label: label} },
	}
	layout := htmltemplate.Must(htmltemplate.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html"))
	out := make(map[string]emailTemplate, len(names))
	for _, name := range names {
		out[name] = emailTemplate{
			text: texttemplate.Must(texttemplate.New(name+".txt").Option("missingkey=error").
				ParseFS(templateFS, "templates/"+name+".txt")),
			html: htmltemplate.Must(htmltemplate.Must(layout.Clone()).Option("missingkey=error").
				ParseFS(templateFS, "templates/"+name+".html")),
		}
	}
	return out
}

// page is the data of the HTML layout around an email's content.
type page struct {
	Subject string
	Data    any
}

// render executes the templates of one email. The data are plain strings and
// the templates are embedded and covered by tests, so an error here is a bug
// in a template; it panics rather than make every caller handle it.
func render(name string, data any) (subject, text, html string) {
	t := templates[name]
	var b strings.Builder
	if err := t.text.ExecuteTemplate(&b, "subject", data); err != nil {
		panic(fmt.Sprintf("mail: render %s subject: %v", name, err))
	}
	subject = oneLine(b.String())

	b.Reset()
	if err := t.text.Execute(&b, data); err != nil {
		panic(fmt.Sprintf("mail: render %s text: %v", name, err))
	}
	text = tidyText(b.String())

	b.Reset()
	if err := t.html.ExecuteTemplate(&b, "layout", page{Subject: subject, Data: data}); err != nil {
		panic(fmt.Sprintf("mail: render %s html: %v", name, err))
	}
	return subject, text, b.String()
}

var blankLines = regexp.MustCompile(`\n{3,}`)

// tidyText trims the text body and folds runs of blank lines left by
// optional sections into one.
func tidyText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return blankLines.ReplaceAllString(strings.TrimSpace(s), "\n\n") + "\n"
}
