package verify

import (
	"context"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/client"
)

// An API-key exchange session ended by logout may begin again under the
// same id (the same key and session_id): the Verifier keeps refusing the
// ended session's token and accepts the new one — in the same second and
// later.
func TestExchangeSessionBegunAgain(t *testing.T) {
	e := newEnv(t, Config{})
	k, err := e.c.CreateAPIKey(context.Background(), e.owner.AccessToken, client.APIKeyRequest{Name: "worker", Scopes: []string{"read"}})
	if err != nil {
		t.Fatal(err)
	}
	exchange := func() string {
		var out struct {
			AccessToken string `json:"access_token"`
		}
		e.call(t, "POST", "/v1/auth/login", "", map[string]string{"api_key": k.Key, "session_id": "w1"}, 200, &out)
		return out.AccessToken
	}
	for _, wait := range []time.Duration{0, 2 * time.Second} {
		old := exchange()
		if p := mustVerify(t, e.v, old); p.Kind != KindAPIKey {
			t.Fatalf("kind %q", p.Kind)
		}
		e.call(t, "POST", "/v1/auth/logout", old, nil, 204, nil)
		refusedWithin(t, e.v, old, 2*time.Second)
		e.s.Clock.Add(wait)
		fresh := exchange()
		if fresh == old {
			t.Fatalf("after %v: the same token again", wait)
		}
		mustVerify(t, e.v, fresh)
		if _, err := e.v.VerifyToken(context.Background(), old); err != ErrInvalidToken {
			t.Fatalf("after %v: the ended token: %v, want ErrInvalidToken", wait, err)
		}
		e.call(t, "POST", "/v1/auth/logout", fresh, nil, 204, nil)
		refusedWithin(t, e.v, fresh, 2*time.Second)
		e.s.Clock.Add(time.Second)
	}
}
