package testenv

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/api"
	"github.com/sigil-auth/sigil/internal/authn"
	"github.com/sigil-auth/sigil/internal/clientip"
	"github.com/sigil-auth/sigil/internal/fanout"
	"github.com/sigil-auth/sigil/internal/httpapi"
	"github.com/sigil-auth/sigil/internal/mail"
	"github.com/sigil-auth/sigil/internal/password"
	"github.com/sigil-auth/sigil/internal/ratelimit"
	"github.com/sigil-auth/sigil/internal/store"
	"github.com/sigil-auth/sigil/internal/store/postgres"
	"github.com/sigil-auth/sigil/internal/store/sqlite"
	"github.com/sigil-auth/sigil/internal/token"
	"github.com/sigil-auth/sigil/internal/web"
)

// Backends are the store backends every integration test runs on.
var Backends = []string{"sqlite", "postgres"}

// AdminToken is the instance-admin token of every test server.
const AdminToken = "test-admin-token-0123456789abcdef0123456789"

// MasterKey is the master key of every test server (replicas share it).
var MasterKey = bytes.Repeat([]byte{42}, 32)

// Clock is a settable clock shared by a test and its servers.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts at a fixed instant, so tests are reproducible.
func NewClock() *Clock { return &Clock{t: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)} }

func (c *Clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *Clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func (c *Clock) Set(t time.Time)     { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// Database is a store location that several replicas can open.
type Database struct {
	Backend string
	DSN     string // file path (sqlite) or URL (postgres)
}

// NewDatabase makes an empty database of backend for tb.
func NewDatabase(tb testing.TB, backend string) Database {
	tb.Helper()
	if backend == "postgres" {
		return Database{Backend: backend, DSN: PostgresSchema(tb)}
	}
	return Database{Backend: backend, DSN: filepath.Join(tb.TempDir(), "sigil.db")}
}

// Open opens a store on db, closed when tb ends.
func (db Database) Open(tb testing.TB) store.Store {
	tb.Helper()
	var st store.Store
	var err error
	if db.Backend == "postgres" {
		st, err = postgres.Open(context.Background(), db.DSN)
	} else {
		st, err = sqlite.Open(context.Background(), db.DSN)
	}
	if err != nil {
		tb.Fatalf("open %s store: %v", db.Backend, err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// Options shape a test server.
type Options struct {
	Clock  *Clock                    // nil: a fresh NewClock
	Limits map[string]ratelimit.Rule // nil: rate limits off
	Tiers  map[string]ratelimit.Rule // nil: ratelimit.DefaultTiers
	// Redis shares rate limits and revocations through SIGIL_TEST_REDIS
	// under Prefix (replicas of one test must share it).
	Redis  bool
	Prefix string
	// WrapStore, when set, wraps the store the server's authn.Service
	// uses (to count or observe its calls).
	WrapStore func(store.Store) store.Store
	// TrustProxy trusts X-Forwarded-For from loopback, so tests can
	// present many client IPs.
	TrustProxy bool
	Log        *slog.Logger
	// Mailer sends reset and verification mail (default: the production
	// SMTP mailer, delivering to a real SMTP server: Server.Outbox).
	Mailer mail.Mailer
	// Passwords hashes passwords (default: argon2id at OWASP parameters).
	Passwords *password.Hasher
	// IssuerIsURL makes the server's own URL its issuer (for OpenID
	// clients, which fetch discovery from the issuer), instead of
	// "http://sigil.test".
	IssuerIsURL bool
	// Streams caps the long-lived responses (zero: the defaults).
	Streams httpapi.StreamLimits
}

// Server is one running replica.
type Server struct {
	URL    string
	Issuer string
	Clock  *Clock
	Store  store.Store
	Auth   *authn.Service
	Keys   *token.Keyring
	// Outbox is the SMTP server that received the mail, when
	// Options.Mailer was nil.
	Outbox *Mailbox
	// MetricsURL is the admin listener serving GET /metrics (as
	// SIGIL_METRICS_ADDR does), apart from URL.
	MetricsURL string
}

// Start runs a replica on db with the whole production stack.
func Start(tb testing.TB, db Database, o Options) *Server {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if o.Clock == nil {
		o.Clock = NewClock()
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	st := db.Open(tb)
	sealer, _ := token.NewSealer(MasterKey)
	keys, err := token.NewKeyring(ctx, st, sealer, token.AlgEdDSA, o.Clock.Now)
	if err != nil {
		tb.Fatal(err)
	}
	var lim ratelimit.Limiter = ratelimit.NewMemory(o.Clock.Now)
	var bus fanout.Bus = fanout.NewLocal()
	if o.Redis {
		rc, prefix := Redis(tb)
		if o.Prefix != "" {
			prefix = o.Prefix
		}
		lim, bus = ratelimit.NewRedis(rc, prefix, o.Clock.Now), fanout.NewRedis(rc)
	} else if pg, ok := st.(*postgres.Store); ok {
		bus = fanout.NewPostgres(pg.Pool())
	}
	metrics := httpapi.NewMetrics()
	var box *Mailbox
	if o.Mailer == nil {
		box = NewMailbox(tb)
		smtp, err := mail.NewSMTP(box.URL)
		if err != nil {
			tb.Fatal(err)
		}
		o.Mailer = smtp
	}
	if o.Tiers == nil {
		o.Tiers, _ = ratelimit.ParseTiers("")
	}
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://sigil.test"
	if o.IssuerIsURL {
		issuer = "http://" + srv.Listener.Addr().String()
	}
	authStore := st
	if o.WrapStore != nil {
		authStore = o.WrapStore(st)
	}
	auth := authn.New(authStore, keys, lim, bus, authn.Options{
		Issuer: issuer, AdminToken: AdminToken, Limits: o.Limits, Tiers: o.Tiers,
		RefreshKey: token.DeriveKey(MasterKey, "refresh-token derivation"),
		Sealer:     sealer, Mailer: o.Mailer, Passwords: o.Passwords,
		Now: o.Clock.Now, Log: o.Log, OnAuth: metrics.ObserveAuth,
	})
	if err := auth.Run(ctx); err != nil {
		tb.Fatalf("revocation listener: %v", err)
	}
	var trusted []netip.Prefix
	if o.TrustProxy {
		trusted = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}
	ips := clientip.New(trusted)
	pages, err := web.New(web.Deps{Auth: auth, IPs: ips, Log: o.Log, Issuer: issuer, Now: o.Clock.Now})
	if err != nil {
		tb.Fatal(err)
	}
	srv.Config.Handler = httpapi.New(httpapi.Deps{
		Auth: auth, Keys: keys, IPs: ips, Metrics: metrics, Log: o.Log,
		Issuer: issuer, OpenAPI: api.Spec, Ready: st.Ping, Pages: pages, PageRoutes: pages.Routes(),
		Streams: o.Streams,
	})
	srv.Start()
	msrv := httptest.NewServer(metrics.Handler())
	tb.Cleanup(func() {
		msrv.Close()
		srv.Close()
		cancel()
		bus.Close()
		auth.Close()
	})
	return &Server{URL: srv.URL, Issuer: issuer, Clock: o.Clock, Store: st, Auth: auth, Keys: keys, Outbox: box,
		MetricsURL: msrv.URL}
}

// LocalIP is the client address in-process callers pass to the domain.
var LocalIP = netip.MustParseAddr("127.0.0.1")
