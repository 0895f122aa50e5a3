package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/ratelimit"
	"github.com/sigil-auth/sigil/internal/testenv"
)

// total is the number above the chart id on an overview page, "" if none.
func total(body, id string) string {
	m := regexp.MustCompile(`id="` + id + `-total">([0-9]+)<`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

// TestDashboardOverview: real sign-ins (hosted page and API), a failed
// one and a request refused by the key's tier (429) are counted and shown
// on the owner's overview at once; /dashboard takes owners there and
// members to their keys, and members get 403 on the overview.
func TestDashboardOverview(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		e := newEnv(t, db, testenv.Options{Tiers: map[string]ratelimit.Rule{"tiny": {Limit: 1, Window: time.Minute}}})
		admin := "Authorization: Bearer " + testenv.AdminToken
		owner := e.signInBrowser(t, userEmail, userPass)
		if res, body := post(t, browser(t), e.s.URL+"/login", url.Values{"email": {userEmail}, "password": {"wrong password"}}); res.StatusCode != 401 {
			t.Fatalf("a wrong password: %d\n%s", res.StatusCode, body)
		}
		if r := testenv.Do(t, nil, "POST", e.s.URL+"/v1/auth/login", map[string]any{"email": userEmail, "password": userPass}); r.Status != 200 {
			t.Fatalf("API login: %d %s", r.Status, r.Raw)
		}
		key := testenv.Do(t, nil, "POST", e.s.URL+"/v1/api-keys", map[string]any{"name": "ci", "workspace_id": e.ws,
			"scopes": []string{"read", "tier:tiny"}}, admin)
		if key.Status != 201 {
			t.Fatalf("create key: %d %s", key.Status, key.Raw)
		}
		for i, want := range []int{200, 429} {
			if r := testenv.Do(t, nil, "GET", e.s.URL+"/v1/authorize", nil, "X-API-KEY: "+key.Str("key")); r.Status != want {
				t.Fatalf("forward-auth %d: %d, want %d", i+1, r.Status, want)
			}
		}

		if res, _ := get(t, owner, e.s.URL+"/dashboard"); res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/dashboard/overview" {
			t.Errorf("an owner's /dashboard: %d to %q, want the overview", res.StatusCode, res.Header.Get("Location"))
		}
		for _, rng := range []string{"", "?range=30d"} {
			res, body := get(t, owner, e.s.URL+"/dashboard/overview"+rng)
			if res.StatusCode != 200 || !strings.Contains(body, `aria-current="page">Overview<`) || !strings.Contains(body, `role="img"`) {
				t.Fatalf("overview%s: %d\n%s", rng, res.StatusCode, body)
			}
			got := map[string]string{}
			for _, id := range []string{"signins", "failures", "limited", "keys"} {
				got[id] = total(body, id)
			}
			want := map[string]string{"signins": "2", "failures": "1", "limited": "1", "keys": "1"}
			for id, w := range want {
				if got[id] != w {
					t.Errorf("overview%s: totals %v, want %v", rng, got, want)
					break
				}
			}
		}

		testenv.Do(t, nil, "POST", e.s.URL+"/v1/auth/signup", map[string]any{"email": "mia@example.com", "password": userPass, "join_code": e.join})
		member := e.signInBrowser(t, "mia@example.com", userPass)
		if res, _ := get(t, member, e.s.URL+"/dashboard"); res.Header.Get("Location") != "/dashboard/api-keys" {
			t.Errorf("a member's /dashboard goes to %q, want their API keys", res.Header.Get("Location"))
		}
		if res, body := get(t, member, e.s.URL+"/dashboard/overview"); res.StatusCode != 403 || strings.Contains(body, "chart-bar") {
			t.Errorf("member opens the overview: %d, want 403", res.StatusCode)
		}
		if _, body := get(t, member, e.s.URL+"/dashboard/api-keys"); strings.Contains(body, "/dashboard/overview") {
			t.Error("a member's navigation offers the overview")
		}
		if res, _ := get(t, browser(t), e.s.URL+"/dashboard/overview"); res.Header.Get("Location") != "/login" {
			t.Errorf("overview without a session: %d to %q", res.StatusCode, res.Header.Get("Location"))
		}
		// The member's sign-in counts too, on the owner's next look.
		if _, body := get(t, owner, e.s.URL+"/dashboard/overview"); total(body, "signins") != "3" {
			t.Errorf("after the member's sign-in: %s sign-ins, want 3", total(body, "signins"))
		}
	})
}
