package bench

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/api"
	"github.com/sigil-auth/sigil/internal/authn"
	"github.com/sigil-auth/sigil/internal/clientip"
	"github.com/sigil-auth/sigil/internal/fanout"
	"github.com/sigil-auth/sigil/internal/httpapi"
	"github.com/sigil-auth/sigil/internal/ratelimit"
	"github.com/sigil-auth/sigil/internal/store"
	"github.com/sigil-auth/sigil/internal/store/postgres"
	"github.com/sigil-auth/sigil/internal/testenv"
	"github.com/sigil-auth/sigil/internal/token"
)

// issuer is what `sigil serve` derives from its default address.
const issuer = "http://127.0.0.1:8080"

// clientAddr is the client IP every flow is called with.
var clientAddr = netip.MustParseAddr("127.0.0.1")

// env is the production stack of `sigil serve` in-process, with the real
// clock (so the 500 ms session-liveness cache expires as it does in
// production) and rate limits off (SIGIL_RATE_LIMITS=off).
type env struct {
	store    store.Store
	keys     *token.Keyring
	auth     *authn.Service
	metrics  *httpapi.Metrics
	joinCode string
}

// newEnv builds env on a fresh database of backend; "postgres" skips
// unless SIGIL_TEST_POSTGRES is set.
func newEnv(b *testing.B, backend string) *env {
	b.Helper()
	st := testenv.NewDatabase(b, backend).Open(b)
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	sealer, err := token.NewSealer(testenv.MasterKey)
	if err != nil {
		b.Fatal(err)
	}
	keys, err := token.NewKeyring(ctx, st, sealer, token.AlgEdDSA, time.Now)
	if err != nil {
		b.Fatal(err)
	}
	var bus fanout.Bus = fanout.NewLocal()
	if pg, ok := st.(*postgres.Store); ok {
		bus = fanout.NewPostgres(pg.Pool())
	}
	b.Cleanup(func() { bus.Close() })
	tiers, err := ratelimit.ParseTiers("")
	if err != nil {
		b.Fatal(err)
	}
	metrics := httpapi.NewMetrics()
	auth := authn.New(st, keys, ratelimit.NewMemory(time.Now), bus, authn.Options{
		Issuer: issuer, AdminToken: testenv.AdminToken, Tiers: tiers,
		RefreshKey: token.DeriveKey(testenv.MasterKey, "refresh-token derivation"),
		Sealer:     sealer, Now: time.Now, OnAuth: metrics.ObserveAuth,
	})
	b.Cleanup(auth.Close) // before the store closes: flushes the audit log
	if err := auth.Run(ctx); err != nil {
		b.Fatal(err)
	}
	ws, err := auth.CreateWorkspace(ctx, authn.Principal{Kind: authn.KindAdmin}, "bench")
	if err != nil {
		b.Fatal(err)
	}
	return &env{store: st, keys: keys, auth: auth, metrics: metrics, joinCode: ws.JoinCode}
}

// handler is the whole HTTP stack of the server (middleware, metrics,
// logs) logging JSON at level to io.Discard, with the access log on at
// info and below (as SIGIL_ACCESS_LOG=on would have it).
func (e *env) handler(level slog.Level) http.Handler {
	log := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: level}))
	return httpapi.New(httpapi.Deps{
		Auth: e.auth, Keys: e.keys, IPs: clientip.New(nil), Metrics: e.metrics, Log: log, AccessLog: level <= slog.LevelInfo,
		Issuer: issuer, OpenAPI: api.Spec, Ready: e.store.Ping,
	})
}

// user is a key-pair identity.
type user struct {
	id   string
	priv ed25519.PrivateKey
	pub  string
}

var userSeq atomic.Int64

func newUser() user {
	_, priv, _ := ed25519.GenerateKey(nil)
	return user{
		id:   fmt.Sprintf("bench-%d", userSeq.Add(1)),
		priv: priv,
		pub:  base64.StdEncoding.EncodeToString(priv.Public().(ed25519.PublicKey)),
	}
}

// proof issues a code for u and signs it, as a client does.
func (e *env) proof(ctx context.Context, u user) (authn.Proof, error) {
	ch, err := e.auth.IssueCode(ctx, clientAddr, u.id)
	if err != nil {
		return authn.Proof{}, err
	}
	sig := ed25519.Sign(u.priv, []byte(ch.AuthCode))
	return authn.Proof{AuthCode: ch.AuthCode, PublicKey: u.pub, Scheme: authn.SchemeEd25519,
		Signature: base64.StdEncoding.EncodeToString(sig)}, nil
}

// register creates a new user in the workspace and returns its first
// tokens.
func (e *env) register(ctx context.Context) (user, authn.TokenResponse, error) {
	u := newUser()
	p, err := e.proof(ctx, u)
	if err != nil {
		return u, authn.TokenResponse{}, err
	}
	resp, err := e.auth.Register(ctx, clientAddr, authn.RegisterInput{UserID: u.id, JoinCode: e.joinCode, Proof: p})
	return u, resp, err
}

// login is one whole key-pair login: code, client signature, token.
func (e *env) login(ctx context.Context, u user) (authn.TokenResponse, error) {
	p, err := e.proof(ctx, u)
	if err != nil {
		return authn.TokenResponse{}, err
	}
	return e.auth.Login(ctx, clientAddr, authn.LoginInput{UserID: u.id, Proof: p})
}

// mustRegister is register for the benchmark goroutine.
func (e *env) mustRegister(b *testing.B) (user, authn.TokenResponse) {
	b.Helper()
	u, resp, err := e.register(b.Context())
	if err != nil {
		b.Fatalf("register: %v", err)
	}
	return u, resp
}

// eachBackend runs f as sub-benchmarks "sqlite" and "postgres".
func eachBackend(b *testing.B, f func(b *testing.B, e *env)) {
	for _, backend := range testenv.Backends {
		b.Run(backend, func(b *testing.B) { f(b, newEnv(b, backend)) })
	}
}
