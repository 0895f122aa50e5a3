package authn

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
	"github.com/sigil-auth/sigil/internal/token"
)

// Cache bounds. A verified access token is remembered until it expires
// (its signature cannot change), so repeat requests skip the Ed25519
// verification. Whether its session is still live is remembered for at
// most liveTTL, the bound on how long a revocation can go unseen if its
// announcement is lost.
const (
	tokenCacheSize = 1 << 14
	liveTTL        = 500 * time.Millisecond
	cacheShards    = 16
	// exchangeCacheSize bounds cached exchange answers (about 0.6 kB
	// each, most of it the token): the callers that exchange often are
	// few services, not every client.
	exchangeCacheSize = 1 << 12
)

var seed = maphash.MakeSeed()

func shardOf(key string) int { return int(maphash.String(seed, key) % cacheShards) }

// tokenCache maps a verified token's text to its claims. When a shard is
// full it is emptied: crude, but bounded and O(1), and a miss only costs
// one verification.
type tokenCache struct {
	perShard int
	shards   [cacheShards]struct {
		sync.RWMutex
		m map[string]*token.Claims
	}
}

func newTokenCache(size int) *tokenCache {
	c := &tokenCache{perShard: size / cacheShards}
	for i := range c.shards {
		c.shards[i].m = make(map[string]*token.Claims)
	}
	return c
}

// get returns the cached claims of tok if they have not expired at now.
func (c *tokenCache) get(tok string, now time.Time) *token.Claims {
	sh := &c.shards[shardOf(tok)]
	sh.RLock()
	cl := sh.m[tok]
	sh.RUnlock()
	if cl == nil || cl.ExpiresAt == nil || !now.Before(cl.ExpiresAt.Time) {
		return nil
	}
	return cl
}

func (c *tokenCache) put(tok string, cl *token.Claims) {
	sh := &c.shards[shardOf(tok)]
	sh.Lock()
	if len(sh.m) >= c.perShard {
		clear(sh.m)
	}
	sh.m[tok] = cl
	sh.Unlock()
}

// liveCache remembers, per session id, that the session was live when
// last read from the store, for at most ttl. For API-key exchange
// sessions it also keeps the session's key and expiry and its token, so
// repeated exchanges within ttl neither read the store nor sign again; a
// forget (revocation announcement) drops both.
type liveCache struct {
	// epoch counts forgets; a store read that started before a forget
	// must not mark its (possibly stale) answer live.
	epoch  atomic.Uint64
	ttl    time.Duration
	now    func() time.Time
	shards [cacheShards]struct {
		sync.RWMutex
		m  map[string]liveEntry     // session id → when seen live
		ex map[string]exchangeEntry // exchange session id → last read live
	}
}

// liveEntry is a session seen live at at; born is its creation in Unix
// seconds (an exchange session's tokens carry it as iat).
type liveEntry struct {
	at   time.Time
	born int64
}

// exchangeEntry is what an exchange answer needs of a session read live
// from the store at at, with the access token minted for it.
type exchangeEntry struct {
	apiKeyID  string
	expiresAt time.Time
	token     string
	at        time.Time
}

func newLiveCache(ttl time.Duration, now func() time.Time) *liveCache {
	c := &liveCache{ttl: ttl, now: now}
	for i := range c.shards {
		c.shards[i].m = make(map[string]liveEntry)
		c.shards[i].ex = make(map[string]exchangeEntry)
	}
	return c
}

// exchange returns what was cached of exchange session sid if it was
// read live less than ttl ago. The caller still checks key and expiry.
func (c *liveCache) exchange(sid string) (exchangeEntry, bool) {
	sh := &c.shards[shardOf(sid)]
	sh.RLock()
	e, ok := sh.ex[sid]
	sh.RUnlock()
	return e, ok && c.now().Sub(e.at) < c.ttl
}

// putExchange caches sess (read live from the store after epoch was
// read) and its token, unless anything was forgotten since.
func (c *liveCache) putExchange(sess store.Session, token string, epoch uint64) {
	sh := &c.shards[shardOf(sess.ID)]
	sh.Lock()
	defer sh.Unlock()
	if c.epoch.Load() != epoch {
		return
	}
	if len(sh.ex) >= exchangeCacheSize/cacheShards {
		clear(sh.ex)
	}
	sh.ex[sess.ID] = exchangeEntry{apiKeyID: sess.APIKeyID, expiresAt: sess.ExpiresAt, token: token, at: c.now()}
}

