package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"os"
	"slices"
	"strings"
	"time"
)

// ErrPlaintextAuth is returned, before any credential is sent, when the
// connection is not TLS (no STARTTLS offered), the host is not loopback
// and insecure=1 was not given.
var ErrPlaintextAuth = errors.New("mail: refusing SMTP AUTH over a plaintext connection")

// SMTP sends each message over its own connection. Build it with NewSMTP;
// it is safe for concurrent use.
type SMTP struct {
	host        string // TLS server name; loopback check
	addr        string // host:port dialed (tests point it elsewhere)
	implicitTLS bool
	user, pass  string
	insecure    bool
	from        *mail.Address
	timeout     time.Duration
	now         func() time.Time
	rootCAs     *x509.CertPool // nil: system roots; set by tests
}

// String describes the transport without credentials, for logs.
func (s *SMTP) String() string {
	scheme := "smtp"
	if s.implicitTLS {
		scheme = "smtps"
	}
	return scheme + "://" + s.addr
}

// Send delivers m. It returns ErrInvalidMessage (wrapped) without
// connecting for a bad Message, ErrPlaintextAuth as described on it, the
// context's error if ctx ends or the timeout passes first, and otherwise
// the server's refusal (a *textproto.Error with its code) wrapped with the
// step that failed. Once the server has accepted the data the message
// counts as sent: a failing QUIT is ignored so callers do not resend.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	to, err := m.recipient()
	if err != nil {
		return err
	}
	raw, err := render(s.from, to, m.Subject, m.Text, s.now())
	if err != nil {
		return fmt.Errorf("mail: render: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	conn, err := s.dial(ctx)
	if err != nil {
		return s.fail(ctx, "dial", err)
	}
	defer conn.Close()
	// Every read and write below gives up at the deadline, or at once
	// when ctx is cancelled.
	dl, _ := ctx.Deadline()
	conn.SetDeadline(dl)
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if step, err := s.converse(conn, to.Address, raw); err != nil {
		return s.fail(ctx, step, err)
	}
	return nil
}

// fail wraps err with the step, preferring the context's reason when the
// context ended (the socket error is then only a symptom).
func (s *SMTP) fail(ctx context.Context, step string, err error) error {
	if errors.Is(err, ErrPlaintextAuth) {
		return err
	}
	cause := ctx.Err()
	if cause == nil && errors.Is(err, os.ErrDeadlineExceeded) {
		// The socket deadline is the context's: it can fire before the
		// context's own timer does.
		cause = context.DeadlineExceeded
	}
	if cause != nil {
		return fmt.Errorf("mail: %s %s: %w (%v)", step, s.addr, cause, err)
	}
	return fmt.Errorf("mail: %s %s: %w", step, s.addr, err)
}

func (s *SMTP) tlsConfig() *tls.Config {
	return &tls.Config{ServerName: s.host, RootCAs: s.rootCAs, MinVersion: tls.VersionTLS12}
}

func (s *SMTP) dial(ctx context.Context) (net.Conn, error) {
	if s.implicitTLS {
		d := &tls.Dialer{Config: s.tlsConfig()}
		return d.DialContext(ctx, "tcp", s.addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", s.addr)
}

// converse runs the SMTP dialogue on conn; on failure it names the step.
func (s *SMTP) converse(conn net.Conn, rcpt string, raw []byte) (string, error) {
	c, err := smtp.NewClient(conn, s.host) // reads the greeting
	if err != nil {
		return "greeting", err
	}
	if err := c.Hello(heloName(conn.LocalAddr())); err != nil {
		return "EHLO", err
	}
	secure := s.implicitTLS
	// Loopback is exempt: nothing crosses a network, and local relays
	// (Debian's Postfix) offer STARTTLS with a self-signed certificate
	// that would fail verification.
	if ok, _ := c.Extension("STARTTLS"); ok && !secure && !isLoopback(s.host) {
		// No fallback to plaintext if this fails: that would let anyone
		// on the path strip TLS by breaking the handshake.
		if err := c.StartTLS(s.tlsConfig()); err != nil {
			return "STARTTLS", err
		}
		secure = true
	}
	if s.user != "" {
		if err := s.auth(c, secure); err != nil {
			return "AUTH", err
		}
	}
	if err := c.Mail(s.from.Address); err != nil {
		return "MAIL FROM", err
	}
	if err := c.Rcpt(rcpt); err != nil {
		return "RCPT TO", err
	}
	w, err := c.Data()
	if err != nil {
		return "DATA", err
	}
	if _, err := w.Write(raw); err != nil {
		return "DATA", err
	}
	if err := w.Close(); err != nil { // the server's verdict on the message
		return "DATA", err
	}
	_ = c.Quit()
	return "", nil
}

// heloName is the name given in EHLO: the machine's host name when it is
// fully qualified, else the address literal of our end of the connection
// (RFC 5321 §4.1.3). net/smtp's default, "localhost", is refused by relays
// that insist on a qualified name.
func heloName(local net.Addr) string {
	if h, err := os.Hostname(); err == nil && strings.Contains(h, ".") && !strings.HasSuffix(h, ".") {
		return h
	}
	ta, ok := local.(*net.TCPAddr)
	if !ok {
		return "localhost"
	}
	if ip := ta.IP.To4(); ip != nil {
		return "[" + ip.String() + "]"
	}
	return "[IPv6:" + ta.IP.String() + "]"
}

// auth sends AUTH PLAIN if the connection may carry credentials.
func (s *SMTP) auth(c *smtp.Client, secure bool) error {
	if !secure && !s.insecure && !isLoopback(s.host) {
		return ErrPlaintextAuth
	}
	ok, mechs := c.Extension("AUTH")
	if !ok || !slices.Contains(strings.Fields(strings.ToUpper(mechs)), "PLAIN") {
		return fmt.Errorf("server does not offer AUTH PLAIN (offers %q)", mechs)
	}
	return c.Auth(plainAuth{user: s.user, pass: s.pass})
}

// plainAuth is AUTH PLAIN (RFC 4616) without smtp.PlainAuth's own
// TLS-or-localhost rule: auth above decides, so that insecure=1 works for
// a non-loopback host and loopback covers all of 127.0.0.0/8 and ::1.
type plainAuth struct{ user, pass string }

func (a plainAuth) Start(*smtp.ServerInfo) (string, []byte, error) {
	return "PLAIN", []byte("\x00" + a.user + "\x00" + a.pass), nil
}

func (a plainAuth) Next(_ []byte, more bool) ([]byte, error) {
	if more {
		return nil, errors.New("unexpected server challenge")
	}
	return nil, nil
}

var (
	_ Mailer = (*SMTP)(nil)
	_ Mailer = (*Log)(nil)
)
