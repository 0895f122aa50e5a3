package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sigil-auth/sigil/client"
	"github.com/sigil-auth/sigil/internal/testenv"
)

// Key-pair sessions: access tokens live 25 minutes, refresh tokens 30
// (API.md §3).
const (
	accessTTL  = 25 * time.Minute
	refreshTTL = 30 * time.Minute
)

func TestTokenSourceRefreshesBeforeExpiry(t *testing.T) {
	e := newEnv(t, testenv.Options{})
	tests := []struct {
		name        string
		advance     time.Duration // from the login
		wantRefresh bool
	}{
		{"fresh", 10 * time.Minute, false},
		{"just before the skew", accessTTL - client.DefaultExpirySkew - time.Second, false},
		{"inside the skew", accessTTL - client.DefaultExpirySkew + time.Second, true},
		{"expired", accessTTL + time.Minute, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first, _ := e.register(t, fmt.Sprintf("user%d", i))
			var saved []client.Tokens
			ts := e.c.TokenSource(&first, client.WithClock(e.srv.Clock.Now),
				client.WithOnRefresh(func(t *client.Tokens) { saved = append(saved, *t) }))
			e.srv.Clock.Add(tt.advance)
			e.calls.take()

			got, err := ts.Token()
			if err != nil {
				t.Fatal(err)
			}
			calls := e.calls.take()
			if !tt.wantRefresh {
				if diff := cmp.Diff(map[string]int{}, calls); diff != "" {
					t.Errorf("requests (-want +got):\n%s", diff)
				}
				if got.AccessToken != first.AccessToken || !got.Expiry.Equal(first.AccessExpiry()) || len(saved) != 0 {
					t.Errorf("got %q expiring %v (saved %d), want the login's token expiring %v",
						got.AccessToken, got.Expiry, len(saved), first.AccessExpiry())
				}
				return
			}
			if diff := cmp.Diff(map[string]int{routeRefresh: 1}, calls); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
			if got.AccessToken == first.AccessToken || got.TokenType != "Bearer" {
				t.Errorf("got %+v, want a new bearer token", got)
			}
			if want := e.srv.Clock.Now().Add(accessTTL); !got.Expiry.Equal(want) {
				t.Errorf("expiry %v, want %v", got.Expiry, want)
			}
			if len(saved) != 1 || saved[0].RefreshToken == first.RefreshToken || saved[0].SessionID != first.SessionID {
				t.Fatalf("OnRefresh got %+v, want one rotated pair of session %s", saved, first.SessionID)
			}
			if diff := cmp.Diff(&saved[0], ts.Tokens()); diff != "" {
				t.Errorf("Tokens() differs from what OnRefresh saw (-saved +Tokens):\n%s", diff)
			}
			id, err := e.c.Whoami(context.Background(), got.AccessToken)
			if err != nil || id.SessionID != first.SessionID {
				t.Errorf("whoami with the new token: %+v, %v", id, err)
			}
			// The refreshed token is replaced inside the skew in turn.
			for _, step := range []struct {
				before  time.Duration // before got.Expiry
				refresh int
			}{{client.DefaultExpirySkew + time.Second, 0}, {client.DefaultExpirySkew - time.Second, 1}} {
				e.srv.Clock.Set(got.Expiry.Add(-step.before))
				if _, err := ts.Token(); err != nil {
					t.Fatal(err)
				}
				if n := e.calls.take()[routeRefresh]; n != step.refresh {
					t.Errorf("%v before the new expiry: %d refreshes, want %d", step.before, n, step.refresh)
				}
			}
		})
	}
}

func TestTokenSourceShortLivedTokens(t *testing.T) {
	e := newEnv(t, testenv.Options{})
	// 90 s tokens: a 60 s skew would refresh every 30 s of use; the source
	// replaces them at half their lifetime instead.
	adminCall(t, http.MethodPatch, e.srv.URL+"/v1/workspaces/"+e.ws, `{"access_token_ttl":"90s"}`, http.StatusOK, &struct{}{})
	first, _ := e.register(t, "alice")
	if first.ExpiresIn != 90 {
		t.Fatalf("expires_in %d, want 90", first.ExpiresIn)
	}
	ts := e.c.TokenSource(&first, client.WithClock(e.srv.Clock.Now))
	start := e.srv.Clock.Now()
	e.calls.take()
	for _, step := range []struct {
		at      time.Duration
		refresh int
	}{{44 * time.Second, 0}, {46 * time.Second, 1}, {46*time.Second + 44*time.Second, 0}, {46*time.Second + 46*time.Second, 1}} {
		e.srv.Clock.Set(start.Add(step.at))
		if _, err := ts.Token(); err != nil {
			t.Fatal(err)
		}
		if n := e.calls.take()[routeRefresh]; n != step.refresh {
			t.Errorf("at %v: %d refreshes, want %d", step.at, n, step.refresh)
		}
	}
}

