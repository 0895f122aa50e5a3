package authn

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sigil-auth/sigil/internal/store"
)

func TestRefreshedScopes(t *testing.T) {
	tests := []struct {
		name string
		sess store.Session
		want []string
	}{
		{"login session: the user's scopes now, narrowed and widened",
			store.Session{UserID: "u", Scopes: []string{"read", "write"}, UserScopes: []string{"read", "billing"}},
			[]string{"read", "billing"}},
		{"login session of a user without scopes",
			store.Session{UserID: "u", Scopes: []string{"read"}}, nil},
		{"app session: OpenID scopes kept, API scopes narrowed, never widened",
			store.Session{UserID: "u", AppID: "app_1", Scopes: []string{"openid", "email", "read", "write"}, UserScopes: []string{"write", "billing"}},
			[]string{"openid", "email", "write"}},
		{"API-key session: unchanged (narrowing its creator ends it)",
			store.Session{UserID: "u", APIKeyID: "ak_1", Scopes: []string{"read"}, UserScopes: []string{"write"}},
			[]string{"read"}},
		{"session without a user: unchanged",
			store.Session{APIKeyID: "ak_1", Scopes: []string{"read"}}, []string{"read"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.want, refreshedScopes(tt.sess)); d != "" {
				t.Errorf("refreshedScopes (-want +got):\n%s", d)
			}
		})
	}
}
