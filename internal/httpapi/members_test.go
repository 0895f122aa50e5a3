package httpapi_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
	"github.com/sigil-auth/sigil/internal/testenv"
)

func TestMembersAndRoles(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{})
		ws, join := workspace(t, s.URL)
		owner := userToken(t, s.URL, join, "olivia")
		mike := newUser("mike")
		member := bearer(register(t, s.URL, join, mike).Str("access_token"))
		nina := userToken(t, s.URL, join, "nina")
		_, otherJoin := workspace(t, s.URL)
		outsider := userToken(t, s.URL, otherJoin, "oscar")

		l := call(t, "GET", s.URL+"/v1/workspaces/"+ws+"/members?limit=2", nil, owner)
		want(t, l, 200, "")
		l2 := call(t, "GET", s.URL+"/v1/workspaces/"+ws+"/members?limit=2&cursor="+l.Str("next_cursor"), nil, owner)
		roles := map[string]string{}
		for _, page := range []resp{l, l2} {
			for _, it := range page.Body["items"].([]any) {
				m := it.(map[string]any)
				roles[m["user_id"].(string)] = m["role"].(string)
			}
		}
		if len(l.Body["items"].([]any)) != 2 || l2.Body["next_cursor"] != nil ||
			len(roles) != 3 || roles["olivia"] != "owner" || roles["mike"] != "member" {
			t.Fatalf("members pages: %s / %s", l.Raw, l2.Raw)
		}
		want(t, call(t, "GET", s.URL+"/v1/workspaces/"+ws+"/members", nil, member), 403, "forbidden")
		want(t, call(t, "GET", s.URL+"/v1/workspaces/"+ws+"/members?cursor=nobody", nil, owner), 400, "invalid_request")
		want(t, call(t, "GET", s.URL+"/v1/workspaces/"+ws+"/members", nil, outsider), 404, "not_found")

		// Roles and scopes.
		p := call(t, "PATCH", s.URL+"/v1/workspaces/"+ws+"/members/mike", map[string]any{"role": "admin", "scopes": []string{"read", "geofences:read"}}, owner)
		want(t, p, 200, "")
		if p.Str("role") != "admin" || len(p.Body["scopes"].([]any)) != 2 {
			t.Fatalf("patch: %s", p.Raw)
		}
		// The member's next session carries the new scopes.
		who := call(t, "GET", s.URL+"/v1/whoami", nil, bearer(login(t, s.URL, mike).Str("access_token")))
		if !strings.Contains(string(who.Raw), "geofences:read") {
			t.Errorf("new scopes missing: %s", who.Raw)
		}
		// An admin (not owner) may manage members but not owners.
		want(t, call(t, "PATCH", s.URL+"/v1/workspaces/"+ws+"/members/nina", map[string]any{"scopes": []string{"read"}}, member), 200, "")
		want(t, call(t, "PATCH", s.URL+"/v1/workspaces/"+ws+"/members/nina", map[string]any{"role": "owner"}, member), 403, "forbidden")
		want(t, call(t, "PATCH", s.URL+"/v1/workspaces/"+ws+"/members/olivia", map[string]any{"role": "member"}, member), 403, "forbidden")
		want(t, call(t, "PATCH", s.URL+"/v1/workspaces/"+ws+"/members/olivia", map[string]any{"role": "admin"}, owner), 409, "conflict")
		want(t, call(t, "PATCH", s.URL+"/v1/workspaces/"+ws+"/members/mike", map[string]any{"role": "boss"}, owner), 400, "invalid_request")
		want(t, call(t, "PATCH", s.URL+"/v1/workspaces/"+ws+"/members/oscar", map[string]any{"role": "admin"}, owner), 404, "not_found")
		want(t, call(t, "PATCH", s.URL+"/v1/workspaces/"+ws+"/members/mike", map[string]any{"role": "member"}, nina), 403, "forbidden")
		// The admin token may do anything.
		want(t, call(t, "PATCH", s.URL+"/v1/workspaces/"+ws+"/members/nina", map[string]any{"role": "owner"}, admin), 200, "")

		// Workspace admins manage every session of their workspace.
		ninaSession := call(t, "GET", s.URL+"/v1/whoami", nil, nina).Str("session_id")
		want(t, call(t, "DELETE", s.URL+"/v1/sessions/"+ninaSession, nil, member), 204, "")
		want(t, call(t, "GET", s.URL+"/", nil, nina), 401, "invalid_token")
	})
}

