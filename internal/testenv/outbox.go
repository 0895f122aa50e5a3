package testenv

import (
	"context"
	"sync"

	"github.com/sigil-auth/sigil/internal/mail"
)

// Outbox is a Mailer that keeps what it is given, for tests that follow
// emailed links. (Delivery over real SMTP is tested in internal/mail.)
type Outbox struct {
	mu   sync.Mutex
	sent []mail.Message
}

// Send records m.
func (o *Outbox) Send(_ context.Context, m mail.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sent = append(o.sent, m)
	return nil
}

// Messages returns what was sent so far.
func (o *Outbox) Messages() []mail.Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]mail.Message(nil), o.sent...)
}
