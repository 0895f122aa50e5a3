package gateway

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Auth cache bounds. MaxCacheTTL is the contract "a revoked credential is
// refused within 1 s"; an entry counts from before Sigil was asked, so it
// never outlives Sigil's answer by more than the TTL.
const (
	DefaultCacheTTL = time.Second
	MaxCacheTTL     = time.Second
	maxCacheEntries = 100_000
	maxSigilBody    = 64 << 10 // relayed refusal bodies; Sigil's are small JSON
)

// identity is Sigil's answer for a credential: the X-Sigil-* values the
// upstream receives.
type identity struct {
	subject, workspace, scopes, kind, session string
}

// set writes the identity headers; a header Sigil did not send is absent.
func (id *identity) set(h http.Header) {
	for _, kv := range [...][2]string{
		{"X-Sigil-Subject", id.subject}, {"X-Sigil-Workspace", id.workspace},
		{"X-Sigil-Scopes", id.scopes}, {"X-Sigil-Kind", id.kind}, {"X-Sigil-Session", id.session},
	} {
		if kv[1] != "" {
			h[kv[0]] = []string{kv[1]}
		}
	}
}

// refusal is a Sigil 400/401/403/429, relayed to the client as it came.
type refusal struct {
	status int
	header http.Header // only relayedHeaders
	body   []byte
}

var relayedHeaders = []string{"Content-Type", "Retry-After", "WWW-Authenticate",
	"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"}

// authorizer asks Sigil's forward-auth endpoint and caches its 200s.
type authorizer struct {
	endpoint string // <sigil>/v1/authorize
	client   *http.Client
	ttl      time.Duration // ≤ 0: no cache
	now      func() time.Time

	mu      sync.Mutex
	cache   map[[32]byte]cached
	flights map[[32]byte]*flight // Sigil calls in progress, by cache key
	// revoked counts the revocations heard of (Gateway.Revoked): an
	// answer asked for before one is not cached after it, since Sigil
	// may have judged the credential before the revocation.
	revoked uint64
}

// flight is one call to Sigil whose answer every request with the same
// credential and scopes that arrives meanwhile shares.
type flight struct {
	done chan struct{}
	id   identity
	ref  *refusal
	err  error
}

type cached struct {
	id      identity
	expires time.Time
}

// errSigil is Sigil unreachable or answering something unexpected: the
// proxy fails closed (503).
var errSigil = errors.New("gateway: sigil forward-auth failed")

// check authorizes r's credential for ru's scopes: an identity, or a
// refusal to relay, or errSigil (wrapped). Concurrent misses of one
// credential and scope set make one call to Sigil (with the cache on), so
// a burst of a client's requests when its entry expires costs Sigil one
// check, not one per request.
func (a *authorizer) check(ctx context.Context, r *http.Request, ru *rule) (identity, *refusal, error) {
	authz, apiKey := r.Header.Get("Authorization"), r.Header.Get("X-Api-Key")
	key := cacheKey(authz, apiKey, ru.query)
	start := a.now()
	if a.ttl <= 0 {
		return a.ask(ctx, r, authz, apiKey, ru.query)
	}
	if id, ok := a.lookup(key, start); ok {
		return id, nil, nil
	}
	a.mu.Lock()
	f, joined := a.flights[key]
	if !joined {
		f = &flight{done: make(chan struct{})}
		a.flights[key] = f
	}
	revoked := a.revoked
	a.mu.Unlock()
	if !joined {
		// The call outlives a leader whose client went away, for the
		// others waiting on it; AuthClient's timeout still bounds it.
		f.id, f.ref, f.err = a.ask(context.WithoutCancel(ctx), r, authz, apiKey, ru.query)
		if f.err == nil && f.ref == nil {
			a.store(key, f.id, start.Add(a.ttl), revoked)
		}
		a.mu.Lock()
		delete(a.flights, key) // after the store: a request now finds one or the other
		a.mu.Unlock()
		close(f.done)
	}
	select {
	case <-f.done:
		return f.id, f.ref, f.err
	case <-ctx.Done():
		return identity{}, nil, fmt.Errorf("%w: %v", errSigil, ctx.Err())
	}
}

