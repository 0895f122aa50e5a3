package authn

import (
	"testing"
	"time"
)

func TestFeed(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	f := newFeed(func() time.Time { return now })
	_, reset, start, _ := f.since("")
	if reset {
		t.Fatal("fresh client told to reset")
	}
	f.add("ses_a")
	f.add("ses_a") // the bus's echo of a local revocation
	f.add("ak_b")
	f.add("jk_1234")
	f.add("ws_ignored")
	ev, reset, next, _ := f.since(start)
	if reset || len(ev) != 3 || ev[0].SessionID != "ses_a" || ev[1].APIKeyID != "ak_b" || ev[2].JWTKeyID != "1234" {
		t.Fatalf("events %+v reset %v", ev, reset)
	}
	if ev2, _, _, _ := f.since(next); len(ev2) != 0 {
		t.Fatalf("replayed %v after the last cursor", ev2)
	}
	f.reset()
	if ev3, _, _, _ := f.since(next); len(ev3) != 1 || !ev3[0].Reset {
		t.Fatalf("reset event: %+v", ev3)
	}
	// Foreign, malformed and expired cursors all reset.
	for _, c := range []string{"other-1", "junk", f.replica + "-999"} {
		if _, reset, _, _ := f.since(c); !reset {
			t.Errorf("cursor %q did not reset", c)
		}
	}
	now = now.Add(feedKeep + time.Minute)
	f.add("ses_c") // trims the old entries
	if _, reset, _, _ := f.since(start); !reset {
		t.Error("a cursor older than the window must reset")
	}
}
