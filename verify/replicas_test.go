package verify

import (
	"context"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/client"
	"github.com/sigil-auth/sigil/internal/testenv"
)

// A session ended on another replica than the one the Verifier's feed is
// connected to is refused within a second too: replicas relay their
// fan-out (PostgreSQL LISTEN/NOTIFY, or Redis pub/sub) into the feed.
func TestRevocationFromAnotherReplica(t *testing.T) {
	tests := []struct {
		name string
		db   func(t *testing.T) testenv.Database
		opts func(t *testing.T) testenv.Options
	}{
		{"postgres", func(t *testing.T) testenv.Database { return testenv.NewDatabase(t, "postgres") },
			func(t *testing.T) testenv.Options { return testenv.Options{} }},
		{"redis", func(t *testing.T) testenv.Database { return testenv.NewDatabase(t, "sqlite") },
			func(t *testing.T) testenv.Options {
				_, prefix := testenv.Redis(t)
				return testenv.Options{Redis: true, Prefix: prefix}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, o := tt.db(t), tt.opts(t)
			e := newEnvOn(t, db, o, Config{}) // the Verifier's replica
			o.Clock = e.s.Clock
			other := testenv.Start(t, db, o)
			tok := e.session(t)
			mustVerify(t, e.v, tok.AccessToken)
			if err := client.New(other.URL).Logout(context.Background(), tok.RefreshToken, false); err != nil {
				t.Fatal(err)
			}
			d := refusedWithin(t, e.v, tok.AccessToken, time.Second)
			t.Logf("refused %v after the logout on the other replica", d)
		})
	}
}