func TestAuditLog(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{TrustProxy: true})
		ws, join := workspace(t, s.URL)
		owner := userToken(t, s.URL, join, "olivia")
		mike := newUser("mike")
		member := bearer(register(t, s.URL, join, mike).Str("access_token"))
		// A failed login from a known IP, a key created and revoked, a member changed.
		p := mike.proof(t, s.URL)
		p["signature"] = newUser("xavier").proof(t, s.URL)["signature"]
		want(t, call(t, "POST", s.URL+"/v1/auth/token", p, xff("203.0.113.9")), 401, "invalid_credentials")
		ada := signup(t, s.URL, join, "ada@example.com", "correct horse battery")
		adaID := call(t, "GET", s.URL+"/v1/whoami", nil, bearer(ada.Str("access_token"))).Str("subject")
		want(t, pwLogin(t, s.URL, "ada@example.com", "wrong password!"), 401, "invalid_credentials")
		k := createKey(t, s.URL, member, map[string]any{"name": "ci"})
		want(t, call(t, "DELETE", s.URL+"/v1/api-keys/"+k.Str("id"), nil, member), 204, "")
		want(t, call(t, "PATCH", s.URL+"/v1/workspaces/"+ws+"/members/mike", map[string]any{"scopes": []string{"read"}}, owner), 200, "")

		var events []map[string]any
		deadline := time.Now().Add(2 * time.Second) // the audit writer batches every 50 ms
		for {
			r := call(t, "GET", s.URL+"/v1/audit?limit=200", nil, owner)
			want(t, r, 200, "")
			events = nil
			for _, it := range r.Body["items"].([]any) {
				events = append(events, it.(map[string]any))
			}
			if len(events) >= 9 || time.Now().After(deadline) { // workspace.create and the 8 above
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		has := func(action, target string, check func(map[string]any) bool) {
			t.Helper()
			for _, e := range events {
				if e["action"] == action && (target == "" || e["target"] == target) && (check == nil || check(e)) {
					return
				}
			}
			t.Errorf("no %s event for %q in %v", action, target, events)
		}
		has("user.register", "olivia", nil)
		has("login.failure", "mike", func(e map[string]any) bool { return e["client_ip"] == "203.0.113.9" && e["method"] == "pubkey" })
		has("login.failure", adaID, func(e map[string]any) bool { return e["method"] == "pwd" && e["actor"] == "" })
		has("api_key.create", k.Str("id"), func(e map[string]any) bool { return e["actor"] == "mike" })
		has("api_key.revoke", k.Str("id"), nil)
		has("member.update", "mike", func(e map[string]any) bool { return e["actor"] == "olivia" })
		for i := 1; i < len(events); i++ {
			if events[i-1]["id"].(string) <= events[i]["id"].(string) {
				t.Fatalf("not newest first: %v", events)
			}
		}
		// Filters and paging.
		f := call(t, "GET", s.URL+"/v1/audit?action=api_key.", nil, owner)
		if n := len(f.Body["items"].([]any)); n != 2 {
			t.Errorf("action prefix filter: %s", f.Raw)
		}
		pg := call(t, "GET", s.URL+"/v1/audit?limit=1", nil, owner)
		next := pg.Str("next_cursor")
		pg2 := call(t, "GET", s.URL+"/v1/audit?limit=1&cursor="+next, nil, owner)
		if next == "" || pg2.Body["items"].([]any)[0].(map[string]any)["id"] == pg.Body["items"].([]any)[0].(map[string]any)["id"] {
			t.Errorf("paging: %s / %s", pg.Raw, pg2.Raw)
		}
		// Members and API keys may not read it; the admin token reads any.
		want(t, call(t, "GET", s.URL+"/v1/audit", nil, member), 403, "forbidden")
		want(t, call(t, "GET", s.URL+"/v1/audit", nil, "X-API-KEY: "+createKey(t, s.URL, owner, map[string]any{"name": "x"}).Str("key")), 403, "insufficient_scope")
		want(t, call(t, "GET", s.URL+"/v1/audit?workspace_id="+ws, nil, admin), 200, "")
	})
}

