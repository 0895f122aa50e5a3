package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/client"
	"github.com/sigil-auth/sigil/internal/testenv"
)

// TestReplicaProcesses runs two `sigil serve` processes on one PostgreSQL
// database — revocations through LISTEN/NOTIFY, then through Redis with
// shared rate limits — and checks that they behave as one server.
func TestReplicaProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the sigil binary; skipped with -short")
	}
	bin := buildSigil(t)
	for _, viaRedis := range []bool{false, true} {
		name := "listen_notify"
		if viaRedis {
			name = "redis"
		}
		t.Run(name, func(t *testing.T) {
			master := make([]byte, 32)
			rand.Read(master)
			env := map[string]string{
				"SIGIL_DATABASE_URL": testenv.PostgresSchema(t),
				"SIGIL_MASTER_KEY":   base64.StdEncoding.EncodeToString(master),
				"SIGIL_RATE_LIMITS":  "", // the API.md §8 defaults
				// Replicas behind one load balancer share one issuer.
				"SIGIL_ISSUER": "http://sigil.replicas.test",
			}
			if viaRedis {
				testenv.Redis(t) // skips or fails loudly like every Redis suite
				env["SIGIL_REDIS_URL"] = os.Getenv("SIGIL_TEST_REDIS")
			}
			a := startServerEnv(t, bin, env)
			b := startServerEnv(t, bin, env) // same database: migrations are locked
			testReplicas(t, a, b, viaRedis)
		})
	}
}

func testReplicas(t *testing.T, a, b *e2eServer, sharedLimits bool) {
	ctx := context.Background()
	join := newWorkspace(t, a, "replicas")
	key, _ := client.GenerateKey()
	// A fresh user id per run: the Redis limiter's counters outlive the test.
	user := "rep-" + strings.ToLower(rand.Text()[:10])
	ca, cb := client.New(a.url), client.New(b.url)
	tok, err := ca.Register(ctx, user, join, key)
	if err != nil {
		t.Fatal(err)
	}
	// B serves A's session (and caches it as live), then A ends it.
	if _, err := cb.Whoami(ctx, tok.AccessToken); err != nil {
		t.Fatalf("replica B refuses A's token: %v", err)
	}
	if err := ca.Logout(ctx, tok.RefreshToken, false); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for {
		_, err := cb.Whoami(ctx, tok.AccessToken)
		var ce *client.Error
		if errors.As(err, &ce) && ce.Status == http.StatusUnauthorized {
			break
		}
		if time.Since(start) > time.Second {
			t.Fatalf("replica B still accepts the token %v after logout on A (err %v)", time.Since(start), err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("revocation seen by the other replica after %v", time.Since(start))

	// A session started on B refreshes on A.
	s2, err := cb.LoginKeyPair(ctx, user, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ca.Refresh(ctx, s2.RefreshToken); err != nil {
		t.Fatalf("refresh on the other replica: %v", err)
	}
	if !sharedLimits {
		return
	}
	// 16 logins for one user id across both replicas: the 16th is 429
	// (one was made above).
	for i := range 14 {
		if _, err := []*client.Client{ca, cb}[i%2].LoginKeyPair(ctx, user, key); err != nil {
			t.Fatalf("login %d: %v", i+2, err)
		}
	}
	_, err = ca.LoginKeyPair(ctx, user, key)
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != http.StatusTooManyRequests || ce.Code != "rate_limited" || ce.RetryAfter <= 0 {
		t.Fatalf("16th login across replicas: %v, want 429 rate_limited with Retry-After", err)
	}
}
