package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	neturl "net/url"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// allowScript is the whole decision, atomic on the Redis server: trim the
// key's sorted set (score = attempt time in µs) to the window, count it, add
// this attempt if under the limit, and refresh the key's expiry. Trim, count
// and add in one script are what make "exactly N of 200 concurrent attempts"
// hold across replicas; separate commands would race.
//
// KEYS[1] the set; ARGV: now µs, window µs, limit, unique member, expiry ms.
// Returns {allowed 0|1, count before this attempt, oldest µs, newest µs}.
var allowScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
local oldest, newest = 0, 0
if n > 0 then
  oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
  newest = tonumber(redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2])
end
local allowed = 0
if n < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  allowed = 1
end
return {allowed, n, oldest, newest}
`)

// expirySlack keeps a key alive a little past its window so replicas whose
// clocks run slightly behind Redis's still see their attempts.
const expirySlack = time.Second

// Redis is a Limiter shared by every replica using the same Redis: one sorted
// set per key, named prefix+key. Attempt times come from the replica's own
// clock (now), passed to the script so tests can inject one; replicas with
// skewed clocks disagree by at most their skew, which is fine for limits
// measured in minutes.
type Redis struct {
	c      redis.UniversalClient
	prefix string
	now    func() time.Time
}

// NewRedis returns a Redis limiter; now nil means time.Now. The client is
// not owned: closing it is the caller's job.
func NewRedis(c redis.UniversalClient, prefix string, now func() time.Time) *Redis {
	if now == nil {
		now = time.Now
	}
	return &Redis{c: c, prefix: prefix, now: now}
}

// Allow implements Limiter with one EVALSHA round trip (EVAL on NOSCRIPT).
func (l *Redis) Allow(ctx context.Context, key string, r Rule) (Decision, error) {
	if err := r.validate(); err != nil {
		return Decision{}, err
	}
	now := l.now().UnixMicro()
	// The member must be unique per attempt: two attempts in the same
	// microsecond (or from two replicas) must both count.
	member := strconv.FormatInt(now, 36) + "-" + strconv.FormatUint(rand.Uint64(), 36)
	expiry := (r.Window + expirySlack).Milliseconds()
	res, err := allowScript.Run(ctx, l.c, []string{l.prefix + key},
		now, r.Window.Microseconds(), r.Limit, member, expiry).Int64Slice()
	if err != nil {
		return Decision{}, fmt.Errorf("ratelimit: redis: %w", err)
	}
	if len(res) != 4 {
		return Decision{}, fmt.Errorf("ratelimit: redis: script returned %d values, want 4", len(res))
	}
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	d := decide(r, int(res[1]), us(res[2]), us(res[3]), us(now))
	if d.Allowed != (res[0] == 1) {
		// Cannot happen unless the script and decide disagree on the rule.
		return Decision{}, fmt.Errorf("ratelimit: redis: script and decision disagree for %q", key)
	}
	return d, nil
}

// NewRedisClient parses a redis://, rediss:// or unix:// URL into a client
// with maintenance notifications off: go-redis ≥ 9.15 otherwise sends
// CLIENT MAINT_NOTIFICATIONS and logs errors against plain Redis servers.
// It does no I/O; Ping the client to check the server.
func NewRedisClient(url string) (redis.UniversalClient, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		// url.Error quotes the whole URL, password included: keep only the cause.
		if ue := (*neturl.Error)(nil); errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("ratelimit: redis url: %w", err)
	}
	opt.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	// Fail fast when Redis is down: limited requests are refused (503)
	// rather than let through, and go-redis's defaults (5 dials 100 ms
	// apart, for each of 4 tries) kept a login waiting 1.3–1.7 s before
	// that refusal. One dial per try, one retry (max_retries and
	// dial_timeout in the URL still win).
	opt.DialerRetries = 1
	var set neturl.Values // the URL's own options (ParseURL accepted it)
	if u, err := neturl.Parse(url); err == nil {
		set = u.Query()
	}
	if !set.Has("max_retries") {
		opt.MaxRetries = 1
	}
	if !set.Has("dial_timeout") {
		opt.DialTimeout = time.Second
	}
	return redis.NewClient(opt), nil
}
