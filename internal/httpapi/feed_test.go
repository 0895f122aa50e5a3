package httpapi_test

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/testenv"
)

// sseEvent is one server-sent event.
type sseEvent struct{ id, event, data string }

// openFeed connects to the revocation feed and streams its events.
func openFeed(t *testing.T, base, cred, lastID string) <-chan sseEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/v1/revocations", nil)
	k, v, _ := strings.Cut(cred, ": ")
	req.Header.Set(k, v)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("feed: %v %v", res, err)
	}
	out := make(chan sseEvent, 16)
	go func() {
		defer res.Body.Close()
		defer close(out)
		sc := bufio.NewScanner(res.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.event != "" {
					out <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				ev.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.data = line[6:]
			}
		}
	}()
	return out
}

func next(t *testing.T, ch <-chan sseEvent) sseEvent {
	t.Helper()
	select {
	case ev := <-ch:
		return ev
	case <-time.After(time.Second):
		t.Fatal("no feed event within 1 s")
	}
	return sseEvent{}
}

func TestRevocationFeed(t *testing.T) {
	s := testenv.Start(t, testenv.NewDatabase(t, "sqlite"), testenv.Options{})
	ws, join := workspace(t, s.URL)
	u := userToken(t, s.URL, join, "olivia")
	rs := "X-API-KEY: " + resourceKey(t, s.URL, ws, "tokens:introspect").Str("key")
	want(t, call(t, "GET", s.URL+"/v1/revocations", nil, u), 403, "insufficient_scope")

	feed := openFeed(t, s.URL, rs, "")
	a := register(t, s.URL, join, newUser("alice"))
	want(t, call(t, "POST", s.URL+"/v1/auth/logout", nil, bearer(a.Str("access_token"))), 204, "")
	ev := next(t, feed)
	if ev.event != "revoke" || !strings.Contains(ev.data, a.Str("session_id")) || ev.id == "" {
		t.Fatalf("event %+v", ev)
	}
	k := createKey(t, s.URL, u, map[string]any{"name": "doomed"})
	want(t, call(t, "DELETE", s.URL+"/v1/api-keys/"+k.Str("id"), nil, u), 204, "")
	var sawKey bool
	for !sawKey {
		ev2 := next(t, feed)
		sawKey = strings.Contains(ev2.data, k.Str("id"))
	}
	// Resuming from the first event replays what came after it.
	resumed := openFeed(t, s.URL, rs, ev.id)
	if r := next(t, resumed); r.event != "revoke" || r.id == ev.id {
		t.Fatalf("resume: %+v", r)
	}
	// A cursor this replica never issued means: drop every cache.
	if r := next(t, openFeed(t, s.URL, rs, "elsewhere-7")); r.event != "reset" {
		t.Fatalf("foreign cursor: %+v", r)
	}
}

// TestRevocationFeedPerWorkspace: an API key's feed carries its own
// workspace's revocations only, also when they happen on another replica
// (the fan-out message carries the workspace); the admin's carries all.
func TestRevocationFeedPerWorkspace(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{})
		other := s // the replica where the revocations happen
		if db.Backend == "postgres" {
			other = testenv.Start(t, db, testenv.Options{Clock: s.Clock})
		}
		wsA, joinA := workspace(t, s.URL)
		_, joinB := workspace(t, s.URL)
		rsA := "X-API-KEY: " + resourceKey(t, s.URL, wsA, "tokens:introspect").Str("key")
		feedA, feedAdmin := openFeed(t, s.URL, rsA, ""), openFeed(t, s.URL, admin, "")

		b := register(t, s.URL, joinB, newUser("bob"))
		a := register(t, s.URL, joinA, newUser("alice"))
		want(t, call(t, "POST", other.URL+"/v1/auth/logout", nil, bearer(b.Str("access_token"))), 204, "")
		want(t, call(t, "POST", other.URL+"/v1/auth/logout", nil, bearer(a.Str("access_token"))), 204, "")
		if ev := next(t, feedA); ev.event != "revoke" || !strings.Contains(ev.data, a.Str("session_id")) {
			t.Errorf("workspace A's feed: first event %+v, want alice's session (bob's is another workspace's)", ev)
		}
		for _, sid := range []string{b.Str("session_id"), a.Str("session_id")} {
			if ev := next(t, feedAdmin); ev.event != "revoke" || !strings.Contains(ev.data, sid) {
				t.Errorf("admin's feed: %+v, want %s", ev, sid)
			}
		}
	})
}
