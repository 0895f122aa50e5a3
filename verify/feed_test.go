package verify

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/client"
)

// Every way a session ends reaches a Verifier through the feed within a
// second, without the Verifier asking the server about the token again.
func TestRevokedSessionRefusedWithin1s(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	// Each case opens a session, returns its access token and a func
	// that ends the session.
	session := func(t *testing.T, user string) (*client.Tokens, string) {
		tok := e.login(t, user)
		return tok, tok.AccessToken
	}
	e.register(t, "bob")
	tests := []struct {
		name  string
		start func(t *testing.T) (string, func(t *testing.T))
	}{
		{"logout with the access token", func(t *testing.T) (string, func(*testing.T)) {
			_, at := session(t, "owner")
			return at, func(t *testing.T) { e.call(t, "POST", "/v1/auth/logout", at, nil, 204, nil) }
		}},
		{"logout with the refresh token", func(t *testing.T) (string, func(*testing.T)) {
			tok, at := session(t, "owner")
			return at, func(t *testing.T) {
				if err := e.c.Logout(ctx, tok.RefreshToken, false); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{"logout all", func(t *testing.T) (string, func(*testing.T)) {
			_, at := session(t, "bob")
			_, other := session(t, "bob")
			return at, func(t *testing.T) {
				e.call(t, "POST", "/v1/auth/logout", other, map[string]bool{"all": true}, 204, nil)
			}
		}},
		{"DELETE /v1/sessions/{id}", func(t *testing.T) (string, func(*testing.T)) {
			tok, at := session(t, "owner")
			return at, func(t *testing.T) {
				e.call(t, "DELETE", "/v1/sessions/"+tok.SessionID, e.owner.AccessToken, nil, 204, nil)
			}
		}},
		{"POST /oauth2/revoke", func(t *testing.T) (string, func(*testing.T)) {
			tok, at := session(t, "owner")
			return at, func(t *testing.T) { e.form(t, "/oauth2/revoke", url.Values{"token": {tok.RefreshToken}}) }
		}},
		{"refresh token reused", func(t *testing.T) (string, func(*testing.T)) {
			e.call(t, "PATCH", "/v1/workspaces/"+e.ws, e.owner.AccessToken, map[string]string{"refresh_grace": "0s"}, 200, nil)
			tok, at := session(t, "owner")
			return at, func(t *testing.T) {
				if _, err := e.c.Refresh(ctx, tok.RefreshToken); err != nil {
					t.Fatal(err)
				}
				e.c.Refresh(ctx, tok.RefreshToken) // reuse: the server ends the session
			}
		}},
		{"API key revoked (a token exchanged for it)", func(t *testing.T) (string, func(*testing.T)) {
			k, err := e.c.CreateAPIKey(ctx, e.owner.AccessToken, client.APIKeyRequest{Name: "job", Scopes: []string{"read"}})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := e.c.ExchangeAPIKey(ctx, k.Key, "nightly")
			if err != nil {
				t.Fatal(err)
			}
			return tok.AccessToken, func(t *testing.T) {
				e.call(t, "DELETE", "/v1/api-keys/"+k.ID, e.owner.AccessToken, nil, 204, nil)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, end := tt.start(t)
			mustVerify(t, e.v, tok) // confirmed live, trusted locally from now on
			asked := e.net.count("/oauth2/introspect")
			end(t)
			d := refusedWithin(t, e.v, tok, time.Second)
			t.Logf("refused %v after the revocation", d)
			if n := e.net.count("/oauth2/introspect"); n != asked {
				t.Errorf("asked the server %d times; the feed alone should refuse it", n-asked)
			}
		})
	}
	mustVerify(t, e.v, e.owner.AccessToken) // other sessions are untouched
}

// session starts a new session of the owner.
func (e *env) session(t *testing.T) *client.Tokens { return e.login(t, "owner") }

// form posts an OAuth2 form to the server with the API key.
func (e *env) form(t *testing.T, path string, f url.Values) {
	t.Helper()
	req, _ := http.NewRequest("POST", e.s.URL+path, strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+e.apiKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("POST %s: %d", path, res.StatusCode)
	}
}

// A session that ended before the Verifier started is refused too: its
// first token is checked with the server.
func TestSessionEndedBeforeStart(t *testing.T) {
	e := newEnv(t, Config{})
	tok := e.session(t)
	e.call(t, "POST", "/v1/auth/logout", tok.AccessToken, nil, 204, nil)
	v := e.verifier(t, Config{Credential: e.apiKey})
	if _, err := v.VerifyToken(context.Background(), tok.AccessToken); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("ended session: %v, want invalid_token", err)
	}
	asked := e.net.count("/oauth2/introspect")
	v.VerifyToken(context.Background(), tok.AccessToken)
	if n := e.net.count("/oauth2/introspect"); n != asked {
		t.Error("the server's refusal was not reused within the second")
	}
}

// After a dropped connection the feed resumes from its cursor: a
// revocation made while it was away is applied from the replay, and
// sessions confirmed before the drop stay trusted without asking again.
func TestFeedResumes(t *testing.T) {
	e := newEnv(t, Config{})
	a, b, c := e.session(t), e.session(t), e.session(t)
	for _, tok := range []*client.Tokens{a, b, c} {
		mustVerify(t, e.v, tok.AccessToken)
	}
	// One event first, so the feed has a cursor to resume from.
	e.call(t, "POST", "/v1/auth/logout", c.AccessToken, nil, 204, nil)
	refusedWithin(t, e.v, c.AccessToken, time.Second)
	cursor, epoch := e.v.feed.lastID(), e.epoch()
	if cursor == "" {
		t.Fatal("no cursor after an event")
	}

	release := e.net.hold() // reconnects wait
	e.net.cut()
	waitFor(t, "the feed to notice the drop", func() bool { return !e.up() })
	e.call(t, "POST", "/v1/auth/logout", a.AccessToken, nil, 204, nil) // missed while away
	asked := e.net.count("/oauth2/introspect")
	// Within FeedGrace (the test clock stands still) the Verifier cannot
	// know yet: the replay is what tells it.
	mustVerify(t, e.v, a.AccessToken)
	release()

	refusedWithin(t, e.v, a.AccessToken, time.Second)
	mustVerify(t, e.v, b.AccessToken)
	if n := e.net.count("/oauth2/introspect"); n != asked {
		t.Errorf("asked the server %d times after resuming; the replay should suffice", n-asked)
	}
	if e.epoch() != epoch {
		t.Error("resuming from a cursor voided the confirmed sessions")
	}
	if e.v.feed.lastID() == cursor {
		t.Error("cursor did not advance past the replayed event")
	}
}

// A cursor the server cannot resume from gets a reset: every confirmed
// session is asked about again.
func TestFeedReset(t *testing.T) {
	e := newEnv(t, Config{})
	tok := e.session(t)
	mustVerify(t, e.v, tok.AccessToken)
	// The stream's first event (the server's reset of a start without a
	// cursor) must be in before the cursor is replaced: arriving later, it
	// would overwrite it with a good one (seen once on a busy machine).
	waitFor(t, "the feed's first event", func() bool { return e.up() && e.v.feed.lastID() != "" })
	epoch := e.epoch()
	e.v.feed.mu.Lock()
	e.v.feed.cursor = "0000-1" // another replica's
	e.v.feed.mu.Unlock()
	e.net.cut()
	waitFor(t, "the reset", func() bool { return e.epoch() != epoch })
	asked := e.net.count("/oauth2/introspect")
	waitFor(t, "the feed to reconnect", e.up)
	mustVerify(t, e.v, tok.AccessToken)
	if n := e.net.count("/oauth2/introspect"); n != asked+1 {
		t.Errorf("after a reset the session was asked about %d times, want 1", n-asked)
	}
}

// While the server is unreachable, confirmed sessions stay trusted for
// FeedGrace; then whatever needs the server is refused with 503, and all
// is well again once the feed is back.
func TestServerUnreachable(t *testing.T) {
	e := newEnv(t, Config{FeedGrace: 2 * time.Second})
	ctx := context.Background()
	mustVerify(t, e.v, e.owner.AccessToken)
	e.net.setDown(true)
	e.net.cut()
	waitFor(t, "the feed to notice the drop", func() bool { return !e.up() })

	mustVerify(t, e.v, e.owner.AccessToken)
	if _, err := e.v.VerifyToken(ctx, e.apiKey); !errors.Is(err, ErrUnavailable) {
		t.Errorf("API key with the server down: %v, want unavailable", err)
	}
	if _, err := e.v.VerifyToken(ctx, e.session(t).AccessToken); !errors.Is(err, ErrUnavailable) {
		t.Errorf("new session with the server down: %v, want unavailable", err)
	}
	e.s.Clock.Add(2*time.Second + time.Millisecond)
	if _, err := e.v.VerifyToken(ctx, e.owner.AccessToken); !errors.Is(err, ErrUnavailable) {
		t.Errorf("after FeedGrace: %v, want unavailable", err)
	}

	e.net.setDown(false)
	waitFor(t, "the feed to reconnect", e.up)
	mustVerify(t, e.v, e.owner.AccessToken)
	mustVerify(t, e.v, e.apiKey)
}

func (e *env) epoch() uint64 {
	e.v.sessions.mu.Lock()
	defer e.v.sessions.mu.Unlock()
	return e.v.sessions.epoch
}

func (e *env) up() bool {
	e.v.sessions.mu.Lock()
	defer e.v.sessions.mu.Unlock()
	return e.v.sessions.up
}

// waitFor polls cond for up to 10 s (reconnects back off).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// The stream parser, fed by hand: field syntax, multi-line data, ids on
// their own, comments, unknown events and bad data.
func TestFeedParse(t *testing.T) {
	tests := []struct {
		name       string
		stream     string
		dead       []string
		cursor     string
		epochDelta uint64
	}{
		{"one event", "id: r-1\nevent: revoke\ndata: {\"sid\":\"ses_a\"}\n\n", []string{"ses_a"}, "r-1", 0},
		{"CRLF, no space after colon", "id:r-2\r\nevent:revoke\r\ndata:{\"sid\":\"ses_b\"}\r\n\r\n", []string{"ses_b"}, "r-2", 0},
		{"data over two lines", "event: revoke\ndata: {\"sid\":\ndata: \"ses_c\"}\n\n", []string{"ses_c"}, "", 0},
		{"id alone, comments", ": ping\n\nid: r-9\n\n: ping\n\n", nil, "r-9", 0},
		{"id with NUL ignored", "id: r\x00x\nevent: revoke\ndata: {\"sid\":\"ses_d\"}\n\n", []string{"ses_d"}, "", 0},
		{"unknown event, bad data", "id: r-3\nevent: hello\ndata: x\n\nid: r-4\nevent: revoke\ndata: nope\n\n", nil, "r-4", 0},
		{"reset", "id: r-5\nevent: reset\ndata: {}\n\n", nil, "r-5", 1},
		{"incomplete event not applied", "id: r-6\nevent: revoke\ndata: {\"sid\":\"ses_e\"}\n", nil, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := bareVerifier()
			epoch := v.sessions.epoch
			if err := v.feed.read(nopCloser{strings.NewReader(tt.stream)}); err == nil {
				t.Error("read returned nil at the end of the stream")
			}
			var dead []string
			for sid, e := range v.sessions.m {
				if e.dead {
					dead = append(dead, sid)
				}
			}
			if strings.Join(dead, ",") != strings.Join(tt.dead, ",") {
				t.Errorf("dead %v, want %v", dead, tt.dead)
			}
			if got := v.feed.lastID(); got != tt.cursor {
				t.Errorf("cursor %q, want %q", got, tt.cursor)
			}
			if d := v.sessions.epoch - epoch; d != tt.epochDelta {
				t.Errorf("epoch moved by %d, want %d", d, tt.epochDelta)
			}
		})
	}
}

func FuzzFeedParse(f *testing.F) {
	f.Add("id: r-1\nevent: revoke\ndata: {\"sid\":\"ses_a\",\"api_key\":\"ak_b\"}\n\n")
	f.Add("event: reset\ndata: {}\n\n: ping\n\n")
	f.Add("data\nid\nevent\n\n:\n\n\r\n")
	f.Fuzz(func(t *testing.T, stream string) {
		v := bareVerifier()
		v.feed.read(nopCloser{strings.NewReader(stream)})
	})
}

type nopCloser struct{ io.Reader }

func (nopCloser) Close() error { return nil }

// bareVerifier has what the feed parser touches, and no network.
func bareVerifier() *Verifier {
	now := func() time.Time { return time.Unix(1e9, 0) }
	v := &Verifier{log: slog.New(slog.DiscardHandler), now: now,
		sessions: newSessionTable(now, time.Second), intro: newIntrospector("", nil, now)}
	v.feed = &feed{log: v.log, on: v.revoked, setUp: v.sessions.setUp}
	return v
}
