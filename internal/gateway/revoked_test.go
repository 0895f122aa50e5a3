package gateway_test

import (
	"testing"
)

// TestRevokedDropsCache: the proxy's cached answers outlive a revocation
// only until the feed's event arrives (Gateway.Revoked), and an event
// drops only the answers it names. The clock stands still, so the cache
// never expires by itself here.
func TestRevokedDropsCache(t *testing.T) {
	e := newEnv(t, nil)
	key, keyID := e.apiKey(t, "read")
	other, _ := e.apiKey(t, "read")
	tok := e.userToken(t, "alice")
	sid := call(t, "GET", e.sigil.URL+"/v1/whoami", nil, "Authorization: Bearer "+tok).Str("session_id")
	creds := map[string]string{"key": "X-API-KEY: " + key, "other": "X-API-KEY: " + other, "alice": "Authorization: Bearer " + tok}
	for _, c := range creds {
		wantStatus(t, call(t, "GET", e.proxy.URL+"/a", nil, c), 200) // cached from now on
	}
	wantStatus(t, call(t, "DELETE", e.sigil.URL+"/v1/api-keys/"+keyID, nil, admin), 204)
	wantStatus(t, call(t, "POST", e.sigil.URL+"/v1/auth/logout", nil, "Authorization: Bearer "+tok), 204)
	steps := []struct {
		name     string
		sid, key string
		all      bool
		want     map[string]int // status per credential after the event
	}{
		{"before any event: cached", "", "", false, map[string]int{"key": 200, "other": 200, "alice": 200}},
		{"an unrelated session", "ses_unrelated", "", false, map[string]int{"key": 200, "other": 200, "alice": 200}},
		{"the key", "", keyID, false, map[string]int{"key": 401, "other": 200, "alice": 200}},
		{"alice's session", sid, "", false, map[string]int{"key": 401, "other": 200, "alice": 401}},
		{"a reset", "", "", true, map[string]int{"key": 401, "other": 200, "alice": 401}},
	}
	for _, st := range steps {
		if st.sid != "" || st.key != "" || st.all {
			e.gw.Revoked(st.sid, st.key, st.all)
		}
		for name, c := range creds {
			if r := call(t, "GET", e.proxy.URL+"/a", nil, c); r.Status != st.want[name] {
				t.Errorf("%s: %s got %d, want %d", st.name, name, r.Status, st.want[name])
			}
		}
	}
}
