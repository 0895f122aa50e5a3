package client

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// These tests pin the requests the SDK sends (method, path, credential,
// JSON body) to the contract of API.md §4–§5, and how it reads the
// answers. The end-to-end tests in cmd/sigil run the same calls against
// the real server; this checks the parts they cannot see, such as a
// field left out rather than sent empty.

// seen is one request as the server received it.
type seen struct {
	Method, Path, Auth string
	Body               map[string]any // nil when there was no body
}

// recorder answers every request with the next canned reply and keeps
// what it received.
type recorder struct {
	mu      sync.Mutex
	got     []seen
	replies []reply
}

type reply struct {
	status int
	body   string
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	s := seen{Method: req.Method, Path: req.URL.RequestURI(), Auth: req.Header.Get("Authorization")}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &s.Body); err != nil {
			s.Body = map[string]any{"<not json>": string(b)}
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, s)
	rep := reply{http.StatusInternalServerError, `{"error":"internal","detail":"no reply queued"}`}
	if len(r.replies) > 0 {
		rep, r.replies = r.replies[0], r.replies[1:]
	}
	if rep.body != "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(rep.status)
	io.WriteString(w, rep.body)
}

const (
	tokenBody  = `{"access_token":"at","refresh_token":"rt","token_type":"Bearer","expires_in":14400,"refresh_expires_in":2592000,"access_token_expires":1790000000000,"refresh_token_expires":1792000000000,"session_id":"s1"}`
	newKeyBody = `{"id":"ak_2","name":"ci","key":"sk_secret","prefix":"sk_secr","scopes":["read","write"],"created_at":"2026-11-03T12:00:00Z","expires_at":null}`
	jwtKeyBody = `{"id":"0b9f7a3e-0000-4000-8000-000000000001","name":"backend","secret":"s3cr3t","algorithm":"HS256","created_at":"2026-11-03T12:00:00Z"}`
)

