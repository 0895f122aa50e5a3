package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"
)

// Message is one plain-text mail to one recipient.
type Message struct {
	To      string // "user@example.com" or "Name <user@example.com>"; one address
	Subject string
	Text    string // UTF-8 body; "\n" line ends are fine
}

// Mailer sends a Message. Implementations are safe for concurrent use.
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

// ErrInvalidMessage wraps every refusal of a Message before anything is
// sent: a To that is not one address, or CR/LF in To or Subject (header
// injection).
var ErrInvalidMessage = errors.New("mail: invalid message")

// recipient checks m and returns its parsed recipient.
func (m Message) recipient() (*mail.Address, error) {
	// Checked before parsing: net/mail would accept some folded input.
	if strings.ContainsAny(m.To, "\r\n") {
		return nil, fmt.Errorf("%w: To holds CR or LF", ErrInvalidMessage)
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return nil, fmt.Errorf("%w: Subject holds CR or LF", ErrInvalidMessage)
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return nil, fmt.Errorf("%w: To is not one address: %v", ErrInvalidMessage, err)
	}
	return to, nil
}

// render builds the RFC 5322 message: fixed headers, a Q-encoded Subject
// when it is not ASCII, and a quoted-printable body with CRLF line ends
// (so long links survive the 998-octet line limit as soft breaks).
func render(from, to *mail.Address, subject, text string, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	hdr := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	hdr("From", from.String())
	hdr("To", to.String())
	hdr("Subject", mime.QEncoding.Encode("utf-8", subject))
	hdr("Date", now.Format(time.RFC1123Z))
	hdr("Message-ID", "<"+rand.Text()+"@"+domain(from.Address)+">")
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(text)); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	return b.Bytes(), nil
}

// domain returns the part of addr after the last "@", lower-cased, or
// "invalid" if there is none.
func domain(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 || i == len(addr)-1 {
		return "invalid"
	}
	return strings.ToLower(addr[i+1:])
}
