package verify

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sigil-auth/sigil/internal/testenv"
)

func TestMiddleware(t *testing.T) {
	e := newEnv(t, Config{})
	var seen *Principal
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, _ = FromContext(r.Context())
		w.WriteHeader(http.StatusNoContent)
	})
	mux := http.NewServeMux()
	mux.Handle("GET /read", RequireScope("read")(echo))
	mux.Handle("GET /admin", RequireScope("read", "billing:admin", "ops")(echo))
	mux.Handle("GET /open", echo)
	h := e.v.Middleware(mux)

	tests := []struct {
		name, path, auth string
		status           int
		code, challenge  string
	}{
		{"no credential", "/open", "", 401, "missing_credential", "Bearer"},
		{"empty bearer (as the server: the word is the token)", "/open", "Bearer ", 401, "invalid_token", `Bearer error="invalid_token"`},
		{"bad token", "/open", "Bearer nope", 401, "invalid_token", `Bearer error="invalid_token"`},
		{"refresh token", "/open", "Bearer " + e.owner.RefreshToken, 401, "invalid_token", `Bearer error="invalid_token"`},
		{"good, no scope needed", "/open", "Bearer " + e.owner.AccessToken, 204, "", ""},
		{"good, has scope", "/read", "Bearer " + e.owner.AccessToken, 204, "", ""},
		{"lowercase bearer", "/read", "bearer " + e.owner.AccessToken, 204, "", ""},
		{"API key, bare", "/read", e.apiKey, 204, "", ""},
		{"lacks scopes", "/admin", "Bearer " + e.owner.AccessToken, 403, "insufficient_scope",
			`Bearer error="insufficient_scope", scope="read billing:admin ops"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen = nil
			r := httptest.NewRequest("GET", tt.path, nil)
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("WWW-Authenticate %q, want %q", got, tt.challenge)
			}
			if tt.status == 204 {
				if seen == nil {
					t.Fatal("handler saw no principal")
				}
				return
			}
			if seen != nil {
				t.Error("handler ran for a refused request")
			}
			var body map[string]string
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("body %q (%v), Content-Type %q", w.Body, err, w.Header().Get("Content-Type"))
			}
			if body["error"] != tt.code || body["detail"] == "" {
				t.Errorf("body %v, want error %q and a detail", body, tt.code)
			}
		})
	}
}

// RequireScope without Middleware in front refuses rather than panics.
func TestRequireScopeAlone(t *testing.T) {
	h := RequireScope("read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("handler ran without a principal")
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 401 {
		t.Errorf("status %d, want 401", w.Code)
	}
	// And lets through a principal put there some other way.
	ok := false
	h = RequireScope("read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ok = true }))
	r := httptest.NewRequest("GET", "/", nil)
	h.ServeHTTP(httptest.NewRecorder(), r.WithContext(NewContext(r.Context(), &Principal{Scopes: []string{"read"}})))
	if !ok {
		t.Error("principal from NewContext not honoured")
	}
}

func TestWriteError(t *testing.T) {
	tests := []struct {
		err    error
		status int
		header [2]string
		body   string
	}{
		{ErrUnavailable, 503, [2]string{"Retry-After", "1"}, `{"error":"unavailable","detail":"the credential cannot be checked right now; retry shortly"}`},
		{errors.New("a secret cause"), 503, [2]string{"Retry-After", "1"}, `{"error":"unavailable","detail":"the credential cannot be checked right now; retry shortly"}`},
		{insufficientScope([]string{`we"ird`}), 403, [2]string{"WWW-Authenticate", `Bearer error="insufficient_scope", scope="we\"ird"`}, ""},
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		WriteError(w, tt.err)
		if w.Code != tt.status || w.Header().Get(tt.header[0]) != tt.header[1] {
			t.Errorf("%v: %d %v", tt.err, w.Code, w.Header())
		}
		if tt.body != "" && strings.TrimSpace(w.Body.String()) != tt.body {
			t.Errorf("%v: body %s", tt.err, w.Body)
		}
	}
	if !errors.Is(insufficientScope([]string{"x"}), ErrInsufficientScope) || errors.Is(ErrInvalidToken, ErrMissingCredential) {
		t.Error("errors.Is does not follow codes")
	}
}

func TestNewRefuses(t *testing.T) {
	e := newEnv(t, Config{})
	userTok := e.owner.AccessToken
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no issuer", Config{Credential: "x"}, "Issuer must be an http(s) URL"},
		{"no credential", Config{Issuer: issuer}, "Credential is required"},
		{"leeway over 60s", Config{Issuer: issuer, Credential: "x", Leeway: 61 * time.Second}, "Leeway"},
		{"negative grace", Config{Issuer: issuer, Credential: "x", FeedGrace: -1}, "FeedGrace"},
		{"issuer mismatch", Config{Issuer: "http://other.test", Credential: e.apiKey}, `discovery names issuer "http://sigil.test"`},
		{"unknown credential", Config{Issuer: issuer, Credential: validKey()}, "status 401 (invalid_token)"},
		{"a user's token", Config{Issuer: issuer, Credential: userTok}, `not a "user" credential`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.HTTPClient = &http.Client{Transport: &http.Transport{DialContext: e.net.dial}}
			cfg.Now = e.s.Clock.Now
			v, err := New(context.Background(), cfg)
			if err == nil {
				v.Close()
				t.Fatal("New succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
		})
	}
	// A cancelled start leaves nothing running.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New(ctx, Config{Issuer: issuer, Credential: testenv.AdminToken,
		HTTPClient: &http.Client{Transport: &http.Transport{DialContext: e.net.dial}}}); err == nil {
		t.Error("New with a cancelled context succeeded")
	}
}

// The principal a handler sees matches what the server says about the
// same credential (GET /v1/whoami).
func TestPrincipalMatchesWhoami(t *testing.T) {
	e := newEnv(t, Config{})
	for _, cred := range []string{e.owner.AccessToken, e.apiKey} {
		var who struct {
			Subject   string   `json:"subject"`
			Kind      string   `json:"kind"`
			Workspace string   `json:"workspace_id"`
			Scopes    []string `json:"scopes"`
			SessionID string   `json:"session_id"`
			Method    string   `json:"auth_method"`
		}
		e.call(t, "GET", "/v1/whoami", cred, nil, 200, &who)
		p := mustVerify(t, e.v, cred)
		got := []any{p.Subject, p.Kind, p.Workspace, p.Scopes, p.SessionID, p.AuthMethod}
		want := []any{who.Subject, who.Kind, who.Workspace, who.Scopes, who.SessionID, who.Method}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("principal vs whoami (-whoami +verify):\n%s", diff)
		}
	}
}