func TestWireRequests(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		reply reply
		call  func(c *Client) error
		want  seen
	}{
		{
			"signup", reply{201, tokenBody},
			func(c *Client) error { _, err := c.Signup(ctx, "a@b.c", "pw 12345", "jc"); return err },
			seen{"POST", "/v1/auth/signup", "", map[string]any{"email": "a@b.c", "password": "pw 12345", "join_code": "jc"}},
		},
		{
			"login password", reply{200, tokenBody},
			func(c *Client) error { _, err := c.LoginPassword(ctx, "a@b.c", "pw"); return err },
			seen{"POST", "/v1/auth/login", "", map[string]any{"email": "a@b.c", "password": "pw"}},
		},
		{
			"exchange with session", reply{200, `{"access_token":"at","expires_in":7200,"token_type":"Bearer"}`},
			func(c *Client) error { _, err := c.ExchangeAPIKey(ctx, "sk_1", "job-7"); return err },
			seen{"POST", "/v1/auth/login", "", map[string]any{"api_key": "sk_1", "session_id": "job-7"}},
		},
		{
			"exchange without session", reply{200, `{"access_token":"at","expires_in":7200,"token_type":"Bearer"}`},
			func(c *Client) error { _, err := c.ExchangeAPIKey(ctx, "sk_1", ""); return err },
			seen{"POST", "/v1/auth/login", "", map[string]any{"api_key": "sk_1"}},
		},
		{
			"forgot", reply{202, `{"status":"accepted"}`},
			func(c *Client) error { return c.ForgotPassword(ctx, "a@b.c") },
			seen{"POST", "/v1/auth/password/forgot", "", map[string]any{"email": "a@b.c"}},
		},
		{
			"reset", reply{204, ""},
			func(c *Client) error { return c.ResetPassword(ctx, "rt_1", "new password") },
			seen{"POST", "/v1/auth/password/reset", "", map[string]any{"token": "rt_1", "password": "new password"}},
		},
		{
			"verify email", reply{204, ""},
			func(c *Client) error { return c.VerifyEmail(ctx, "vt_1") },
			seen{"POST", "/v1/auth/email/verify", "", map[string]any{"token": "vt_1"}},
		},
		{
			"create api key, expiring", reply{201, newKeyBody},
			func(c *Client) error {
				_, err := c.CreateAPIKey(ctx, "cred", APIKeyRequest{Name: "ci", Scopes: []string{"read", "write"},
					ExpiresIn: 720*time.Hour + 500*time.Millisecond, WorkspaceID: "ws_1"})
				return err
			},
			seen{"POST", "/v1/api-keys", "Bearer cred", map[string]any{"name": "ci", "scopes": []any{"read", "write"},
				"expires_in": float64(2592000), "workspace_id": "ws_1"}},
		},
		{
			"create api key, defaults", reply{201, newKeyBody},
			func(c *Client) error { _, err := c.CreateAPIKey(ctx, "cred", APIKeyRequest{Name: "ci"}); return err },
			seen{"POST", "/v1/api-keys", "Bearer cred", map[string]any{"name": "ci"}},
		},
		{
			"create api key, no scopes at all", reply{201, newKeyBody},
			func(c *Client) error {
				_, err := c.CreateAPIKey(ctx, "cred", APIKeyRequest{Name: "ci", Scopes: []string{}})
				return err
			},
			seen{"POST", "/v1/api-keys", "Bearer cred", map[string]any{"name": "ci", "scopes": []any{}}},
		},
		{
			"list api keys of a workspace", reply{200, `{"items":[],"next_cursor":null}`},
			func(c *Client) error { _, err := c.ListAPIKeys(ctx, "cred", "ws 1"); return err },
			seen{"GET", "/v1/api-keys?limit=200&workspace_id=ws+1", "Bearer cred", nil},
		},
		{
			"revoke api key, id escaped", reply{204, ""},
			func(c *Client) error { return c.RevokeAPIKey(ctx, "cred", "a/b") },
			seen{"DELETE", "/v1/api-keys/a%2Fb", "Bearer cred", nil},
		},
		{
			"rotate api key", reply{201, newKeyBody},
			func(c *Client) error { _, err := c.RotateAPIKey(ctx, "cred", "ak_1", 24*time.Hour); return err },
			seen{"POST", "/v1/api-keys/ak_1/rotate", "Bearer cred", map[string]any{"grace_period": "24h0m0s"}},
		},
		{
			"rotate api key, no grace", reply{201, newKeyBody},
			func(c *Client) error { _, err := c.RotateAPIKey(ctx, "cred", "ak_1", 0); return err },
			seen{"POST", "/v1/api-keys/ak_1/rotate", "Bearer cred", map[string]any{"grace_period": "0s"}},
		},
		{
			"create jwt key", reply{201, jwtKeyBody},
			func(c *Client) error {
				_, err := c.CreateJWTKey(ctx, "cred", JWTKeyRequest{Name: "backend"})
				return err
			},
			seen{"POST", "/v1/jwt-keys", "Bearer cred", map[string]any{"name": "backend"}},
		},
		{
			"create jwt key, scoped, as admin", reply{201, jwtKeyBody},
			func(c *Client) error {
				_, err := c.CreateJWTKey(ctx, "adm", JWTKeyRequest{Name: "backend", Scopes: []string{"read"}, WorkspaceID: "ws_1"})
				return err
			},
			seen{"POST", "/v1/jwt-keys", "Bearer adm", map[string]any{"name": "backend", "scopes": []any{"read"}, "workspace_id": "ws_1"}},
		},
		{
			"list jwt keys", reply{200, `{"items":[],"next_cursor":null}`},
			func(c *Client) error { _, err := c.ListJWTKeys(ctx, "cred", ""); return err },
			seen{"GET", "/v1/jwt-keys?limit=200", "Bearer cred", nil},
		},
		{
			"delete jwt key", reply{204, ""},
			func(c *Client) error { return c.DeleteJWTKey(ctx, "cred", "k1") },
			seen{"DELETE", "/v1/jwt-keys/k1", "Bearer cred", nil},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{replies: []reply{tt.reply}}
			srv := httptest.NewServer(rec)
			defer srv.Close()
			if err := tt.call(New(srv.URL)); err != nil {
				t.Fatalf("call: %v", err)
			}
			if len(rec.got) != 1 {
				t.Fatalf("server saw %d requests, want 1", len(rec.got))
			}
			if diff := cmp.Diff(tt.want, rec.got[0]); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWireAnswers(t *testing.T) {
	ctx := context.Background()
	created := time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC)
	used := created.Add(time.Hour)
	rec := &recorder{replies: []reply{
		{201, newKeyBody},
		{200, `{"access_token":"at","expires_in":7200,"token_type":"Bearer"}`},
		// Two pages of API keys; the second page's cursor is null.
		{200, `{"items":[{"id":"ak_3","name":"new","prefix":"sk_c","scopes":["read"],"created_at":"2026-11-03T12:00:00Z","expires_at":"2026-12-03T12:00:00Z","last_used_at":"2026-11-03T13:00:00Z","revoked_at":null}],"next_cursor":"Mg"}`},
		{200, `{"items":[{"id":"ak_1","name":"old","prefix":"sk_a","scopes":[],"created_at":"2026-11-03T12:00:00Z","expires_at":null,"last_used_at":null,"revoked_at":"2026-11-03T13:00:00Z"}],"next_cursor":null}`},
		{201, jwtKeyBody},
		{200, `{"items":[{"id":"k1","name":"backend","algorithm":"HS256","scopes":["read"],"created_at":"2026-11-03T12:00:00Z"}],"next_cursor":null}`},
		{409, `{"error":"email_exists","detail":"that email is taken in this workspace"}`},
	}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c := New(srv.URL)

	nk, err := c.CreateAPIKey(ctx, "cred", APIKeyRequest{Name: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	wantNK := &NewAPIKey{APIKey: APIKey{ID: "ak_2", Name: "ci", Prefix: "sk_secr", Scopes: []string{"read", "write"}, CreatedAt: created}, Key: "sk_secret"}
	if diff := cmp.Diff(wantNK, nk); diff != "" {
		t.Errorf("CreateAPIKey (-want +got):\n%s", diff)
	}

	tok, err := c.ExchangeAPIKey(ctx, "sk_secret", "")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&Tokens{AccessToken: "at", ExpiresIn: 7200, TokenType: "Bearer"}, tok); diff != "" {
		t.Errorf("ExchangeAPIKey (-want +got):\n%s", diff)
	}

	keys, err := c.ListAPIKeys(ctx, "cred", "")
	if err != nil {
		t.Fatal(err)
	}
	expires := created.AddDate(0, 1, 0)
	wantKeys := []APIKey{
		{ID: "ak_3", Name: "new", Prefix: "sk_c", Scopes: []string{"read"}, CreatedAt: created, ExpiresAt: &expires, LastUsedAt: &used},
		{ID: "ak_1", Name: "old", Prefix: "sk_a", Scopes: []string{}, CreatedAt: created, RevokedAt: &used},
	}
	if diff := cmp.Diff(wantKeys, keys); diff != "" {
		t.Errorf("ListAPIKeys (-want +got):\n%s", diff)
	}

	jk, err := c.CreateJWTKey(ctx, "cred", JWTKeyRequest{Name: "backend"})
	if err != nil {
		t.Fatal(err)
	}
	wantJK := &NewJWTKey{JWTKey: JWTKey{ID: "0b9f7a3e-0000-4000-8000-000000000001", Name: "backend", Algorithm: "HS256", CreatedAt: created}, Secret: "s3cr3t"}
	if diff := cmp.Diff(wantJK, jk); diff != "" {
		t.Errorf("CreateJWTKey (-want +got):\n%s", diff)
	}
	jks, err := c.ListJWTKeys(ctx, "cred", "")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]JWTKey{{ID: "k1", Name: "backend", Algorithm: "HS256", Scopes: []string{"read"}, CreatedAt: created}}, jks); diff != "" {
		t.Errorf("ListJWTKeys (-want +got):\n%s", diff)
	}

	_, err = c.Signup(ctx, "a@b.c", "correct horse", "jc")
	var e *Error
	if !errors.As(err, &e) || e.Status != 409 || e.Code != "email_exists" {
		t.Errorf("Signup on a taken email: %v, want 409 email_exists", err)
	}

	var paths []string
	for _, s := range rec.got {
		paths = append(paths, s.Method+" "+s.Path)
	}
	wantPaths := []string{
		"POST /v1/api-keys", "POST /v1/auth/login",
		"GET /v1/api-keys?limit=200", "GET /v1/api-keys?cursor=Mg&limit=200",
		"POST /v1/jwt-keys", "GET /v1/jwt-keys?limit=200", "POST /v1/auth/signup",
	}
	if diff := cmp.Diff(wantPaths, paths); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

// A listing whose cursor never ends stops after maxPages requests.
func TestListAllEndless(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A new cursor every time, so the "cursor did not move" guard
		// does not stop it.
		json.NewEncoder(w).Encode(map[string]any{"items": []any{}, "next_cursor": r.URL.Query().Get("cursor") + "x"})
	}))
	defer srv.Close()
	_, err := New(srv.URL).ListJWTKeys(context.Background(), "cred", "")
	if err == nil || err.Error() != "sigil client: JWT key listing did not end" {
		t.Errorf("err = %v, want the listing to be cut off", err)
	}
}
