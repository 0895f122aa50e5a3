//go:build linux

package integrations

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The matrix every gateway in front of Sigil must pass, whatever its
// config language: the same credentials, routes and forged headers, the
// tier limit and revocation. Each gateway's test starts it with the
// published config in front of an upstream that echoes what reached it.

// refusal checks a request the gateway refused: status, Sigil's JSON
// error body with code, and that the upstream was never reached.
func refusal(t *testing.T, up *upstream, r reply, hitsBefore int64, status int, code string) {
	t.Helper()
	if r.Status != status || r.Str("error") != code || r.Str("detail") == "" {
		t.Fatalf("got %d %s, want %d with error %q and a detail", r.Status, r.Raw, status, code)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	if n := up.hits.Load() - hitsBefore; n != 0 {
		t.Errorf("a refused request reached the upstream (%d hits)", n)
	}
}

// passed decodes what the upstream saw of a request the gateway let through.
func passed(t *testing.T, r reply) echo {
	t.Helper()
	var e echo
	if r.Status != 200 || json.Unmarshal(r.Raw, &e) != nil {
		t.Fatalf("got %d %s, want 200 from the upstream", r.Status, r.Raw)
	}
	return e
}

// gatewayCase is one request through a gateway and what must come of it.
type gatewayCase struct {
	name         string
	method, path string
	body         string
	hdr          []string
	// Refusals: status, error code, WWW-Authenticate (401 only).
	status  int
	code    string
	wwwAuth string
	// Let through: the X-Sigil-* headers the upstream must see.
	want map[string][]string
}

// testGateway runs the whole matrix through the gateway at url, which
// must stand in front of f's Sigil and up with the published routes:
// /read/ needs scope read, /admin/ needs admin, anything else any
// credential. own names the cases the gateway refuses by itself, before
// asking Sigil, with the status it answers (and its own body).
func testGateway(t *testing.T, f *fixture, up *upstream, url string, own map[string]int) {
	for _, tt := range gatewayCases(t, f) {
		if status, ok := own[tt.name]; ok {
			tt.status, tt.code, tt.want = status, "", nil
		}
		t.Run(tt.name, func(t *testing.T) { tt.run(t, up, url) })
	}
	t.Run("tier limit", func(t *testing.T) { tierLimit(t, f, up, url) })
	t.Run("revoked key", func(t *testing.T) { revokedKey(t, f, up, url) })
}

// gatewayCases is the matrix of credentials, routes and forged headers.
func gatewayCases(t *testing.T, f *fixture) []gatewayCase {
	reader := f.newKey(t, "reader", "read")
	admin := f.newKey(t, "admin", "read", "admin")
	session := must(t, send(t, "GET", f.sigil.URL+"/v1/whoami", nil, "Authorization: "+f.user), 200).Str("session_id")
	id := func(subject, kind, scopes string) map[string][]string {
		return map[string][]string{"X-Sigil-Subject": {subject}, "X-Sigil-Workspace": {f.workspace},
			"X-Sigil-Kind": {kind}, "X-Sigil-Scopes": {scopes}}
	}
	userID := id("alice", "user", "read admin tier:free")
	userID["X-Sigil-Session"] = []string{session}
	readKey := "X-API-KEY: " + reader.secret
	customer := f.customerJWT(t, "cust_42", "read")
	return []gatewayCase{
		{name: "no credential", path: "/read/a", status: 401, code: "missing_credential", wwwAuth: "Bearer"},
		{name: "unknown key", path: "/read/a", hdr: []string{"X-API-KEY: sk_unknown"},
			status: 401, code: "invalid_token", wwwAuth: `Bearer error="invalid_token"`},
		{name: "forged identity alone", path: "/read/a", hdr: []string{"X-Sigil-Subject: alice"},
			status: 401, code: "missing_credential", wwwAuth: "Bearer"},
		{name: "missing scope", path: "/admin/a", hdr: []string{readKey}, status: 403, code: "insufficient_scope"},
		// The gateway picks the route (and so the scope) after
		// normalising the path: dot segments cannot borrow /read/'s scope.
		{name: "dot segments", path: "/read/../admin/a", hdr: []string{readKey}, status: 403, code: "insufficient_scope"},
		{name: "encoded dot segments", path: "/read/%2e%2e%2fadmin/a", hdr: []string{readKey},
			status: 403, code: "insufficient_scope"},
		{name: "X-API-KEY", path: "/read/a?x=1", hdr: []string{readKey}, want: id(reader.id, "api_key", "read")},
		{name: "Authorization Bearer key", path: "/read/a", hdr: []string{"Authorization: Bearer " + reader.secret},
			want: id(reader.id, "api_key", "read")},
		{name: "Authorization bare key", path: "/read/a", hdr: []string{"Authorization: " + reader.secret},
			want: id(reader.id, "api_key", "read")},
		{name: "forged identity replaced", path: "/read/a", hdr: []string{readKey,
			"X-Sigil-Subject: alice", "X-Sigil-Subject: root", "X-Sigil-Scopes: admin", "X-Sigil-Session: ses_forged"},
			want: id(reader.id, "api_key", "read")},
		{name: "forged identity with underscores", path: "/read/a", hdr: []string{readKey,
			"X_Sigil_Subject: root", "X_Sigil_Session: ses_forged", "x_sigil_kind: admin"},
			want: id(reader.id, "api_key", "read")},
		{name: "scope held", path: "/admin/a", hdr: []string{"X-API-KEY: " + admin.secret},
			want: id(admin.id, "api_key", "read admin")},
		{name: "route without scope", path: "/other", hdr: []string{readKey}, want: id(reader.id, "api_key", "read")},
		{name: "user session", path: "/admin/a", hdr: []string{"Authorization: " + f.user}, want: userID},
		{name: "customer JWT", path: "/read/a", hdr: []string{"Authorization: Bearer " + customer},
			want: id("cust_42", "jwt_key", "read")},
		{name: "customer JWT missing scope", path: "/admin/a", hdr: []string{"Authorization: Bearer " + customer},
			status: 403, code: "insufficient_scope"},
		{name: "POST with a body", method: "POST", path: "/read/items", body: `{"n":1}`,
			hdr: []string{readKey}, want: id(reader.id, "api_key", "read")},
		{name: "DELETE", method: "DELETE", path: "/admin/items/1",
			hdr: []string{"X-API-KEY: " + admin.secret}, want: id(admin.id, "api_key", "read admin")},
	}
}

func (tt gatewayCase) run(t *testing.T, up *upstream, url string) {
	method := tt.method
	if method == "" {
		method = "GET"
	}
	var body any
	if tt.body != "" {
		body = tt.body
	}
	before := up.hits.Load()
	r := send(t, method, url+tt.path, body, tt.hdr...)
	if tt.want == nil && tt.code == "" {
		if r.Status != tt.status || up.hits.Load() != before {
			t.Fatalf("got %d %s with %d upstream hits, want the gateway's own %d and none",
				r.Status, r.Raw, up.hits.Load()-before, tt.status)
		}
		return
	}
	if tt.want == nil {
		refusal(t, up, r, before, tt.status, tt.code)
		if got := r.Header.Values("WWW-Authenticate"); tt.status == 401 && !cmp.Equal(got, []string{tt.wwwAuth}) {
			t.Errorf("WWW-Authenticate %q, want exactly [%q]", got, tt.wwwAuth)
		}
		return
	}
	e := passed(t, r)
	if diff := cmp.Diff(tt.want, e.Sigil); diff != "" {
		t.Errorf("X-Sigil-* at the upstream (-want +got):\n%s", diff)
	}
	if e.Method != method || e.Path != tt.path || e.Body != tt.body {
		t.Errorf("upstream got %s %s %q, want %s %s %q", e.Method, e.Path, e.Body, method, tt.path, tt.body)
	}
}

// tierLimit: a tier:free key gets 5 requests, then 429 with Retry-After
// and the body Sigil itself sends. Refusals for scope do not count.
func tierLimit(t *testing.T, f *fixture, up *upstream, url string) {
	k := f.newKey(t, "metered", "read", "tier:free")
	hdr := "X-API-KEY: " + k.secret
	for range freeTier.Limit + 1 { // nginx asks Sigil twice for each 403: neither call may count
		before := up.hits.Load()
		refusal(t, up, send(t, "GET", url+"/admin/a", nil, hdr), before, 403, "insufficient_scope")
	}
	for i := range freeTier.Limit {
		if r := send(t, "GET", url+"/read/a", nil, hdr); r.Status != 200 {
			t.Fatalf("request %d of %d: %d %s", i+1, freeTier.Limit, r.Status, r.Raw)
		}
	}
	before := up.hits.Load()
	r := send(t, "GET", url+"/read/a", nil, hdr)
	refusal(t, up, r, before, 429, "rate_limited")
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
		t.Errorf("Retry-After %q, want 1..60 seconds", r.Header.Get("Retry-After"))
	}
	if got := r.Header.Get("RateLimit-Limit"); got != strconv.Itoa(freeTier.Limit) {
		t.Errorf("RateLimit-Limit %q, want %d", got, freeTier.Limit)
	}
	direct := send(t, "GET", f.sigil.URL+"/v1/authorize?scope=read", nil, hdr)
	if direct.Status != 429 {
		t.Fatalf("Sigil itself: %d %s", direct.Status, direct.Raw)
	}
	if diff := cmp.Diff(direct.Body, r.Body); diff != "" {
		t.Errorf("the gateway's 429 body differs from Sigil's (-sigil +gateway):\n%s", diff)
	}
}

// revokedKey: a revoked key is refused through the gateway within 1 s.
func revokedKey(t *testing.T, f *fixture, up *upstream, url string) {
	k := f.newKey(t, "doomed", "read")
	hdr := "X-API-KEY: " + k.secret
	passed(t, send(t, "GET", url+"/read/a", nil, hdr))
	f.revoke(t, k)
	start := time.Now()
	for {
		before := up.hits.Load()
		r := send(t, "GET", url+"/read/a", nil, hdr)
		if r.Status == 401 {
			refusal(t, up, r, before, 401, "invalid_token")
			t.Logf("refused %v after revocation", time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Since(start) > time.Second {
			t.Fatalf("revoked key still accepted after 1 s: %d %s", r.Status, r.Raw)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
