package mail

import (
	"strings"
	"testing"
	"time"
)

func TestHumanTTL(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "1 minute"},
		{20 * time.Second, "1 minute"},
		{time.Minute, "1 minute"},
		{15 * time.Minute, "15 minutes"},
		{90 * time.Minute, "90 minutes"},
		{time.Hour, "1 hour"},
		{time.Hour + 20*time.Second, "1 hour"},
		{2 * time.Hour, "2 hours"},
		{24 * time.Hour, "1 day"},
		{36 * time.Hour, "36 hours"},
		{72 * time.Hour, "3 days"},
	}
	for _, tt := range tests {
		if got := humanTTL(tt.d); got != tt.want {
			t.Errorf("humanTTL(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestTemplates(t *testing.T) {
	tests := []struct {
		name    string
		m       Message
		subject string
		ttl     string
	}{
		{"reset", ResetMessage("ann@example.test", testLink, time.Hour), "Reset your password", "within 1 hour:"},
		{"verify", VerifyMessage("ann@example.test", testLink, 24*time.Hour), "Verify your email address", "within 1 day:"},
		{"invite", InviteMessage("ann@example.test", "Acme\r\nBcc: x", "admin", testLink, 7*24*time.Hour),
			"You're invited to join Acme Bcc: x on Sigil", "within 7 days"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.m.To != "ann@example.test" || tt.m.Subject != tt.subject {
				t.Errorf("To, Subject = %q, %q", tt.m.To, tt.m.Subject)
			}
			// The link stands alone on its line so mail clients make all of it clickable.
			if !strings.Contains(tt.m.Text, "\n\n"+testLink+"\n\n") {
				t.Errorf("link not on a line of its own:\n%s", tt.m.Text)
			}
			if !strings.Contains(tt.m.Text, tt.ttl) {
				t.Errorf("text lacks %q:\n%s", tt.ttl, tt.m.Text)
			}
			if _, err := tt.m.recipient(); err != nil {
				t.Errorf("recipient: %v", err)
			}
		})
	}
}
