package httpapi

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sigil-auth/sigil/internal/authn"
)

// Every read of the feed leaves the client's cursor at next: a reset (a
// stream that fell behind must hear of it, not only a reconnecting one),
// its events, or an id-only block when it saw nothing or the events after
// its last were another workspace's.
func TestWriteRevocations(t *testing.T) {
	tests := []struct {
		name   string
		events []authn.Revocation
		reset  bool
		want   string
	}{
		{"reset", nil, true, "id: r-9\nevent: reset\ndata: {}\n\n"},
		{"nothing for this client", nil, false, "id: r-9\n\n"},
		{"its events, up to next", []authn.Revocation{{Cursor: "r-8", SessionID: "ses_a"}, {Cursor: "r-9", APIKeyID: "ak_b"}}, false,
			"id: r-8\nevent: revoke\ndata: {\"sid\":\"ses_a\"}\n\n" +
				"id: r-9\nevent: revoke\ndata: {\"api_key\":\"ak_b\"}\n\n"},
		{"others' events after its own", []authn.Revocation{{Cursor: "r-7", SessionID: "ses_a"}}, false,
			"id: r-7\nevent: revoke\ndata: {\"sid\":\"ses_a\"}\n\nid: r-9\n\n"},
		{"a reset event", []authn.Revocation{{Cursor: "r-9", Reset: true}}, false, "id: r-9\nevent: reset\ndata: {}\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			writeRevocations(&b, tt.events, tt.reset, "r-9")
			if d := cmp.Diff(tt.want, b.String()); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}
