package testenv

import (
	"bytes"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/sigil-auth/sigil/internal/mail"
)

// Mailbox is a real SMTP server (go-smtp) on a loopback port that keeps
// what it receives, so tests follow emailed links through the production
// SMTP mailer rather than a stand-in.
type Mailbox struct {
	URL string // smtp://127.0.0.1:port?from=…, for mail.NewSMTP

	mu   sync.Mutex
	msgs []mail.Message
}

// NewMailbox starts a Mailbox, stopped when tb ends.
func NewMailbox(tb testing.TB) *Mailbox {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	m := &Mailbox{URL: "smtp://" + ln.Addr().String() + "?from=sigil%40sigil.test"}
	srv := gosmtp.NewServer(m)
	srv.Domain, srv.ReadTimeout, srv.WriteTimeout = "localhost", 10*time.Second, 10*time.Second
	go srv.Serve(ln)
	tb.Cleanup(func() { srv.Close() })
	return m
}

// Messages returns what arrived so far, decoded.
func (m *Mailbox) Messages() []mail.Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]mail.Message(nil), m.msgs...)
}

// NewSession implements gosmtp.Backend.
func (m *Mailbox) NewSession(*gosmtp.Conn) (gosmtp.Session, error) { return &mailSession{box: m}, nil }

type mailSession struct{ box *Mailbox }

func (s *mailSession) Mail(string, *gosmtp.MailOptions) error { return nil }
func (s *mailSession) Rcpt(string, *gosmtp.RcptOptions) error { return nil }
func (s *mailSession) Reset()                                 {}
func (s *mailSession) Logout() error                          { return nil }

// Data parses the message: To, Subject and the quoted-printable body.
func (s *mailSession) Data(r io.Reader) error {
	msg, err := netmail.ReadMessage(r)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		return err
	}
	to := msg.Header.Get("To")
	if a, err := netmail.ParseAddress(to); err == nil {
		to = a.Address
	}
	subject, _ := new(mimeDecoder).DecodeHeader(msg.Header.Get("Subject"))
	s.box.mu.Lock()
	s.box.msgs = append(s.box.msgs, mail.Message{To: to, Subject: subject, Text: string(bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n")))})
	s.box.mu.Unlock()
	return nil
}

type mimeDecoder = mime.WordDecoder
