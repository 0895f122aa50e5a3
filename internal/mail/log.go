package mail

import (
	"context"
	"log/slog"
)

// Log is the Mailer used when SIGIL_SMTP_URL is unset. It never sends.
//
// In dev it logs the whole message at info, link and token included, so a
// developer can follow it. Outside dev it logs only a warning with the
// recipient's domain: the body holds a live token and the address is
// personal data. Send fails only on an invalid Message, so callers see the
// same result as with SMTP (a reset request must not reveal anything).
type Log struct {
	log *slog.Logger
	dev bool
}

// NewLog returns a Log writing to log.
func NewLog(log *slog.Logger, dev bool) *Log {
	return &Log{log: log, dev: dev}
}

// Send logs m as described on Log.
func (l *Log) Send(ctx context.Context, m Message) error {
	to, err := m.recipient()
	if err != nil {
		return err
	}
	if l.dev {
		l.log.InfoContext(ctx, "mail (dev: logged, not sent)",
			"to", m.To, "subject", m.Subject, "text", m.Text)
		return nil
	}
	l.log.WarnContext(ctx, "mail not sent: no SIGIL_SMTP_URL", "to_domain", domain(to.Address))
	return nil
}