// TestAuditKeepsPasswordsOut: a failed login records the email it was
// for, but what is not an address (a password typed into the email
// field) never reaches the audit log.
func TestAuditKeepsPasswordsOut(t *testing.T) {
	s := testenv.Start(t, testenv.NewDatabase(t, "sqlite"), testenv.Options{})
	const secret = "Tr0ub4dor&3-typed-in-the-wrong-field"
	want(t, pwLogin(t, s.URL, secret, "whatever it is"), 400, "invalid_request")
	want(t, pwLogin(t, s.URL, " Nobody@Example.com ", "wrong password!"), 401, "invalid_credentials")
	s.Auth.Close() // writes the queued events
	events, err := s.Store.ListAudit(t.Context(), store.AuditFilter{Action: "login.failure", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 {
		t.Fatalf("%d login.failure events, want 2: %+v", len(events), events)
	}
	for _, e := range events {
		if strings.Contains(fmt.Sprint(e), secret) {
			t.Errorf("the audit log holds what was typed as the email: %+v", e)
		}
	}
	if got := events[0].Details["email"]; got != "nobody@example.com" {
		t.Errorf("the unknown address's failure records email %q, want nobody@example.com", got)
	}
}

// TestDemoteOwnersAtOnce: two owners demote each other at the same
// moment; one PATCH wins and the workspace keeps an owner. The other is
// 403 when it comes second (its sender is no owner any more) or 409 when
// both passed the checks before either wrote (the store checks again in
// the update's transaction).
func TestDemoteOwnersAtOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{})
		ws, join := workspace(t, s.URL)
		tokens := []string{userToken(t, s.URL, join, "olivia"), userToken(t, s.URL, join, "pia")}
		want(t, call(t, "PATCH", s.URL+"/v1/workspaces/"+ws+"/members/pia", map[string]any{"role": "owner"}, tokens[0]), 200, "")
		for round := range 10 {
			ids := []string{"pia", "olivia"} // each demotes the other
			var wg sync.WaitGroup
			statuses := make([]int, 2)
			for i := range 2 {
				wg.Go(func() {
					statuses[i] = call(t, "PATCH", s.URL+"/v1/workspaces/"+ws+"/members/"+ids[i],
						map[string]any{"role": "admin"}, tokens[i]).Status
				})
			}
			wg.Wait()
			slices.Sort(statuses)
			if statuses[0] != 200 || (statuses[1] != 403 && statuses[1] != 409) {
				t.Fatalf("round %d: statuses %v, want one 200 and one 403 or 409", round, statuses)
			}
			owners := 0
			for _, it := range call(t, "GET", s.URL+"/v1/workspaces/"+ws+"/members", nil, admin).Body["items"].([]any) {
				if it.(map[string]any)["role"] == "owner" {
					owners++
				}
			}
			if owners != 1 {
				t.Fatalf("round %d: %d owners left", round, owners)
			}
			// Make both owners again for the next round (the admin token may).
			for _, id := range ids {
				want(t, call(t, "PATCH", s.URL+"/v1/workspaces/"+ws+"/members/"+id, map[string]any{"role": "owner"}, admin), 200, "")
			}
		}
	})
}
