package mail

import (
	"strings"
	"testing"
)

func TestLog_WritesMessageWithLinkAtInfo(t *testing.T) {
	logger, logs := newLogRecorder()
	link := "https://care.example/reset-password?token=abc&x=1"
	_, text, html := Reset(ResetData{Name: "Ana", Link: link, ExpiresIn: "1 hour"})
	err := NewLog(logger).Send(t.Context(), Message{To: "ana@example.org", Subject: "Reset", Text: text, HTML: html})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	recs := logs.with(t, "email not sent (SMTP_HOST is not set); message follows")
	if len(recs) != 1 {
		t.Fatalf("records = %d, want 1", len(recs))
	}
	r := recs[0]
	if r["level"] != "INFO" || r["to"] != "ana@example.org" || r["subject"] != "Reset" {
		t.Errorf("record = %v", r)
	}
	if body, _ := r["text"].(string); !strings.Contains(body, link) {
		t.Errorf("logged text %q lacks the link %q", body, link)
	}
}