// holdRefresh makes e's Client hold every refresh request until release
// is closed; arrived gets one value per held request.
func holdRefresh(e *env) (arrived chan struct{}, release chan struct{}) {
	arrived, release = make(chan struct{}, 64), make(chan struct{})
	e.calls.setHook(func(r *http.Request) {
		if r.URL.Path == "/v1/auth/refresh" {
			arrived <- struct{}{}
			<-release
		}
	})
	return arrived, release
}

func TestTokenSourceConcurrentCallersShareOneRefresh(t *testing.T) {
	e := newEnv(t, testenv.Options{})
	first, _ := e.register(t, "alice")
	ts := e.c.TokenSource(&first, client.WithClock(e.srv.Clock.Now))
	e.srv.Clock.Add(accessTTL) // due
	e.calls.take()
	arrived, release := holdRefresh(e)

	const callers = 16
	var started, done sync.WaitGroup
	got := make([]string, callers)
	errs := make([]error, callers)
	for i := range callers {
		started.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			started.Done()
			tok, err := ts.Token()
			if err == nil {
				got[i] = tok.AccessToken
			}
			errs[i] = err
		}()
	}
	// The first refresh is held at the wire until every caller is running,
	// so the others arrive while it is in flight.
	started.Wait()
	<-arrived
	close(release)
	done.Wait()

	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{routeRefresh: 1}, e.calls.take()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	for i, tok := range got {
		if tok != got[0] || tok == first.AccessToken {
			t.Fatalf("caller %d got %q, caller 0 %q: all must share the one new token", i, tok, got[0])
		}
	}
}

func TestTokenContextGivesUpButTheRefreshIsKept(t *testing.T) {
	e := newEnv(t, testenv.Options{})
	first, _ := e.register(t, "alice")
	ts := e.c.TokenSource(&first, client.WithClock(e.srv.Clock.Now))
	e.srv.Clock.Add(accessTTL)
	e.calls.take()
	arrived, release := holdRefresh(e)

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := ts.TokenContext(ctx); errc <- err }()
	<-arrived // the refresh is on the wire
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("TokenContext after cancel: %v, want context.Canceled", err)
	}
	close(release)

	tok, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{routeRefresh: 1}, e.calls.take()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if tok.AccessToken == first.AccessToken || ts.Tokens().RefreshToken == first.RefreshToken {
		t.Error("the abandoned refresh's rotated pair was not kept")
	}
}

func TestTokenSourcePersistsRotation(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, testenv.Options{})
	first, _ := e.register(t, "alice")
	var saved []client.Tokens
	ts := e.c.TokenSource(&first, client.WithClock(e.srv.Clock.Now),
		client.WithOnRefresh(func(t *client.Tokens) { saved = append(saved, *t) }))
	for range 2 {
		e.srv.Clock.Add(accessTTL)
		if _, err := ts.Token(); err != nil {
			t.Fatal(err)
		}
	}
	if len(saved) != 2 {
		t.Fatalf("OnRefresh called %d times, want 2", len(saved))
	}
	seen := map[string]bool{first.RefreshToken: true}
	for i, s := range saved {
		if seen[s.RefreshToken] || s.SessionID != first.SessionID {
			t.Fatalf("save %d: refresh token not rotated, or session %q changed", i, s.SessionID)
		}
		seen[s.RefreshToken] = true
	}
	if diff := cmp.Diff(&saved[1], ts.Tokens()); diff != "" {
		t.Errorf("Tokens() is not the last saved pair (-saved +Tokens):\n%s", diff)
	}

	// A restarted process resumes from what was persisted.
	e.srv.Clock.Add(accessTTL)
	restarted := e.c.TokenSource(&saved[1], client.WithClock(e.srv.Clock.Now))
	tok, err := restarted.Token()
	if err != nil {
		t.Fatalf("refresh from the persisted pair: %v", err)
	}
	if id, err := e.c.Whoami(ctx, tok.AccessToken); err != nil || id.SessionID != first.SessionID {
		t.Fatalf("whoami: %+v, %v", id, err)
	}
	// The rotated-away token is dead: presenting it is reuse.
	var apiErr *client.Error
	if _, err := e.c.Refresh(ctx, saved[0].RefreshToken); !errors.As(err, &apiErr) || apiErr.Code != "refresh_token_reused" {
		t.Fatalf("refresh with a rotated-away token: %v, want refresh_token_reused", err)
	}
}

