package mail

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
)

// A real SMTP server (go-smtp) on 127.0.0.1:0 whose backend records what
// arrives. Test credentials: user "sigil", password "s3cret-pw".
const (
	testUser = "sigil"
	testPass = "s3cret-pw"
	testHost = "mail.example.test" // in the test certificate; dialed as 127.0.0.1
)

type received struct {
	From string
	To   []string
	Data []byte
	User string // authenticated user, "" if none
	TLS  bool
}

type backend struct {
	mu         sync.Mutex
	sessions   int
	authTries  int
	msgs       []received
	rejectRcpt string // RCPT TO this address gets a 550
}

func (b *backend) NewSession(c *gosmtp.Conn) (gosmtp.Session, error) {
	b.mu.Lock()
	b.sessions++
	b.mu.Unlock()
	return &session{b: b, c: c}, nil
}

func (b *backend) snapshot() (sessions, authTries int, msgs []received) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sessions, b.authTries, append([]received(nil), b.msgs...)
}

type session struct {
	b    *backend
	c    *gosmtp.Conn
	user string
	cur  received
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		s.b.mu.Lock()
		s.b.authTries++
		s.b.mu.Unlock()
		if user != testUser || pass != testPass {
			return gosmtp.ErrAuthFailed
		}
		s.user = user
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *gosmtp.MailOptions) error {
	s.cur = received{From: from}
	return nil
}

func (s *session) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	if to == s.b.rejectRcpt {
		return &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	s.cur.To = append(s.cur.To, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.Data, s.cur.User = data, s.user
	_, s.cur.TLS = s.c.TLSConnectionState()
	s.b.mu.Lock()
	s.b.msgs = append(s.b.msgs, s.cur)
	s.b.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.cur = received{} }
func (s *session) Logout() error { return nil }

type serverOpts struct {
	startTLS    bool // offer STARTTLS
	implicitTLS bool // TLS from the first byte
}

// startServer runs a go-smtp server and returns its address. AUTH is
// offered even without TLS, so the client's own refusal is what is tested.
func startServer(t *testing.T, o serverOpts) (string, *backend) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if o.implicitTLS {
		ln = tls.NewListener(ln, serverTLS(t))
	}
	be := &backend{}
	srv := gosmtp.NewServer(be)
	srv.Domain = "mx.example.test"
	srv.AllowInsecureAuth = true
	srv.ErrorLog = log.New(io.Discard, "", 0)
	if o.startTLS {
		srv.TLSConfig = serverTLS(t)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), be
}

var (
	certOnce sync.Once
	certPair tls.Certificate
	certPool *x509.CertPool
)

// serverTLS returns a server config with a self-signed certificate for
// testHost and 127.0.0.1; testRoots trusts it.
func serverTLS(t *testing.T) *tls.Config {
	t.Helper()
	certOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1),
			Subject:      pkix.Name{CommonName: testHost},
			DNSNames:     []string{testHost},
			IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			panic(err)
		}
		leaf, _ := x509.ParseCertificate(der)
		certPair = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
		certPool = x509.NewCertPool()
		certPool.AddCert(leaf)
	})
	return &tls.Config{Certificates: []tls.Certificate{certPair}}
}

func testRoots(t *testing.T) *x509.CertPool {
	serverTLS(t)
	return certPool
}

// silentServer accepts connections and never says a word. accepted gets
// one value per connection.
func silentServer(t *testing.T) (addr string, accepted <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{}, 16)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			ch <- struct{}{}
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String(), ch
}