// cacheKey hashes the credential so the cache never holds a secret.
func cacheKey(authz, apiKey, query string) [32]byte {
	h := sha256.New()
	for _, s := range []string{authz, apiKey, query} {
		io.WriteString(h, s)
		h.Write([]byte{0})
	}
	var k [32]byte
	h.Sum(k[:0])
	return k
}

func (a *authorizer) lookup(k [32]byte, now time.Time) (identity, bool) {
	if a.ttl <= 0 {
		return identity{}, false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	c, ok := a.cache[k]
	if !ok || !now.Before(c.expires) {
		return identity{}, false
	}
	return c.id, true
}

// store adds an entry; a full cache first drops expired entries and, if
// still full (a flood of distinct credentials), everything: entries live
// one second at most, so clearing costs one round trip each.
func (a *authorizer) store(k [32]byte, id identity, expires time.Time, revoked uint64) {
	if a.ttl <= 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.revoked != revoked {
		return // a revocation came while Sigil was asked
	}
	if len(a.cache) >= maxCacheEntries {
		now := a.now()
		for ck, c := range a.cache {
			if !now.Before(c.expires) {
				delete(a.cache, ck)
			}
		}
		if len(a.cache) >= maxCacheEntries {
			clear(a.cache)
		}
	}
	a.cache[k] = cached{id: id, expires: expires}
}

// forget drops the cached answers for which drop is true, and keeps
// answers being asked for meanwhile out of the cache.
func (a *authorizer) forget(drop func(identity) bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.revoked++
	for k, c := range a.cache {
		if drop(c.id) {
			delete(a.cache, k)
		}
	}
}

// ask calls GET <sigil>/v1/authorize?<query> with the client's credential
// headers and the original method and path (for Sigil's logs; the query
// may hold secrets and is not sent).
func (a *authorizer) ask(ctx context.Context, r *http.Request, authz, apiKey, query string) (identity, *refusal, error) {
	u := a.endpoint
	if query != "" {
		u += "?" + query
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return identity{}, nil, fmt.Errorf("%w: %v", errSigil, err)
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	if apiKey != "" {
		req.Header.Set("X-Api-Key", apiKey)
	}
	req.Header.Set("X-Forwarded-Method", r.Method)
	req.Header.Set("X-Forwarded-Uri", r.URL.EscapedPath())
	res, err := a.client.Do(req)
	if err != nil {
		return identity{}, nil, fmt.Errorf("%w: %v", errSigil, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxSigilBody))
	if err != nil {
		return identity{}, nil, fmt.Errorf("%w: reading the answer: %v", errSigil, err)
	}
	switch res.StatusCode {
	case http.StatusOK:
		return answer(res.Header)
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusTooManyRequests:
		ref := &refusal{status: res.StatusCode, header: http.Header{}, body: body}
		for _, h := range relayedHeaders {
			if v := res.Header.Values(h); len(v) > 0 {
				ref.header[h] = v
			}
		}
		return identity{}, ref, nil
	}
	return identity{}, nil, fmt.Errorf("%w: status %d", errSigil, res.StatusCode)
}

// answer reads a 200's identity. A 200 without a subject is not Sigil
// (a sigil_url pointing elsewhere): refuse rather than let everyone in.
func answer(h http.Header) (identity, *refusal, error) {
	id := identity{
		subject: h.Get("X-Sigil-Subject"), workspace: h.Get("X-Sigil-Workspace"),
		scopes: h.Get("X-Sigil-Scopes"), kind: h.Get("X-Sigil-Kind"), session: h.Get("X-Sigil-Session"),
	}
	if id.subject == "" {
		return identity{}, nil, fmt.Errorf("%w: a 200 without X-Sigil-Subject (is sigil_url a Sigil server?)", errSigil)
	}
	return id, nil, nil
}

// tier is the name in the first "tier:<name>" scope, or "".
func (id *identity) tier() string {
	for s := range strings.FieldsSeq(id.scopes) {
		if t, ok := strings.CutPrefix(s, "tier:"); ok {
			return t
		}
	}
	return ""
}
