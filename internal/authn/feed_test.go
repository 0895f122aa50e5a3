package authn

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestFeed(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	f := newFeed(func() time.Time { return now })
	_, reset, start, _ := f.since("", "")
	if reset {
		t.Fatal("fresh client told to reset")
	}
	f.add("ws_1", "ses_a")
	f.expectEcho("ws_1", []string{"ses_a"})
	if !f.isEcho("ws_1", "ses_a") || f.isEcho("ws_1", "ses_a") {
		t.Fatal("the bus's echo of a local revocation is one echo")
	}
	f.add("ws_1", "ak_b")
	f.add("ws_1", "jk_1234")
	f.add("ws_1", "ws_ignored")
	ev, reset, next, _ := f.since(start, "")
	if reset || len(ev) != 3 || ev[0].SessionID != "ses_a" || ev[1].APIKeyID != "ak_b" || ev[2].JWTKeyID != "1234" {
		t.Fatalf("events %+v reset %v", ev, reset)
	}
	if ev2, _, _, _ := f.since(next, ""); len(ev2) != 0 {
		t.Fatalf("replayed %v after the last cursor", ev2)
	}
	f.reset()
	if ev3, _, _, _ := f.since(next, ""); len(ev3) != 1 || !ev3[0].Reset {
		t.Fatalf("reset event: %+v", ev3)
	}
	// The same id revoked again is a new event (an exchange session begun
	// again under its id and ended); an echo not seen within echoTTL is
	// no longer awaited.
	f.add("ws_1", "ses_a")
	if ev4, _, _, _ := f.since(next, ""); len(ev4) != 2 || ev4[1].SessionID != "ses_a" {
		t.Fatalf("a second revocation of ses_a: %+v", ev4)
	}
	f.expectEcho("ws_1", []string{"ses_b"})
	f.cancelEcho("ws_1", []string{"ses_b"})
	f.expectEcho("ws_1", []string{"ses_c"})
	now = now.Add(echoTTL + time.Second)
	if f.isEcho("ws_1", "ses_b") || f.isEcho("ws_1", "ses_c") {
		t.Error("a cancelled or stale echo swallowed an event")
	}
	now = now.Add(-echoTTL - time.Second)
	// Foreign, malformed and expired cursors all reset.
	for _, c := range []string{"other-1", "junk", f.replica + "-999"} {
		if _, reset, _, _ := f.since(c, ""); !reset {
			t.Errorf("cursor %q did not reset", c)
		}
	}
	now = now.Add(feedKeep + time.Minute)
	f.add("ws_1", "ses_c") // trims the old entries
	if _, reset, _, _ := f.since(start, ""); !reset {
		t.Error("a cursor older than the window must reset")
	}
}

// A client hears of its own workspace's revocations, of those whose
// workspace is not known, and of resets; the admin ("") of everything.
func TestFeedPerWorkspace(t *testing.T) {
	f := newFeed(time.Now)
	_, _, start, _ := f.since("", "")
	f.add("ws_1", "ses_one")
	f.add("ws_2", "ses_two")
	f.add("", "ak_unknown_ws")
	f.add("ws_2", "ses_one") // the same id from another workspace is another event
	f.reset()
	tests := []struct {
		ws   string
		want []string
	}{
		{"ws_1", []string{"ses_one", "ak_unknown_ws", "reset"}},
		{"ws_2", []string{"ses_two", "ak_unknown_ws", "ses_one", "reset"}},
		{"ws_3", []string{"ak_unknown_ws", "reset"}},
		{"", []string{"ses_one", "ses_two", "ak_unknown_ws", "ses_one", "reset"}},
	}
	for _, tt := range tests {
		ev, reset, next, _ := f.since(start, tt.ws)
		var got []string
		for _, e := range ev {
			switch {
			case e.Reset:
				got = append(got, "reset")
			case e.SessionID != "":
				got = append(got, e.SessionID)
			default:
				got = append(got, e.APIKeyID)
			}
		}
		if d := cmp.Diff(tt.want, got); d != "" || reset {
			t.Errorf("workspace %q (reset %v), events (-want +got):\n%s", tt.ws, reset, d)
		}
		if _, _, n2, _ := f.since("", tt.ws); n2 != next {
			t.Errorf("workspace %q: the cursor after the filtered events is %s, want the feed's %s", tt.ws, next, n2)
		}
	}
}

// Announcements on the bus name their workspace in a first "@" item, which
// a replica of the earlier format reads as an unknown id and ignores.
func TestParseAnnouncement(t *testing.T) {
	tests := []struct{ msg, ws, ids string }{
		{"@ws_1,ses_a,ak_b", "ws_1", "ses_a,ak_b"},
		{"ses_a,ak_b", "", "ses_a,ak_b"}, // an earlier replica's
		{"ses_a", "", "ses_a"},
		{"@ws_1", "", "@ws_1"}, // no ids: "@ws_1" is then an id no kind matches
		{"", "", ""},
	}
	for _, tt := range tests {
		if ws, ids := parseAnnouncement(tt.msg); ws != tt.ws || ids != tt.ids {
			t.Errorf("parseAnnouncement(%q) = %q, %q; want %q, %q", tt.msg, ws, ids, tt.ws, tt.ids)
		}
	}
	// What an earlier replica makes of a new message: the workspace item
	// is no id it knows, the rest are revoked as before.
	f := newFeed(time.Now)
	_, _, start, _ := f.since("", "")
	for id := range strings.SplitSeq("@ws_1,ses_a", ",") {
		f.add("", id)
	}
	if ev, _, _, _ := f.since(start, ""); len(ev) != 1 || ev[0].SessionID != "ses_a" {
		t.Errorf("old-format reading: %+v", ev)
	}
}
