package mail

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var testNow = time.Date(2026, 11, 3, 14, 5, 6, 0, time.UTC)

// newTestSMTP parses rawURL, then dials addr instead of the URL's host
// (which keeps its role as TLS server name and in the loopback rule) and
// trusts the test certificate.
func newTestSMTP(t *testing.T, rawURL, addr string) *SMTP {
	t.Helper()
	s, err := NewSMTP(rawURL)
	if err != nil {
		t.Fatalf("NewSMTP: %v", err)
	}
	s.addr, s.rootCAs, s.now = addr, testRoots(t), func() time.Time { return testNow }
	return s
}

// A body that exercises the encoding: a link longer than a QP line, a
// token, a line starting with "." (SMTP dot-stuffing), "=", non-ASCII and
// trailing blanks.
const (
	testToken = "rst_Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6"
	testLink  = "https://auth.example.test/reset?token=" + testToken + "&next=%2Fhome"
	testText  = "Grüße!\n\n" + testLink + "\n.\n.hidden line\na=b  \nend\n"
)

func TestSendDelivers(t *testing.T) {
	from := "?from=" + "Sigil%20%3Cnoreply%40sigil.example.test%3E"
	tests := []struct {
		name     string
		srv      serverOpts
		url      string
		wantUser string
		wantTLS  bool
	}{
		{"plaintext, no auth", serverOpts{}, "smtp://127.0.0.1" + from, "", false},
		{"plaintext auth to loopback", serverOpts{}, "smtp://sigil:s3cret-pw@127.0.0.1" + from, testUser, false},
		{"plaintext auth with insecure=1", serverOpts{}, "smtp://sigil:s3cret-pw@" + testHost + from + "&insecure=1", testUser, false},
		{"STARTTLS when offered, no auth", serverOpts{startTLS: true}, "smtp://" + testHost + from, "", true},
		{"STARTTLS then auth", serverOpts{startTLS: true}, "smtp://sigil:s3cret-pw@" + testHost + from, testUser, true},
		{"loopback skips STARTTLS", serverOpts{startTLS: true}, "smtp://sigil:s3cret-pw@127.0.0.1" + from, testUser, false},
		{"implicit TLS then auth", serverOpts{implicitTLS: true}, "smtps://sigil:s3cret-pw@" + testHost + from, testUser, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, be := startServer(t, tt.srv)
			s := newTestSMTP(t, tt.url, addr)
			m := Message{To: "Ann Example <ann@example.test>", Subject: "Réinitialiser ton mot de passe", Text: testText}
			if err := s.Send(context.Background(), m); err != nil {
				t.Fatalf("Send: %v", err)
			}
			_, _, msgs := be.snapshot()
			if len(msgs) != 1 {
				t.Fatalf("server got %d messages, want 1", len(msgs))
			}
			got := msgs[0]
			env := received{From: got.From, To: got.To, User: got.User, TLS: got.TLS}
			want := received{From: "noreply@sigil.example.test", To: []string{"ann@example.test"}, User: tt.wantUser, TLS: tt.wantTLS}
			if diff := cmp.Diff(want, env); diff != "" {
				t.Errorf("envelope (-want +got):\n%s", diff)
			}
			checkMessage(t, got.Data, m)
		})
	}
}

// checkMessage parses data as the server stored it and compares headers
// and the decoded body with m.
func checkMessage(t *testing.T, data []byte, m Message) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("ReadMessage: %v\n%s", err, data)
	}
	h := msg.Header
	subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil {
		t.Fatalf("Subject %q: %v", h.Get("Subject"), err)
	}
	from, _ := mail.ParseAddress(h.Get("From"))
	to, _ := mail.ParseAddress(h.Get("To"))
	date, _ := h.Date()
	got := map[string]string{
		"From": from.String(), "To": to.String(), "Subject": subject, "Date": date.UTC().String(),
		"MIME-Version": h.Get("MIME-Version"), "Content-Type": h.Get("Content-Type"),
		"Content-Transfer-Encoding": h.Get("Content-Transfer-Encoding"),
	}
	want := map[string]string{
		"From": `"Sigil" <noreply@sigil.example.test>`, "To": `"Ann Example" <ann@example.test>`,
		"Subject": m.Subject, "Date": testNow.String(),
		"MIME-Version": "1.0", "Content-Type": "text/plain; charset=utf-8",
		"Content-Transfer-Encoding": "quoted-printable",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
	if id := h.Get("Message-ID"); !regexp.MustCompile(`^<[A-Z2-7]{26}@sigil\.example\.test>$`).MatchString(id) {
		t.Errorf("Message-ID = %q", id)
	}
	if len(h) != len(want)+1 {
		t.Errorf("headers %v: want exactly %d", h, len(want)+1)
	}
	raw, _ := io.ReadAll(msg.Body)
	if !bytes.Contains(raw, []byte("=\r\n")) {
		t.Errorf("body has no QP soft line break; the long link was not wrapped:\n%s", raw)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatalf("QP decode: %v", err)
	}
	if diff := cmp.Diff(m.Text, strings.ReplaceAll(string(body), "\r\n", "\n")); diff != "" {
		t.Errorf("decoded body (-want +got):\n%s", diff)
	}
}

