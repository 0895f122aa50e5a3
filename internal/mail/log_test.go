package mail

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLog(t *testing.T) {
	m := ResetMessage("ann.private@Example.TEST", testLink, time.Hour)
	tests := []struct {
		name      string
		dev       bool
		want      map[string]any
		mustHave  []string
		mustNotBe []string
	}{
		{
			name: "dev logs the whole message",
			dev:  true,
			want: map[string]any{"level": "INFO", "msg": "mail (dev: logged, not sent)",
				"to": m.To, "subject": m.Subject, "text": m.Text},
			mustHave: []string{testToken},
		},
		{
			name: "not dev logs only the domain",
			want: map[string]any{"level": "WARN", "msg": "mail not sent: no SIGIL_SMTP_URL",
				"to_domain": "example.test"},
			mustNotBe: []string{testToken, "ann.private", m.Subject},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			l := NewLog(slog.New(slog.NewJSONHandler(&buf, nil)), tt.dev)
			if err := l.Send(context.Background(), m); err != nil {
				t.Fatalf("Send: %v", err)
			}
			var got map[string]any
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatalf("want one JSON record, got %q: %v", buf.String(), err)
			}
			delete(got, "time")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("record (-want +got):\n%s", diff)
			}
			for _, s := range tt.mustHave {
				if !strings.Contains(buf.String(), s) {
					t.Errorf("log lacks %q", s)
				}
			}
			for _, s := range tt.mustNotBe {
				if strings.Contains(buf.String(), s) {
					t.Errorf("log leaks %q: %s", s, buf.String())
				}
			}
		})
	}
}

func TestLogRefusesInvalidMessage(t *testing.T) {
	for _, dev := range []bool{true, false} {
		var buf bytes.Buffer
		l := NewLog(slog.New(slog.NewJSONHandler(&buf, nil)), dev)
		err := l.Send(context.Background(), Message{To: "a@example.test\r\nBcc: e@evil.test", Subject: "x"})
		if !errors.Is(err, ErrInvalidMessage) {
			t.Errorf("dev=%v: Send = %v, want ErrInvalidMessage", dev, err)
		}
		if buf.Len() != 0 {
			t.Errorf("dev=%v: logged %q", dev, buf.String())
		}
	}
}
