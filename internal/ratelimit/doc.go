// Package ratelimit enforces the authentication limits of API.md §8: at most
// N attempts per key in ANY window of the rule's length (a sliding-window
// log, not a token bucket — a bucket refills during a burst and lets more than
// N through in one minute).
//
// It owns the Limiter contract, its two backends (Memory for one replica,
// Redis for limits shared by all replicas) and the SIGIL_RATE_LIMITS syntax
// (ParseRules, DefaultRules). It does not know about HTTP, client IPs or
// accounts: callers build the key ("login_ip:" + ip, …), pick the Rule by name,
// turn a refused Decision into 429 + Retry-After (Seconds; StreamRetryAfter
// for a stream refused by a Concurrency), and decide what a backend
// error means (fail open or closed). It imports nothing of Sigil's.
package ratelimit
