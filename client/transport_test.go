package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/sigil-auth/sigil/client"
	"github.com/sigil-auth/sigil/internal/ratelimit"
	"github.com/sigil-auth/sigil/internal/testenv"
)

const routeCreateKey = "POST /v1/api-keys"

// postRequest is a JSON POST; oneShot hides the body's length and
// GetBody, as a streamed body would.
func postRequest(t *testing.T, url, body string, oneShot bool) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if oneShot {
		req.Body, req.GetBody, req.ContentLength = io.NopCloser(strings.NewReader(body)), nil, -1
	}
	req.Header.Set("Content-Type", "application/json")
	return req
}

func getRequest(t *testing.T, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestTransport401(t *testing.T) {
	ctx := context.Background()
	expire := func(_ *testing.T, e *env, _ client.Tokens) { e.srv.Clock.Add(accessTTL + time.Minute) }
	logout := func(t *testing.T, e *env, first client.Tokens) {
		if err := e.c.Logout(ctx, first.RefreshToken, false); err != nil {
			t.Fatal(err)
		}
	}
	createKey := func(oneShot bool) func(t *testing.T, e *env) *http.Request {
		return func(t *testing.T, e *env) *http.Request {
			return postRequest(t, e.srv.URL+"/v1/api-keys", `{"name":"replayed","scopes":["read"]}`, oneShot)
		}
	}
	tests := []struct {
		name string
		// lagging: the source's clock stays at the login while the
		// server's moves on, so it sends a token the server finds expired.
		lagging bool
		keyPair bool                                            // a KeyPairTokenSource rather than TokenSource
		prepare func(t *testing.T, e *env, first client.Tokens) // server-side change
		request func(t *testing.T, e *env) *http.Request
		status  int   // 0 when an error is expected
		err     error // errors.Is target
		want    map[string]int
	}{
		{
			name: "expired token: refreshed once, retried", lagging: true, prepare: expire,
			request: func(t *testing.T, e *env) *http.Request { return getRequest(t, e.srv.URL+"/") },
			status:  200, want: map[string]int{routeHello: 2, routeRefresh: 1},
		},
		{
			name: "revoked session: the refused refresh is the error", prepare: logout,
			request: func(t *testing.T, e *env) *http.Request { return getRequest(t, e.srv.URL+"/") },
			err:     client.ErrSessionEnded, want: map[string]int{routeHello: 1, routeRefresh: 1},
		},
		{
			name: "revoked session, key-pair source: logs in again, retried", keyPair: true, prepare: logout,
			request: func(t *testing.T, e *env) *http.Request { return getRequest(t, e.srv.URL+"/") },
			status:  200, want: map[string]int{routeHello: 2, routeRefresh: 1, routeCode: 1, routeKeyLogin: 1},
		},
		{
			name: "replayable body: sent again", lagging: true, prepare: expire,
			request: createKey(false),
			status:  201, want: map[string]int{routeCreateKey: 2, routeRefresh: 1},
		},
		{
			name: "one-shot body: the 401 is the answer", lagging: true, prepare: expire,
			request: createKey(true),
			status:  401, want: map[string]int{routeCreateKey: 1},
		},
		{
			// Another Sigil server knows none of this one's tokens: the
			// fresh token is refused too, and that 401 is the answer.
			name: "401 again after the refresh: returned, no loop",
			request: func(t *testing.T, e *env) *http.Request {
				other := testenv.Start(t, testenv.NewDatabase(t, "sqlite"), testenv.Options{})
				return getRequest(t, other.URL+"/")
			},
			status: 401, want: map[string]int{routeHello: 2, routeRefresh: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, testenv.Options{})
			first, key := e.register(t, "alice")
			loggedIn := e.srv.Clock.Now()
			clock := e.srv.Clock.Now
			if tt.lagging {
				clock = func() time.Time { return loggedIn }
			}
			ts := e.c.TokenSource(&first, client.WithClock(clock))
			if tt.keyPair {
				ts = e.c.KeyPairTokenSource("alice", key, client.WithTokens(&first), client.WithClock(clock))
			}
			hc := &http.Client{Transport: &client.Transport{Source: ts, Base: e.calls}}
			if tt.prepare != nil {
				tt.prepare(t, e, first)
			}
			// A bound, so that a retry loop fails the test instead of hanging it.
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			req := tt.request(t, e).WithContext(ctx)
			e.calls.take()

			resp, err := hc.Do(req)
			if tt.err != nil {
				var apiErr *client.Error
				if !errors.Is(err, tt.err) || !errors.As(err, &apiErr) || apiErr.Status != 401 {
					t.Fatalf("error %v, want %v wrapping the server's 401", err, tt.err)
				}
			} else if err != nil {
				t.Fatal(err)
			} else {
				defer resp.Body.Close()
				if resp.StatusCode != tt.status {
					b, _ := io.ReadAll(resp.Body)
					t.Fatalf("status %d (%s), want %d", resp.StatusCode, b, tt.status)
				}
			}
			if diff := cmp.Diff(tt.want, e.calls.take()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
			if resp != nil && resp.StatusCode == 201 {
				var k client.NewAPIKey
				if err := json.NewDecoder(resp.Body).Decode(&k); err != nil || k.Name != "replayed" {
					t.Errorf("created %+v (%v): the replayed body was lost", k, err)
				}
			}
			if tt.err == nil {
				return
			}
			// The session is over: later requests fail without asking.
			if _, err := hc.Do(getRequest(t, e.srv.URL+"/")); !errors.Is(err, client.ErrSessionEnded) {
				t.Errorf("next request: %v, want ErrSessionEnded", err)
			}
			if diff := cmp.Diff(map[string]int{}, e.calls.take()); diff != "" {
				t.Errorf("requests after the end (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTransport429(t *testing.T) {
	// idexists is limited per client IP (login_ip) and takes no
	// credential: a stand-in token is enough to go through the Transport.
	const wait = time.Minute // Retry-After of a full 1/m window
	tests := []struct {
		name     string
		maxWait  time.Duration
		retries  int
		timeout  time.Duration // request context; 0: none
		advance  bool          // Sleep moves the server's clock on (else the limit still holds)
		cancel   bool          // Sleep sees its context cancelled
		oneShot  bool          // POST /v1/auth/code with a body that cannot be sent again
		status   int           // 0 when an error is expected
		err      error
		sleeps   []time.Duration
		requests int
	}{
		{name: "waits Retry-After, retries", advance: true, status: 200, sleeps: []time.Duration{wait}, requests: 2},
		{name: "still limited after the wait: one retry only", status: 429, sleeps: []time.Duration{wait}, requests: 2},
		{name: "two retries when asked", retries: 2, status: 429, sleeps: []time.Duration{wait, wait}, requests: 3},
		{name: "Retry-After over MaxWait: the 429 at once", maxWait: wait - time.Second, status: 429, requests: 1},
		{name: "retries off", retries: -1, status: 429, requests: 1},
		{name: "deadline before Retry-After: the 429 at once", timeout: 10 * time.Second, status: 429, requests: 1},
		{name: "cancelled while waiting", cancel: true, err: context.Canceled, sleeps: []time.Duration{wait}, requests: 1},
		{name: "one-shot body: not retried", oneShot: true, advance: true, status: 429, requests: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, testenv.Options{Limits: map[string]ratelimit.Rule{ratelimit.LoginIP: {Limit: 1, Window: time.Minute}}})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.timeout > 0 {
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			stand := &client.Tokens{AccessToken: "stand-in", AccessTokenExpires: e.srv.Clock.Now().Add(24 * time.Hour).UnixMilli()}
			var sleeps []time.Duration
			tr := &client.Transport{
				Source: e.c.TokenSource(stand, client.WithClock(e.srv.Clock.Now)),
				Base:   e.calls, MaxWait: tt.maxWait, RateLimitRetries: tt.retries,
				Sleep: func(ctx context.Context, d time.Duration) error {
					sleeps = append(sleeps, d)
					if tt.cancel {
						cancel()
						return ctx.Err()
					}
					if tt.advance {
						e.srv.Clock.Add(d)
					}
					return nil
				},
			}
			if _, err := e.c.IDExists(ctx, "nobody"); err != nil { // uses up the window
				t.Fatal(err)
			}
			req := getRequest(t, e.srv.URL+"/v1/auth/idexists/nobody")
			route := "GET /v1/auth/idexists/nobody"
			if tt.oneShot {
				req = postRequest(t, e.srv.URL+"/v1/auth/code", `{"user_id":"nobody"}`, true)
				route = routeCode
			}
			e.calls.take()

			resp, err := (&http.Client{Transport: tr}).Do(req.WithContext(ctx))
			switch {
			case tt.err != nil:
				if !errors.Is(err, tt.err) {
					t.Fatalf("error %v, want %v", err, tt.err)
				}
			case err != nil:
				t.Fatal(err)
			default:
				resp.Body.Close()
				if resp.StatusCode != tt.status {
					t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
				}
				if tt.status == 429 && resp.Header.Get("Retry-After") == "" {
					t.Error("the 429 handed back lost its Retry-After")
				}
			}
			if diff := cmp.Diff(tt.sleeps, sleeps); diff != "" {
				t.Errorf("sleeps (-want +got):\n%s", diff)
			}
			if got := e.calls.take()[route]; got != tt.requests {
				t.Errorf("%d requests, want %d", got, tt.requests)
			}
		})
	}
}

// A stock golang.org/x/oauth2 consumer uses the source unchanged.
func TestOAuth2ClientUsesTokenSource(t *testing.T) {
	e := newEnv(t, testenv.Options{})
	_, key := e.register(t, "alice")
	ts := e.c.KeyPairTokenSource("alice", key, client.WithClock(e.srv.Clock.Now))
	hc := oauth2.NewClient(context.Background(), ts)

	resp, err := hc.Get(e.srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Message string `json:"message"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /: %d, %v", resp.StatusCode, err)
	}
	if body.Message != "Oh, Hello" {
		t.Errorf("message %q, want %q", body.Message, "Oh, Hello")
	}
}