// fresh reports whether sid was seen live less than ttl ago, with its
// creation second.
func (c *liveCache) fresh(sid string) (born int64, ok bool) {
	sh := &c.shards[shardOf(sid)]
	sh.RLock()
	e, ok := sh.m[sid]
	sh.RUnlock()
	return e.born, ok && c.now().Sub(e.at) < c.ttl
}

// markLive records sid (created in second born) as live, unless anything
// was forgotten since epoch was read (the read it is based on may
// predate a revocation).
func (c *liveCache) markLive(sid string, born int64, epoch uint64) {
	sh := &c.shards[shardOf(sid)]
	sh.Lock()
	defer sh.Unlock()
	if c.epoch.Load() != epoch {
		return
	}
	if len(sh.m) >= tokenCacheSize/cacheShards {
		clear(sh.m)
	}
	sh.m[sid] = liveEntry{at: c.now(), born: born}
}

// forget drops sid, so the next check reads the store.
func (c *liveCache) forget(sid string) {
	c.epoch.Add(1)
	sh := &c.shards[shardOf(sid)]
	sh.Lock()
	delete(sh.m, sid)
	delete(sh.ex, sid)
	sh.Unlock()
}

// flush drops everything (after a lost connection to the fan-out bus).
func (c *liveCache) flush() {
	c.epoch.Add(1)
	for i := range c.shards {
		c.shards[i].Lock()
		clear(c.shards[i].m)
		clear(c.shards[i].ex)
		c.shards[i].Unlock()
	}
}

// recordCache remembers records read from the store for at most ttl, by
// a string key, with an index from record id to keys so a revocation
// announced by id drops every entry for it.
type recordCache[T any] struct {
	ttl time.Duration
	now func() time.Time
	mu  sync.RWMutex
	m   map[string]cached[T]
	ids map[string]string // record id → key
	// epoch guards against caching a read that raced a forget.
	epoch atomic.Uint64
}

type cached[T any] struct {
	v  T
	id string
	at time.Time
}

func newRecordCache[T any](ttl time.Duration, now func() time.Time) *recordCache[T] {
	return &recordCache[T]{ttl: ttl, now: now, m: map[string]cached[T]{}, ids: map[string]string{}}
}

func (c *recordCache[T]) get(key string) (T, bool) {
	c.mu.RLock()
	e, ok := c.m[key]
	c.mu.RUnlock()
	if !ok || c.now().Sub(e.at) >= c.ttl {
		var zero T
		return zero, false
	}
	return e.v, true
}

// put caches v under key unless a forget happened since epoch was read.
func (c *recordCache[T]) put(key, id string, v T, epoch uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch.Load() != epoch {
		return
	}
	if len(c.m) >= tokenCacheSize {
		clear(c.m)
		clear(c.ids)
	}
	c.m[key] = cached[T]{v: v, id: id, at: c.now()}
	c.ids[id] = key
}

// forget drops the entry of record id.
func (c *recordCache[T]) forget(id string) {
	c.epoch.Add(1)
	c.mu.Lock()
	if key, ok := c.ids[id]; ok {
		delete(c.m, key)
		delete(c.ids, id)
	}
	c.mu.Unlock()
}

func (c *recordCache[T]) flush() {
	c.epoch.Add(1)
	c.mu.Lock()
	clear(c.m)
	clear(c.ids)
	c.mu.Unlock()
}

// touchSet rate-limits "last used" writes to one per id per minute per
// replica.
type touchSet struct {
	mu sync.Mutex
	m  map[string]time.Time
}

func newTouchSet() *touchSet { return &touchSet{m: map[string]time.Time{}} }

// due reports whether id was not touched in the last minute, and marks it.
func (t *touchSet) due(id string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if last, ok := t.m[id]; ok && now.Sub(last) < time.Minute {
		return false
	}
	if len(t.m) >= tokenCacheSize {
		clear(t.m)
	}
	t.m[id] = now
	return true
}