func TestKeyPairTokenSource(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, testenv.Options{})
	login := map[string]int{routeCode: 1, routeKeyLogin: 1}
	tests := []struct {
		name       string
		saved      bool // start from the registration's tokens
		prepare    func(t *testing.T, tok client.Tokens)
		want       map[string]int
		newSession bool
	}{
		{name: "no tokens: logs in", want: login, newSession: true},
		{name: "saved tokens are used", saved: true, want: map[string]int{}},
		{
			name: "saved tokens are refreshed when due", saved: true,
			prepare: func(*testing.T, client.Tokens) { e.srv.Clock.Add(accessTTL) },
			want:    map[string]int{routeRefresh: 1},
		},
		{
			name: "revoked session: the refresh is refused, logs in again", saved: true,
			prepare: func(t *testing.T, tok client.Tokens) {
				if err := e.c.Logout(ctx, tok.RefreshToken, false); err != nil {
					t.Fatal(err)
				}
				e.srv.Clock.Add(accessTTL)
			},
			want:       map[string]int{routeRefresh: 1, routeCode: 1, routeKeyLogin: 1},
			newSession: true,
		},
		{
			name: "expired refresh token: logs in without trying it", saved: true,
			prepare:    func(*testing.T, client.Tokens) { e.srv.Clock.Add(refreshTTL) },
			want:       login,
			newSession: true,
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := fmt.Sprintf("user%d", i)
			first, key := e.register(t, id)
			saves := 0
			opts := []client.SourceOption{client.WithClock(e.srv.Clock.Now), client.WithOnRefresh(func(*client.Tokens) { saves++ })}
			if tt.saved {
				opts = append(opts, client.WithTokens(&first))
			}
			ts := e.c.KeyPairTokenSource(id, key, opts...)
			if tt.prepare != nil {
				tt.prepare(t, first)
			}
			e.calls.take()

			tok, err := ts.Token()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, e.calls.take()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
			if wantSaves := min(len(tt.want), 1); saves != wantSaves {
				t.Errorf("OnRefresh called %d times, want %d", saves, wantSaves)
			}
			who, err := e.c.Whoami(ctx, tok.AccessToken)
			if err != nil || who.Subject != id {
				t.Fatalf("whoami: %+v, %v", who, err)
			}
			if (who.SessionID != first.SessionID) != tt.newSession {
				t.Errorf("session %s after %s, want new session: %v", who.SessionID, first.SessionID, tt.newSession)
			}
		})
	}
}

