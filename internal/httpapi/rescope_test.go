package httpapi_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/sigil-auth/sigil/internal/testenv"
)

// A member's scope change reaches their live sessions at the next
// refresh: a scope taken away is gone from the refreshed tokens (and
// from the refresh token's introspection), one given appears, and the
// tokens never carry more than the member holds.
func TestScopeChangeReachesRefresh(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{})
		ws, join := workspace(t, s.URL)
		userToken(t, s.URL, join, "olivia") // the owner
		rt := register(t, s.URL, join, newUser("mike")).Str("refresh_token")
		steps := []struct {
			name   string
			scopes []string // the member's scopes, set by an admin
			want   string   // the refreshed token's scopes
		}{
			{"unchanged", nil, "read write"},
			{"one taken, one given", []string{"read", "geofences:read"}, "geofences:read read"},
			{"all taken", []string{}, ""},
			{"given back", []string{"write"}, "write"},
		}
		for _, st := range steps {
			if st.scopes != nil {
				p := call(t, "PATCH", s.URL+"/v1/workspaces/"+ws+"/members/mike", map[string]any{"scopes": st.scopes}, admin)
				want(t, p, 200, "")
			}
			in := call(t, "POST", s.URL+"/oauth2/introspect", "token="+rt, admin, "Content-Type: application/x-www-form-urlencoded")
			want(t, in, 200, "")
			if got := sorted(strings.Fields(in.Str("scope"))); in.Body["active"] != true || got != st.want {
				t.Errorf("%s: refresh token introspects as %s, want scope %q", st.name, in.Raw, st.want)
			}
			r := call(t, "POST", s.URL+"/v1/auth/refresh", map[string]string{"refresh_token": rt})
			want(t, r, 200, "")
			rt = r.Str("refresh_token")
			who := call(t, "GET", s.URL+"/v1/whoami", nil, bearer(r.Str("access_token")))
			want(t, who, 200, "")
			var got []string
			list, _ := who.Body["scopes"].([]any)
			for _, sc := range list {
				got = append(got, sc.(string))
			}
			if sorted(got) != st.want {
				t.Errorf("%s: refreshed token carries %q, want %q", st.name, got, st.want)
			}
		}
	})
}

// sorted joins scopes in order, for comparing sets.
func sorted(scopes []string) string {
	slices.Sort(scopes)
	return strings.Join(scopes, " ")
}
