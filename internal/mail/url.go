package mail

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// defaultTimeout bounds one whole send (dial, TLS, dialogue) when the
// caller's context does not end sooner.
const defaultTimeout = 30 * time.Second

// NewSMTP parses SIGIL_SMTP_URL:
//
//	smtp://[user:pass@]host[:port]?from=addr[&insecure=1][&timeout=30s]
//	smtps://[user:pass@]host[:port]?from=addr[&timeout=30s]
//
// smtp:// uses STARTTLS whenever the server offers it, except to a
// loopback host; smtps:// is TLS from the first byte. Default ports: smtps 465; smtp 587 (submission) with a
// user, 25 without. from is required ("noreply@x" or, URL-escaped,
// "Sigil <noreply@x>"). Credentials are only ever sent over TLS, unless the
// host is loopback or insecure=1 allows plaintext AUTH; insecure changes
// nothing else (certificates are always verified). Unknown or repeated
// parameters are refused so a typo cannot silently weaken the setup.
//
// Errors never quote the URL: it holds the password.
func NewSMTP(rawURL string) (*SMTP, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Error quotes the whole URL; keep only the reason.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("mail: SMTP URL: %v", err)
	}
	s := &SMTP{timeout: defaultTimeout, now: time.Now}
	if err := s.parseBase(u); err != nil {
		return nil, fmt.Errorf("mail: SMTP URL: %w", err)
	}
	if err := s.parseQuery(u.RawQuery); err != nil {
		return nil, fmt.Errorf("mail: SMTP URL: %w", err)
	}
	return s, nil
}

// parseBase reads scheme, credentials, host and port.
func (s *SMTP) parseBase(u *url.URL) error {
	switch u.Scheme {
	case "smtp":
	case "smtps":
		s.implicitTLS = true
	default:
		return fmt.Errorf("scheme %q: want smtp or smtps", u.Scheme)
	}
	if u.Opaque != "" || (u.Path != "" && u.Path != "/") || u.Fragment != "" {
		return errors.New("want no path or fragment")
	}
	if u.User != nil {
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
		if s.user == "" || s.pass == "" {
			return errors.New("user and password go together")
		}
	}
	s.host = u.Hostname()
	if s.host == "" {
		return errors.New("host is missing")
	}
	port := u.Port()
	switch {
	case port != "":
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("port %q out of range", port)
		}
	case s.implicitTLS:
		port = "465"
	case s.user != "":
		port = "587"
	default:
		port = "25"
	}
	s.addr = net.JoinHostPort(s.host, port)
	return nil
}

// parseQuery reads from, insecure and timeout.
func (s *SMTP) parseQuery(raw string) error {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return fmt.Errorf("query: %v", err)
	}
	for k, v := range q {
		if len(v) != 1 {
			return fmt.Errorf("parameter %q given %d times", k, len(v))
		}
		switch val := v[0]; k {
		case "from":
			if strings.ContainsAny(val, "\r\n") {
				return errors.New("from holds CR or LF")
			}
			if s.from, err = mail.ParseAddress(val); err != nil {
				return fmt.Errorf("from: %v", err)
			}
		case "insecure":
			if s.insecure, err = strconv.ParseBool(val); err != nil {
				return fmt.Errorf("insecure %q: want 1 or 0", val)
			}
		case "timeout":
			if s.timeout, err = time.ParseDuration(val); err != nil || s.timeout <= 0 {
				return fmt.Errorf("timeout %q: want a positive duration like 30s", val)
			}
		default:
			return fmt.Errorf("unknown parameter %q", k)
		}
	}
	if s.from == nil {
		return errors.New("from is required (?from=noreply@example.com)")
	}
	if s.implicitTLS && s.insecure {
		return errors.New("insecure makes no sense with smtps")
	}
	return nil
}

// isLoopback reports whether host names this machine: "localhost" or a
// loopback IP literal. Names are not resolved (a DNS answer is not proof).
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}
