package mail

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNewSMTP(t *testing.T) {
	type parsed struct {
		Addr, Host, User, Pass, From, FromName string
		ImplicitTLS, Insecure                  bool
		Timeout                                time.Duration
	}
	const f = "?from=noreply@example.test"
	def := func(p parsed) parsed {
		p.From, p.Timeout = "noreply@example.test", defaultTimeout
		if p.Host == "" {
			p.Host = "mail.example.test"
		}
		return p
	}
	tests := []struct {
		url  string
		want parsed
	}{
		{"smtp://mail.example.test" + f, def(parsed{Addr: "mail.example.test:25"})},
		{"smtp://mail.example.test/" + f, def(parsed{Addr: "mail.example.test:25"})},
		{"smtp://u:p%40ss@mail.example.test" + f, def(parsed{Addr: "mail.example.test:587", User: "u", Pass: "p@ss"})},
		{"smtps://mail.example.test" + f, def(parsed{Addr: "mail.example.test:465", ImplicitTLS: true})},
		{"smtps://u:p@mail.example.test" + f, def(parsed{Addr: "mail.example.test:465", ImplicitTLS: true, User: "u", Pass: "p"})},
		{"smtp://mail.example.test:2525" + f, def(parsed{Addr: "mail.example.test:2525"})},
		{"smtp://[::1]" + f, def(parsed{Addr: "[::1]:25", Host: "::1"})},
		{"smtp://u:p@mail.example.test" + f + "&insecure=1&timeout=5s",
			def(parsed{Addr: "mail.example.test:587", User: "u", Pass: "p", Insecure: true})},
		{"smtp://mail.example.test?from=Sigil%20%3Cnoreply%40example.test%3E",
			def(parsed{Addr: "mail.example.test:25", FromName: "Sigil"})},
	}
	tests[7].want.Timeout = 5 * time.Second
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			s, err := NewSMTP(tt.url)
			if err != nil {
				t.Fatalf("NewSMTP: %v", err)
			}
			got := parsed{s.addr, s.host, s.user, s.pass, s.from.Address, s.from.Name, s.implicitTLS, s.insecure, s.timeout}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewSMTPRefuses(t *testing.T) {
	// Every URL carries the password: no error may repeat it.
	const pw = "Pa55w0rd-X"
	tests := []struct{ name, url string }{
		{"missing from", "smtp://u:" + pw + "@mail.example.test"},
		{"empty from", "smtp://u:" + pw + "@mail.example.test?from="},
		{"bad from", "smtp://u:" + pw + "@mail.example.test?from=not-an-address"},
		{"CRLF in from", "smtp://u:" + pw + "@mail.example.test?from=a@x.test%0D%0ABcc:%20e@x.test"},
		{"two froms", "smtp://u:" + pw + "@mail.example.test?from=a@x.test&from=b@x.test"},
		{"scheme http", "http://u:" + pw + "@mail.example.test?from=a@x.test"},
		{"scheme smtp+tls", "smtp+tls://u:" + pw + "@mail.example.test?from=a@x.test"},
		{"no scheme", "u:" + pw + "@mail.example.test?from=a@x.test"},
		{"no host", "smtp://u:" + pw + "@?from=a@x.test"},
		{"port 0", "smtp://u:" + pw + "@mail.example.test:0?from=a@x.test"},
		{"port too big", "smtp://u:" + pw + "@mail.example.test:70000?from=a@x.test"},
		{"port not a number", "smtp://u:" + pw + "@mail.example.test:smtp?from=a@x.test"},
		{"user without password", "smtp://u@mail.example.test?from=a@x.test"},
		{"password without user", "smtp://:" + pw + "@mail.example.test?from=a@x.test"},
		{"path", "smtp://u:" + pw + "@mail.example.test/x?from=a@x.test"},
		{"unknown parameter", "smtp://u:" + pw + "@mail.example.test?from=a@x.test&tls=1"},
		{"bad insecure", "smtp://u:" + pw + "@mail.example.test?from=a@x.test&insecure=maybe"},
		{"insecure with smtps", "smtps://u:" + pw + "@mail.example.test?from=a@x.test&insecure=1"},
		{"bad timeout", "smtp://u:" + pw + "@mail.example.test?from=a@x.test&timeout=30"},
		{"negative timeout", "smtp://u:" + pw + "@mail.example.test?from=a@x.test&timeout=-1s"},
		{"control character", "smtp://u:" + pw + "@mail.example.test\x7f?from=a@x.test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewSMTP(tt.url)
			if err == nil {
				t.Fatalf("NewSMTP = %v, want an error", s)
			}
			if strings.Contains(err.Error(), pw) {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

func TestIsLoopback(t *testing.T) {
	tests := map[string]bool{
		"localhost": true, "LocalHost": true, "127.0.0.1": true, "127.8.9.10": true, "::1": true,
		"::ffff:127.0.0.1":  true,
		"mail.example.test": false, "localhost.example.test": false, "10.0.0.1": false,
		"0.0.0.0": false, "::": false, "": false,
	}
	for host, want := range tests {
		if got := isLoopback(host); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}