// Near a session's maximum age the server caps every token at the
// session's end: the source then keeps the last one instead of refreshing
// ever more often, and logs in again once the session is over.
func TestKeyPairTokenSourceAtSessionEnd(t *testing.T) {
	e := newEnv(t, testenv.Options{})
	adminCall(t, http.MethodPatch, e.srv.URL+"/v1/workspaces/"+e.ws, `{"session_max_age":"30m"}`, http.StatusOK, &struct{}{})
	first, key := e.register(t, "alice")
	ts := e.c.KeyPairTokenSource("alice", key, client.WithTokens(&first), client.WithClock(e.srv.Clock.Now))
	start := e.srv.Clock.Now()
	e.calls.take()
	steps := []struct {
		name string
		at   time.Duration
		want map[string]int
	}{
		{"inside the skew: refreshed, capped at the end", accessTTL - time.Minute + time.Second, map[string]int{routeRefresh: 1}},
		{"inside the skew again: refreshed, no longer life", 29*time.Minute + time.Second, map[string]int{routeRefresh: 1}},
		{"kept until the session ends", 29*time.Minute + 45*time.Second, map[string]int{}},
		// The refresh token dies with the session, so it is not even tried.
		{"session over: logs in", 30 * time.Minute, map[string]int{routeCode: 1, routeKeyLogin: 1}},
	}
	for _, st := range steps {
		e.srv.Clock.Set(start.Add(st.at))
		if _, err := ts.Token(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if diff := cmp.Diff(st.want, e.calls.take()); diff != "" {
			t.Errorf("%s: requests (-want +got):\n%s", st.name, diff)
		}
	}
	if got := ts.Tokens().SessionID; got == first.SessionID {
		t.Errorf("still session %s after its end", got)
	}
}

// A password source logs in at first use, then refreshes; once the
// session is ended (logout everywhere) it logs in again. A wrong password
// is the server's refusal, and nothing is retried in a loop.
func TestPasswordTokenSource(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, testenv.Options{})
	if _, err := client.New(e.srv.URL).Signup(ctx, "pat@example.com", "correct horse battery staple", e.join); err != nil {
		t.Fatal(err)
	}
	ts := e.c.PasswordTokenSource("pat@example.com", "correct horse battery staple", client.WithClock(e.srv.Clock.Now))
	e.calls.take()
	first, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{routeLogin: 1}, e.calls.take()); diff != "" {
		t.Errorf("first use (-want +got):\n%s", diff)
	}
	e.srv.Clock.Set(first.Expiry.Add(-client.DefaultExpirySkew + time.Second)) // inside the skew
	refreshed, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{routeRefresh: 1}, e.calls.take()); diff != "" {
		t.Errorf("near expiry (-want +got):\n%s", diff)
	}
	if err := e.c.Logout(ctx, ts.Tokens().RefreshToken, true); err != nil {
		t.Fatal(err)
	}
	e.srv.Clock.Set(refreshed.Expiry) // the access token has expired too
	e.calls.take()
	again, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{routeRefresh: 1, routeLogin: 1}, e.calls.take()); diff != "" {
		t.Errorf("after logout (-want +got):\n%s", diff)
	}
	if again.AccessToken == first.AccessToken {
		t.Error("the ended session's token came back")
	}

	wrong := e.c.PasswordTokenSource("pat@example.com", "wrong", client.WithClock(e.srv.Clock.Now))
	var ce *client.Error
	if _, err := wrong.Token(); !errors.As(err, &ce) || ce.Status != http.StatusUnauthorized || ce.Code != "invalid_credentials" {
		t.Errorf("wrong password: %v", err)
	}
}

func TestAPIKeyTokenSource(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, testenv.Options{})
	owner, _ := e.register(t, "owner")
	k, err := e.c.CreateAPIKey(ctx, owner.AccessToken, client.APIKeyRequest{Name: "svc", Scopes: []string{"read"}})
	if err != nil {
		t.Fatal(err)
	}
	start := e.srv.Clock.Now()
	ts := e.c.APIKeyTokenSource(k.Key, "job-1", client.WithClock(e.srv.Clock.Now))
	e.calls.take()

	// Exchanged tokens live 2 h, and the server returns the live token
	// again to the same (key, session id).
	const ttl = 2 * time.Hour
	steps := []struct {
		name     string
		at       time.Duration // since start
		exchange int
		same     bool // the previous step's token
	}{
		{"first use exchanges", 0, 1, false},
		{"fresh: cached", time.Hour, 0, true},
		{"inside the skew: asks, gets the same token back", ttl - 30*time.Second, 1, true},
		{"that token is kept until it expires", ttl - time.Second, 0, true},
		{"expired: a new token", ttl, 1, false},
		{"fresh again: cached", ttl + time.Minute, 0, true},
	}
	prev := ""
	for _, st := range steps {
		e.srv.Clock.Set(start.Add(st.at))
		tok, err := ts.Token()
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if n := e.calls.take()[routeLogin]; n != st.exchange {
			t.Errorf("%s: %d exchanges, want %d", st.name, n, st.exchange)
		}
		if (tok.AccessToken == prev) != st.same {
			t.Errorf("%s: same token as before: %v, want %v", st.name, tok.AccessToken == prev, st.same)
		}
		prev = tok.AccessToken
	}
	who, err := e.c.Whoami(ctx, prev)
	if err != nil || who.Kind != "api_key" || who.Subject != k.ID {
		t.Fatalf("whoami: %+v, %v", who, err)
	}
}

func TestTokenSourceWithoutRefreshToken(t *testing.T) {
	e := newEnv(t, testenv.Options{})
	tests := []struct {
		name    string
		initial *client.Tokens
	}{
		{"no tokens", nil},
		{"access token only, expired", &client.Tokens{AccessToken: "x", AccessTokenExpires: e.srv.Clock.Now().UnixMilli()}},
		{"access token of unknown expiry", &client.Tokens{AccessToken: "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.calls.take()
			_, err := e.c.TokenSource(tt.initial, client.WithClock(e.srv.Clock.Now)).Token()
			if !errors.Is(err, client.ErrSessionEnded) {
				t.Errorf("Token: %v, want ErrSessionEnded", err)
			}
			if diff := cmp.Diff(map[string]int{}, e.calls.take()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}
