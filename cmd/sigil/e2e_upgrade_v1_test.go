package main

import (
	"crypto/rand"
	"encoding/base64"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/testenv"
)

// TestUpgradeFromV1IsNotRolling shows why the header of
// 00002_credentials.sql says it is NOT safe while v1 replicas serve: it
// runs the last code of schema v1 and the last code of schema v2 side by
// side, and a v1 replica answers 500 for a token of a session that an
// admin-created API key started on the v2 replica (sessions.user_id is
// NULL there, and v1 scans it into a string). A v1 deployment must stop
// before it migrates. History, not the next release, so it runs only
// with SIGIL_UPGRADE_HISTORY=1 (two more builds, about a minute cold).
func TestUpgradeFromV1IsNotRolling(t *testing.T) {
	if testing.Short() || os.Getenv("SIGIL_UPGRADE_HISTORY") != "1" {
		t.Skip("set SIGIL_UPGRADE_HISTORY=1 to build the schema v1 and v2 releases and show 00002's hazard")
	}
	if os.Getenv("SIGIL_TEST_POSTGRES") == "" {
		skipOrFail(t, "needs PostgreSQL: set SIGIL_TEST_POSTGRES")
	}
	previousRelease(t) // the same git checks (a checkout, not shallow)
	v1, _ := beforeMigration(t, "00002_credentials.sql")
	v2, _ := beforeMigration(t, "00003_browser_signin.sql")
	t.Logf("schema v1 code %.10s, schema v2 code %.10s", v1, v2)
	bin1, bin2 := buildRelease(t, v1), buildRelease(t, v2)

	master := make([]byte, 32)
	rand.Read(master)
	env := map[string]string{
		"SIGIL_DATABASE_URL": testenv.PostgresSchema(t),
		"SIGIL_MASTER_KEY":   base64.StdEncoding.EncodeToString(master),
		"SIGIL_RATE_LIMITS":  "off",
		"SIGIL_ISSUER":       "http://sigil.upgrade.test",
	}
	var phase atomic.Pointer[string]
	p := "v1 beside v2"
	phase.Store(&p)
	a := startReplica(t, "replica A (schema v1)", bin1, env, &phase)
	b := startReplica(t, "replica B (schema v2)", bin2, env, &phase)

	wsID, _ := crashWorkspace(t, b.url)
	var k struct{ Key string }
	if st := apiJSON(t, "POST", b.url+"/v1/api-keys", e2eAdminToken, map[string]string{"name": "v1", "workspace_id": wsID}, &k); st != 201 {
		t.Fatalf("%s: admin API key = %d, want 201", b.name, st)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if st := apiJSON(t, "POST", b.url+"/v1/auth/login", "", map[string]string{"api_key": k.Key}, &tok); st != 200 {
		t.Fatalf("%s: API-key exchange = %d, want 200", b.name, st)
	}
	if st := apiJSON(t, "GET", b.url+"/v1/whoami", tok.AccessToken, nil, nil); st != 200 {
		t.Fatalf("%s: whoami = %d, want 200", b.name, st)
	}
	st := apiJSON(t, "GET", a.url+"/v1/whoami", tok.AccessToken, nil, nil)
	for i := 0; i < 100 && !strings.Contains(a.logs.String(), "cannot scan NULL"); i++ {
		time.Sleep(20 * time.Millisecond) // the log line follows the answer
	}
	if st != 500 || !strings.Contains(a.logs.String(), "cannot scan NULL") {
		t.Fatalf("%s: whoami with the token of an admin key's session = %d; the v1 hazard 00002's header describes did not show: update the header", a.name, st)
	}
	t.Logf("shown: %s answers 500 for a session of an admin-created API key (it scans a NULL user_id), so upgrading from v1 is not rolling", a.name)
}
