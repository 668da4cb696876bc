package mail

import (
	"html"
	"strings"
	"testing"
)

func TestTemplates_Render(t *testing.T) {
	tests := []struct {
		name        string
		render      func() (string, string, string)
		wantSubject string
		link        string
		wantText    []string
	}{
		{
			name: "verify",
			render: func() (string, string, string) {
				return Verify(VerifyData{Name: "Ana", Link: "https://c.example/verify-email?token=v1"})
			},
			wantSubject: "Confirm your email for CareCircle",
			link:        "https://c.example/verify-email?token=v1",
			wantText:    []string{"Hi Ana,"},
		},
		{
			name: "reset",
			render: func() (string, string, string) {
				return Reset(ResetData{Name: "Ana", Link: "https://c.example/reset-password?token=r1&a=b", ExpiresIn: "1 hour"})
			},
			wantSubject: "Reset your CareCircle password",
			link:        "https://c.example/reset-password?token=r1&a=b",
			wantText:    []string{"Hi Ana,", "expires in 1 hour", "works only once"},
		},
		{
			name: "invite",
			render: func() (string, string, string) {
				return Invite(InviteData{InviterName: "Ana", FamilyName: "García", Role: "Caregiver",
					Link: "https://c.example/accept-invite/i1", ExpiresAt: "Monday, 9 March 2026"})
			},
			wantSubject: "Ana invited you to García on CareCircle",
			link:        "https://c.example/accept-invite/i1",
			wantText:    []string{"Ana invited you to join García", "Your role: Caregiver", "expires on Monday, 9 March 2026"},
		},
		{
			name: "notification",
			render: func() (string, string, string) {
				return Notification(NotificationData{Name: "Bo", Title: "Missed dose: Metformin",
					Body: "Mum's 8:00 dose was not logged.", Link: "https://c.example/medications/m1"})
			},
			wantSubject: "Missed dose: Metformin",
			link:        "https://c.example/medications/m1",
			wantText:    []string{"Hi Bo,", "Mum's 8:00 dose was not logged.", "Open it in CareCircle"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			subject, text, body := tt.render()
			if subject != tt.wantSubject {
				t.Errorf("subject = %q, want %q", subject, tt.wantSubject)
			}
			// The text part prints the link in full, on its own line, so
			// any mail client (or the log) shows it intact.
			if !strings.Contains(text, "\n"+tt.link+"\n") {
				t.Errorf("text lacks the link on its own line:\n%s", text)
			}
			for _, want := range tt.wantText {
				if !strings.Contains(text, want) {
					t.Errorf("text lacks %q:\n%s", want, text)
				}
			}
			if strings.Contains(text, "\n\n\n") || strings.Contains(text, "&#39;") || strings.Contains(text, "&amp;") {
				t.Errorf("text has stray blank lines or HTML escapes:\n%s", text)
			}
			if !strings.HasPrefix(body, "<!DOCTYPE html>") || !strings.Contains(body, "<title>"+html.EscapeString(subject)+"</title>") {
				t.Errorf("html is not a full document titled with the subject:\n%s", body)
			}
			if !strings.Contains(body, `href="`+html.EscapeString(tt.link)+`"`) {
				t.Errorf("html lacks a link to %q:\n%s", tt.link, body)
			}
		})
	}
}

func TestInvite_EscapesFamilyNameInHTML(t *testing.T) {
	const name = `<script>alert("x")</script>`
	subject, text, body := Invite(InviteData{InviterName: `Ana <img src=x onerror=alert(1)>`, FamilyName: name,
		Role: "Admin", Link: "https://c.example/accept-invite/i1"})
	if strings.Contains(body, "<script>") || strings.Contains(body, "<img") {
		t.Fatalf("html contains unescaped user input:\n%s", body)
	}
	if !strings.Contains(body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
		t.Errorf("html lacks the escaped family name:\n%s", body)
	}
	// Plain text needs no escaping: the name reads as typed.
	if !strings.Contains(text, name) || !strings.Contains(subject, name) {
		t.Errorf("text or subject altered the name: %q / %q", subject, text)
	}
}

func TestTemplates_UnsafeLinkIsNeutralisedInHTML(t *testing.T) {
	_, _, body := Notification(NotificationData{Title: "t", Body: "b", Link: "javascript:alert(1)"})
	if strings.Contains(body, `href="javascript:`) || !strings.Contains(body, `href="#ZgotmplZ"`) {
		t.Fatalf("html keeps a javascript: link:\n%s", body)
	}
}

func TestTemplates_SubjectIsOneLine(t *testing.T) {
	subject, _, _ := Invite(InviteData{InviterName: "Ana", FamilyName: "García\r\nBcc: evil@example.org",
		Link: "https://c.example/accept-invite/i1"})
	if strings.ContainsAny(subject, "\r\n") {
		t.Fatalf("subject has a line break: %q", subject)
	}
}

func TestTemplates_OptionalFields(t *testing.T) {
	_, text, body := Notification(NotificationData{Title: "Appointment moved", Body: "Now at 10:00."})
	if strings.Contains(text, "Open it in CareCircle") || strings.Contains(body, "Open in CareCircle") {
		t.Errorf("notification without a link shows one:\n%s\n%s", text, body)
	}
	if !strings.HasPrefix(text, "Hi there,") {
		t.Errorf("no-name greeting = %q", strings.SplitN(text, "\n", 2)[0])
	}
	_, text, _ = Invite(InviteData{FamilyName: "García", Link: "https://c.example/accept-invite/i1"})
	if !strings.HasPrefix(text, "Hello,\n\nSomeone invited you") || strings.Contains(text, "Your role") || strings.Contains(text, "expires on") {
		t.Errorf("invite without inviter, role or expiry:\n%s", text)
	}
}
