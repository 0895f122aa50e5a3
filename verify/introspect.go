package verify

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"time"
)

// introspectTTL bounds how long an answer of the server is reused: a
// revoked API key or deleted JWT key is refused here at most this late
// (the feed usually makes it sooner).
const introspectTTL = time.Second

// introspection is an RFC 7662 answer, with Sigil's extra fields.
type introspection struct {
	Active    bool   `json:"active"`
	Subject   string `json:"sub"`
	ClientID  string `json:"client_id"`
	Scope     string `json:"scope"`
	Exp       int64  `json:"exp"`
	TokenType string `json:"token_type"`
	SessionID string `json:"sid"`
	Workspace string `json:"ws"`
	Kind      string `json:"kind"`
}

// introEntry is a cached answer.
type introEntry struct {
	ans   *introspection
	until time.Time
}

// introCall is an introspection in flight, shared by concurrent askers
// of the same token.
type introCall struct {
	done chan struct{}
	gen  uint64 // the introspector's gen when the call began
	ans  *introspection
	err  error
}

// introspector asks POST /oauth2/introspect, caching answers for at most
// introspectTTL. Errors are not cached. Safe for concurrent use.
type introspector struct {
	url  string
	post func(ctx context.Context, url string, form url.Values, out any) error
	now  func() time.Time

	mu     sync.Mutex
	cache  map[string]introEntry
	flight map[string]*introCall
	gen    uint64 // bumped by every forget: an answer asked for before one is not cached
}

func newIntrospector(u string, post func(context.Context, string, url.Values, any) error, now func() time.Time) *introspector {
	return &introspector{url: u, post: post, now: now, cache: map[string]introEntry{}, flight: map[string]*introCall{}}
}

// lookup returns the server's answer about raw.
func (in *introspector) lookup(ctx context.Context, raw string) (*introspection, error) {
	in.mu.Lock()
	if e, ok := in.cache[raw]; ok && in.now().Before(e.until) {
		in.mu.Unlock()
		return e.ans, nil
	}
	c, ok := in.flight[raw]
	if !ok {
		c = &introCall{done: make(chan struct{}), gen: in.gen}
		in.flight[raw] = c
		go in.ask(context.WithoutCancel(ctx), raw, c)
	}
	in.mu.Unlock()
	select {
	case <-c.done:
		return c.ans, c.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// ask makes the call for lookup; it outlives an impatient first asker
// (WithoutCancel) so the others still get the answer.
func (in *introspector) ask(ctx context.Context, raw string, c *introCall) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	var ans introspection
	c.err = in.post(ctx, in.url, url.Values{"token": {raw}}, &ans)
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.flight[raw] == c {
		delete(in.flight, raw)
	}
	if c.err == nil {
		c.ans = &ans
	}
	// An answer the server gave before a revocation this process has
	// since heard of may be stale: it goes to the callers already waiting
	// but is not kept for later ones.
	if c.err == nil && c.gen == in.gen {
		until := in.now().Add(introspectTTL)
		if exp := time.Unix(ans.Exp, 0); ans.Active && ans.Exp > 0 && exp.Before(until) {
			until = exp
		}
		if len(in.cache) >= tokenCacheSize {
			clear(in.cache)
		}
		in.cache[raw] = introEntry{ans: &ans, until: until}
	}
	close(c.done)
}

// forgetKey drops the answers about API key id (revoked or rotated),
// and keeps any call in flight from caching its answer.
func (in *introspector) forgetKey(id string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.forgetFlights()
	for raw, e := range in.cache {
		if e.ans.Subject == id || e.ans.ClientID == id {
			delete(in.cache, raw)
		}
	}
}

// forgetFlights makes the calls in flight leave no answer behind, and
// later lookups ask anew rather than join them. in.mu is held.
func (in *introspector) forgetFlights() {
	in.gen++
	clear(in.flight)
}

// sweep drops stale answers; flush drops all of them (a feed reset).
func (in *introspector) sweep() { in.drop(false) }
func (in *introspector) flush() { in.drop(true) }

func (in *introspector) drop(all bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if all {
		in.forgetFlights()
	}
	now := in.now()
	for raw, e := range in.cache {
		if all || !now.Before(e.until) {
			delete(in.cache, raw)
		}
	}
}

// principal turns an active answer about an API key (wantType
// "api_key") or a customer JWT ("jwt") into a Principal. An answer for a
// different kind of token (a refresh token pasted as an API key…) is a
// refusal.
func (a *introspection) principal(wantType string) (*Principal, error) {
	if !a.Active || a.TokenType != wantType {
		return nil, ErrInvalidToken
	}
	p := &Principal{
		Subject: a.Subject, Kind: a.Kind, Workspace: a.Workspace, Scopes: strings.Fields(a.Scope),
		SessionID: a.SessionID,
	}
	switch a.Kind {
	case KindAPIKey:
		p.AuthMethod = "apikey"
	case KindJWTKey:
		p.AuthMethod = "jwt"
	}
	if a.Exp > 0 {
		p.Expires = time.Unix(a.Exp, 0)
	}
	return p, nil
}
