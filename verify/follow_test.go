package verify

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/client"
	"github.com/sigil-auth/sigil/internal/testenv"
)

// Follow hands a cache of one's own the feed's events, and is refused
// (403 at the start) for a key without tokens:introspect.
func TestFollow(t *testing.T) {
	e := newEnv(t, Config{})
	httpc := &http.Client{Transport: &http.Transport{DialContext: e.net.dial}}
	events := make(chan Revocation, 16)
	fl, err := Follow(context.Background(), FollowConfig{URL: issuer, Credential: e.apiKey, HTTPClient: httpc},
		func(r Revocation) { events <- r })
	if err != nil {
		t.Fatal(err)
	}
	defer fl.Close()
	if r := <-events; !r.Reset {
		t.Errorf("first event %+v, want the Reset of a start without a cursor", r)
	}
	tok := e.register(t, "ada")
	e.form(t, "/oauth2/revoke", map[string][]string{"token": {tok.RefreshToken}})
	select {
	case r := <-events:
		if r.SessionID == "" || r.Reset {
			t.Errorf("event %+v, want ada's session", r)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no event within 2 s of a revocation")
	}

	plain, err := e.c.CreateAPIKey(context.Background(), testenv.AdminToken,
		client.APIKeyRequest{Name: "plain", Scopes: []string{"read"}, WorkspaceID: e.ws})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Follow(context.Background(), FollowConfig{URL: issuer, Credential: plain.Key, HTTPClient: httpc}, func(Revocation) {})
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("a key without tokens:introspect: %v, want a 403", err)
	}
}