func TestSendRefusals(t *testing.T) {
	const from = "?from=noreply@sigil.example.test"
	tests := []struct {
		name     string
		srv      serverOpts
		url      string
		noRoots  bool   // trust only the system roots
		rcpt     string // server refuses this recipient
		wantIs   error
		wantCode int // SMTP reply code, if the server refused
		wantAuth int // AUTH attempts the server saw
	}{
		{name: "plaintext auth to a remote host", url: "smtp://sigil:s3cret-pw@" + testHost + from, wantIs: ErrPlaintextAuth},
		{name: "wrong password", url: "smtp://sigil:wrong@127.0.0.1" + from, wantCode: 535, wantAuth: 1},
		{name: "untrusted STARTTLS certificate, no fallback", srv: serverOpts{startTLS: true},
			url: "smtp://sigil:s3cret-pw@" + testHost + from, noRoots: true},
		{name: "untrusted implicit TLS certificate", srv: serverOpts{implicitTLS: true},
			url: "smtps://" + testHost + from, noRoots: true},
		{name: "recipient refused", url: "smtp://127.0.0.1" + from, rcpt: "ann@example.test", wantCode: 550},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, be := startServer(t, tt.srv)
			be.rejectRcpt = tt.rcpt
			s := newTestSMTP(t, tt.url, addr)
			if tt.noRoots {
				s.rootCAs = nil
			}
			err := s.Send(context.Background(), Message{To: "ann@example.test", Subject: "x", Text: testText})
			if err == nil {
				t.Fatal("Send succeeded, want an error")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("err = %v, want %v", err, tt.wantIs)
			}
			var te *textproto.Error
			if tt.wantCode != 0 && (!errors.As(err, &te) || te.Code != tt.wantCode) {
				t.Errorf("err = %v, want SMTP code %d", err, tt.wantCode)
			}
			if strings.Contains(err.Error(), testPass) {
				t.Errorf("error leaks the password: %v", err)
			}
			if _, auth, msgs := be.snapshot(); auth != tt.wantAuth || len(msgs) != 0 {
				t.Errorf("server saw %d AUTH attempts and %d messages, want %d and 0", auth, len(msgs), tt.wantAuth)
			}
		})
	}
}

func TestSendRefusesHeaderInjection(t *testing.T) {
	tests := []struct {
		name string
		m    Message
	}{
		{"CRLF in To", Message{To: "ann@example.test\r\nBcc: eve@evil.test", Subject: "x"}},
		{"LF in To", Message{To: "ann@example.test\nBcc: eve@evil.test", Subject: "x"}},
		{"CR in To", Message{To: "ann@example.test\rBcc: eve@evil.test", Subject: "x"}},
		{"CRLF in Subject", Message{To: "ann@example.test", Subject: "hi\r\nBcc: eve@evil.test"}},
		{"LF in Subject", Message{To: "ann@example.test", Subject: "hi\nBcc: eve@evil.test"}},
		{"two recipients", Message{To: "ann@example.test, eve@evil.test", Subject: "x"}},
		{"no recipient", Message{To: "", Subject: "x"}},
		{"not an address", Message{To: "ann", Subject: "x"}},
	}
	addr, be := startServer(t, serverOpts{})
	s := newTestSMTP(t, "smtp://127.0.0.1?from=noreply@sigil.example.test", addr)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.Send(context.Background(), tt.m); !errors.Is(err, ErrInvalidMessage) {
				t.Errorf("Send = %v, want ErrInvalidMessage", err)
			}
		})
	}
	if sessions, _, _ := be.snapshot(); sessions != 0 {
		t.Errorf("server saw %d connections, want none", sessions)
	}
}

func TestSendTimeout(t *testing.T) {
	m := Message{To: "ann@example.test", Subject: "x", Text: "y"}
	t.Run("URL timeout", func(t *testing.T) {
		addr, _ := silentServer(t)
		s := newTestSMTP(t, "smtp://127.0.0.1?from=a@example.test&timeout=100ms", addr)
		checkTimeout(t, s.Send(context.Background(), m), context.DeadlineExceeded)
	})
	t.Run("context deadline", func(t *testing.T) {
		addr, _ := silentServer(t)
		s := newTestSMTP(t, "smtp://127.0.0.1?from=a@example.test", addr) // default 30 s
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		checkTimeout(t, s.Send(ctx, m), context.DeadlineExceeded)
	})
	t.Run("context cancelled mid-dialogue", func(t *testing.T) {
		addr, accepted := silentServer(t)
		s := newTestSMTP(t, "smtp://127.0.0.1?from=a@example.test", addr)
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-accepted; cancel() }()
		checkTimeout(t, s.Send(ctx, m), context.Canceled)
	})
}

func checkTimeout(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("Send = %v, want %v", err, want)
	}
}

func TestStringHidesPassword(t *testing.T) {
	s, err := NewSMTP("smtp://sigil:s3cret-pw@mail.example.test?from=a@example.test")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.String(), "smtp://mail.example.test:587"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
