package verify

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// The revocation feed (GET /v1/revocations, server-sent events): one
// "revoke" event per ended session ({"sid"}) or revoked/rotated API key
// ({"api_key"}), a ": ping" comment every 15 s, and "reset" when the
// server cannot replay from our cursor.
const (
	feedPath = "/v1/revocations"
	// feedIdle: no byte for this long (three missed pings) means the
	// connection is dead even if TCP has not noticed.
	feedIdle = 45 * time.Second
	// Reconnect backoff: from feedRetryMin, doubling, at most
	// feedRetryMax, with jitter so a fleet does not reconnect in step.
	feedRetryMin = 100 * time.Millisecond
	feedRetryMax = 5 * time.Second
	// maxFeedLine bounds one line of the stream.
	maxFeedLine = 64 << 10
)

// feedBody is the open event stream.
type feedBody = io.ReadCloser

// feed keeps the revocation stream open and hands its events to on: the
// Verifier's session table and introspection cache, or a Follower's
// caller.
type feed struct {
	url        string
	credential string
	http       *http.Client
	log        *slog.Logger
	on         func(Revocation) // called from one goroutine at a time
	setUp      func(bool)       // the stream is connected, or not

	mu     sync.Mutex
	cursor string // id of the last event applied; "" = none yet
}

func (f *feed) lastID() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cursor
}

// connect opens the stream, resuming after the cursor if there is one.
// Without one, events may have been missed: every live mark is void.
func (f *feed) connect(ctx context.Context) (feedBody, error) {
	u, cursor := f.url, f.lastID()
	if cursor != "" {
		u += "?after=" + url.QueryEscape(cursor)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	req.Header.Set("Authorization", "Bearer "+f.credential)
	if cursor != "" {
		req.Header.Set("Last-Event-ID", cursor)
	}
	res, err := f.http.Do(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		res.Body.Close()
		return nil, statusError(req, res.StatusCode, body)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		res.Body.Close()
		return nil, fmt.Errorf("GET %s: Content-Type %q, want text/event-stream", feedPath, ct)
	}
	if cursor == "" {
		f.on(Revocation{Reset: true})
	}
	f.setUp(true)
	return res.Body, nil
}

// run reads the stream and reconnects whenever it ends, until ctx ends.
func (f *feed) run(ctx context.Context, body feedBody) {
	for {
		start := time.Now()
		err := f.read(body)
		body.Close()
		f.setUp(false)
		if ctx.Err() != nil {
			return
		}
		f.log.Warn("verify: revocation feed dropped; reconnecting", "err", err, "after", time.Since(start).Round(time.Millisecond))
		if body = f.reconnect(ctx); body == nil {
			return
		}
	}
}

// reconnect retries with backoff until it has a stream or ctx ends.
func (f *feed) reconnect(ctx context.Context) feedBody {
	wait := feedRetryMin
	for {
		t := time.NewTimer(wait/2 + rand.N(wait/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		body, err := f.connect(ctx)
		if err == nil {
			return body
		}
		if ctx.Err() != nil {
			return nil
		}
		f.log.Warn("verify: revocation feed reconnect failed", "err", err)
		wait = min(2*wait, feedRetryMax)
	}
}

// event is one server-sent event being assembled.
type event struct {
	typ   string
	data  strings.Builder
	id    string
	hasID bool
}

// read applies the events of one stream until it ends; it returns why.
// A watchdog closes the body when the stream goes silent.
func (f *feed) read(body io.ReadCloser) error {
	idle := time.AfterFunc(feedIdle, func() { body.Close() })
	defer idle.Stop()
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 4096), maxFeedLine)
	var ev event
	for sc.Scan() {
		idle.Reset(feedIdle)
		line := sc.Text()
		if line == "" {
			f.dispatch(&ev)
			ev = event{}
			continue
		}
		if line[0] == ':' {
			continue // a comment: the server's keep-alive ping
		}
		name, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch name { // the SSE fields; "retry" is ours to decide
		case "event":
			ev.typ = value
		case "data":
			ev.data.WriteString(value)
			ev.data.WriteByte('\n')
		case "id":
			if !strings.ContainsRune(value, 0) {
				ev.id, ev.hasID = value, true
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return io.ErrUnexpectedEOF
}

// revocation is the data of a "revoke" event.
type revocation struct {
	SessionID string `json:"sid"`
	APIKey    string `json:"api_key"`
	JWTKey    string `json:"jwt_key"`
}

// dispatch applies a complete event, then advances the cursor, so a
// crash between the two replays the event rather than losing it.
func (f *feed) dispatch(ev *event) {
	switch ev.typ {
	case "revoke":
		var r revocation
		if err := json.Unmarshal([]byte(ev.data.String()), &r); err != nil {
			f.log.Warn("verify: bad revocation event", "err", err)
			break
		}
		f.on(Revocation{SessionID: r.SessionID, APIKeyID: r.APIKey, JWTKeyID: r.JWTKey})
	case "reset":
		f.on(Revocation{Reset: true})
	}
	if ev.hasID {
		f.mu.Lock()
		f.cursor = ev.id
		f.mu.Unlock()
	}
}
