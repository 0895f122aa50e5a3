package gateway

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestRouteMatching(t *testing.T) {
	rt, err := newRouter([]Route{
		{Pattern: "/", Scopes: []string{"read"}},
		{Pattern: "/public/", Public: true},
		{Pattern: "/admin/", Scopes: []string{"admin"}},
		{Pattern: "/admin/public/{$}", Public: true},
		{Pattern: "POST /items/", Scopes: []string{"write"}},
		{Pattern: "POST /items/{id}/audit", Scopes: []string{"audit"}},
		{Pattern: "partner.example.com/", Scopes: []string{"partner"}},
		{Pattern: "GET /exact", Public: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method, target string
		want           string // the rule's pattern; "redirect" or "none"
	}{
		{"GET", "/", "/"},
		{"GET", "/anything/else", "/"},
		{"GET", "/public/", "/public/"},
		{"GET", "/public/a/b", "/public/"},
		{"GET", "/publicity", "/"},         // a prefix of a segment is not the subtree
		{"GET", "/public", "redirect"},     // → /public/, never "/" with other rules
		{"GET", "/admin/users", "/admin/"}, // longest prefix wins over "/"
		{"GET", "/admin/public/", "/admin/public/{$}"},
		{"GET", "/admin/public/x", "/admin/"}, // {$}: that path only
		{"POST", "/items/42", "POST /items/"},
		{"GET", "/items/42", "/"},                             // the method-specific rule does not apply
		{"POST", "/items/42/audit", "POST /items/{id}/audit"}, // the longer path wins
		{"GET", "/items/42/audit", "/"},
		{"GET", "http://partner.example.com/x", "partner.example.com/"},
		{"GET", "/exact", "GET /exact"},
		{"HEAD", "/exact", "GET /exact"}, // GET patterns match HEAD
		{"DELETE", "/exact", "/"},
		{"GET", "/exact/", "/"},
		// Percent-encoding: the rule must not depend on who decodes.
		{"GET", "/%61dmin/users", "/admin/"},       // ServeMux unescapes literal segments
		{"GET", "/admin%2Fusers", "ambiguous"},     // "/" escaped, "/admin/" decoded
		{"GET", "/public%2Fdoc", "ambiguous"},      // "/" escaped, public decoded
		{"GET", "/files/a%2Fb", "/"},               // an encoded slash inside one rule is fine
		{"GET", "/admin/a%2Fb", "/admin/"},         // likewise
		{"GET", "/a%20b", "/"},                     // canonical escapes are not special
		{"POST", "/items/%34%32", "POST /items/"},  // "/items/42"
		{"POST", "/items%2F42/audit", "ambiguous"}, // "/" escaped, "POST /items/{id}/audit" decoded
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, tt.target, nil)
		ru, redirect, e := rt.match(r)
		got := "none"
		switch {
		case e != nil:
			got = "ambiguous"
		case ru != nil:
			got = ru.Pattern
		case redirect != nil:
			got = "redirect"
		}
		if got != tt.want {
			t.Errorf("%s %s → %s, want %s", tt.method, tt.target, got, tt.want)
		}
	}
	// No catch-all: an unmatched path has no rule at all.
	rt, _ = newRouter([]Route{{Pattern: "GET /only/"}})
	for _, target := range []string{"/other", "/only"} {
		if ru, _, _ := rt.match(httptest.NewRequest("POST", target, nil)); ru != nil {
			t.Errorf("POST %s matched %q", target, ru.Pattern)
		}
	}
}

func TestCheckRequest(t *testing.T) {
	tests := []struct {
		name   string
		method string
		target string
		hdr    http.Header
		want   int // 0: passes
	}{
		{"plain", "GET", "/a/b", nil, 0},
		{"trailing slash", "GET", "/a/b/", nil, 0},
		{"encoded slash inside a segment", "GET", "/files/a%2Fb", nil, 0},
		{"websocket", "GET", "/ws", http.Header{"Connection": {"Upgrade"}, "Upgrade": {"websocket"}}, 0},
		{"websocket mixed case", "GET", "/ws", http.Header{"Upgrade": {"WebSocket"}}, 0},
		{"h2c", "GET", "/", http.Header{"Connection": {"Upgrade, HTTP2-Settings"}, "Upgrade": {"h2c"}}, 400},
		{"h2c upper case", "GET", "/", http.Header{"Upgrade": {"H2C"}}, 400},
		{"h2c after websocket", "GET", "/", http.Header{"Upgrade": {"websocket, h2c"}}, 400},
		{"h2c second header", "GET", "/", http.Header{"Upgrade": {"websocket", "h2c"}}, 400},
		{"other protocol", "GET", "/", http.Header{"Upgrade": {"TLS/1.2"}}, 400},
		{"dot segment", "GET", "/public/../admin", nil, 400},
		{"encoded dot segment", "GET", "/public/%2e%2e/admin", nil, 400},
		{"encoded slashes and dots", "GET", "/public%2F..%2Fadmin", nil, 400},
		{"double slash", "GET", "/public//admin", nil, 400},
		{"backslash", "GET", "/public/..%5Cadmin", nil, 400},
		{"single dot", "GET", "/./admin", nil, 400},
		{"two authorizations", "GET", "/", http.Header{"Authorization": {"Bearer a", "Bearer b"}}, 400},
		{"two api keys", "GET", "/", http.Header{"X-Api-Key": {"a", "b"}}, 400},
		{"connect", "CONNECT", "/", nil, 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.target, nil)
			for k, v := range tt.hdr {
				r.Header[k] = v
			}
			got := 0
			if e := checkRequest(r); e != nil {
				got = e.status
			}
			if got != tt.want {
				t.Errorf("status %d, want %d", got, tt.want)
			}
		})
	}
}

func TestIsSigilHeader(t *testing.T) {
	tests := map[string]bool{
		"X-Sigil-Subject": true, "x-sigil-subject": true, "X-SIGIL-SCOPES": true, "X_Sigil_Subject": true,
		"x_sigil-kind": true, "X-Sigil-": true,
		"X-Sigil": false, "X-Sigils-Subject": false, "X-Forwarded-For": false, "Sigil-Subject": false, "": false,
	}
	for k, want := range tests {
		if got := isSigilHeader(k); got != want {
			t.Errorf("isSigilHeader(%q) = %v, want %v", k, got, want)
		}
	}
}
