package authn

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The revocation feed lets resource servers (the verify package) drop
// cached sessions and API keys within a second of their revocation on any
// replica. Each replica keeps the last feedKeep of events in memory, so a
// reconnecting client resumes from its cursor; a cursor from another
// replica, or older than the window, gets a reset (drop every cache).
// Events carry the workspace of what was revoked, so an API key of one
// workspace hears only of its own workspace's sessions and keys.
const (
	feedKeep = 10 * time.Minute
	feedMax  = 8192
)

// Revocation is one feed event: a session or an API key that died.
type Revocation struct {
	Cursor    string `json:"-"`
	Reset     bool   `json:"-"` // drop every cached decision (announcements may have been lost)
	SessionID string `json:"sid,omitempty"`
	APIKeyID  string `json:"api_key,omitempty"`
	JWTKeyID  string `json:"jwt_key,omitempty"`
}

type feedEntry struct {
	seq uint64
	at  time.Time
	ws  string // the workspace of the revoked record; "" unknown (every client hears of it)
	ev  Revocation
}

type feed struct {
	replica string // cursors are "<replica>-<seq>"
	now     func() time.Time
	mu      sync.Mutex
	seq     uint64
	entries []feedEntry
	wake    chan struct{} // closed and replaced on every append
	// echoes are this replica's announcements on their way back from
	// the bus: each is recorded once (locally, at once), not again when
	// its echo arrives.
	echoes map[echo]echoWait
}

type echo struct{ ws, id string }

type echoWait struct {
	n     int
	until time.Time
}

// echoTTL bounds how long an echo is awaited (a bus that lost it must
// not swallow a later revocation of the same id from another replica).
const echoTTL = 10 * time.Second

func newFeed(now func() time.Time) *feed {
	b := make([]byte, 4)
	rand.Read(b)
	return &feed{replica: hex.EncodeToString(b), now: now, wake: make(chan struct{}), echoes: map[echo]echoWait{}}
}

// expectEcho records that ids of ws, already added here, are being
// published: their echoes from the bus are not events again. The same id
// revoked again later (an API-key exchange session begun again and
// ended) is a new event.
func (f *feed) expectEcho(ws string, ids []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	for k, w := range f.echoes {
		if now.After(w.until) {
			delete(f.echoes, k)
		}
	}
	for _, id := range ids {
		w := f.echoes[echo{ws, id}]
		f.echoes[echo{ws, id}] = echoWait{n: w.n + 1, until: now.Add(echoTTL)}
	}
}

// cancelEcho undoes expectEcho for a publication that failed.
func (f *feed) cancelEcho(ws string, ids []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		f.consumeLocked(echo{ws, id})
	}
}

// isEcho reports (and forgets) whether id of ws is the echo of this
// replica's own announcement.
func (f *feed) isEcho(ws, id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.consumeLocked(echo{ws, id})
}

func (f *feed) consumeLocked(k echo) bool {
	w, ok := f.echoes[k]
	if !ok {
		return false
	}
	if w.n <= 1 {
		delete(f.echoes, k)
	} else {
		w.n--
		f.echoes[k] = w
	}
	return !f.now().After(w.until)
}

// add records a revoked id ("ses_…", "ak_…", "jk_…") of workspace ws;
// others are ignored.
func (f *feed) add(ws, id string) {
	var ev Revocation
	switch {
	case strings.HasPrefix(id, "ses_"):
		ev.SessionID = id
	case strings.HasPrefix(id, apiKeyIDPrefix+"_"):
		ev.APIKeyID = id
	case strings.HasPrefix(id, jwtKeyTag):
		ev.JWTKeyID = strings.TrimPrefix(id, jwtKeyTag)
	default:
		return
	}
	f.append(ws, ev)
}

// reset tells every client to drop its caches.
func (f *feed) reset() { f.append("", Revocation{Reset: true}) }

func (f *feed) append(ws string, ev Revocation) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	now := f.now()
	f.entries = append(f.entries, feedEntry{seq: f.seq, at: now, ws: ws, ev: ev})
	drop := 0
	for drop < len(f.entries) && (len(f.entries)-drop > feedMax || now.Sub(f.entries[drop].at) > feedKeep) {
		drop++
	}
	f.entries = f.entries[drop:]
	close(f.wake)
	f.wake = make(chan struct{})
}

// since returns the events after cursor ("" = from now) that a client of
// workspace ws may see ("" = all: the instance admin), whether the client
// must reset its caches, the cursor to resume from, and a channel closed
// when more events arrive.
func (f *feed) since(cursor, ws string) (events []Revocation, reset bool, next string, wake <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	from := f.seq // "" means: only what happens from now on
	if cursor != "" {
		rep, n, ok := strings.Cut(cursor, "-")
		seq, err := strconv.ParseUint(n, 10, 64)
		oldest := f.seq + 1
		if len(f.entries) > 0 {
			oldest = f.entries[0].seq
		}
		if !ok || err != nil || rep != f.replica || seq > f.seq || seq+1 < oldest {
			reset = true
		} else {
			from = seq
		}
	}
	for _, e := range f.entries {
		if e.seq > from && (ws == "" || e.ws == "" || e.ws == ws) {
			ev := e.ev
			ev.Cursor = f.cursor(e.seq)
			events = append(events, ev)
		}
	}
	return events, reset, f.cursor(f.seq), f.wake
}

func (f *feed) cursor(seq uint64) string { return f.replica + "-" + strconv.FormatUint(seq, 10) }

// Revocations serves the feed to a resource server: an API key with
// ScopeIntrospect hears of its own workspace's revocations, the instance
// admin of every one (see feed.since).
func (s *Service) Revocations(p Principal, cursor string) ([]Revocation, bool, string, <-chan struct{}, error) {
	if err := resourceServer(p, ScopeIntrospect); err != nil {
		return nil, false, "", nil, err
	}
	ws := p.WorkspaceID
	if p.IsAdmin() {
		ws = ""
	}
	ev, reset, next, wake := s.revoked.since(cursor, ws)
	return ev, reset, next, wake, nil
}
