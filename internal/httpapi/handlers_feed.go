package httpapi

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/sigil-auth/sigil/internal/authn"
)

// feedPing keeps idle feed connections (and proxies in between) alive.
const feedPing = 15 * time.Second

// revocations is GET /v1/revocations: a server-sent-events stream of
// revoked sessions and API keys, resumable with Last-Event-ID or ?after=.
// Open streams are capped per credential and per replica (429 beyond).
func (s *Server) revocations(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	cursor := r.Header.Get("Last-Event-ID")
	if cursor == "" {
		cursor = r.URL.Query().Get("after")
	}
	events, reset, next, wake, err := s.auth.Revocations(p, cursor)
	if err != nil {
		return err
	}
	release, err := s.streams.acquire(p)
	if err != nil {
		return err
	}
	defer release()
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	writeRevocations(w, events, reset, next) // at least the current cursor, so even an idle client can resume
	ping := time.NewTicker(feedPing)
	defer ping.Stop()
	for {
		if err := rc.Flush(); err != nil {
			return nil // client gone
		}
		select {
		case <-r.Context().Done():
			return nil
		case <-ping.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return nil
			}
			continue
		case <-wake:
		}
		// next is the cursor of everything sent so far. A reset here means
		// events were dropped before this stream read them (more than the
		// feed keeps arrived at once): the client must hear of it.
		events, reset, next, wake, _ = s.auth.Revocations(p, next)
		writeRevocations(w, events, reset, next)
	}
}

// writeRevocations writes one read of the feed as SSE: a reset (the
// client drops every cached decision), or the client's events followed,
// unless the last of them is at next, by an id-only block, so that the
// client's cursor moves past events it does not see (other workspaces')
// and a reconnect resumes instead of resetting.
func writeRevocations(w io.Writer, events []authn.Revocation, reset bool, next string) {
	if reset {
		fmt.Fprintf(w, "id: %s\nevent: reset\ndata: {}\n\n", next)
		return
	}
	last := ""
	for _, ev := range events {
		last = ev.Cursor
		if ev.Reset {
			fmt.Fprintf(w, "id: %s\nevent: reset\ndata: {}\n\n", ev.Cursor)
			continue
		}
		data, _ := json.Marshal(ev)
		fmt.Fprintf(w, "id: %s\nevent: revoke\ndata: %s\n\n", ev.Cursor, data)
	}
	if last != next {
		fmt.Fprintf(w, "id: %s\n\n", next)
	}
}
