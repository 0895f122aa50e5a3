// Package fanout carries short announcements (revocations: "session S is
// dead", "API key K is revoked") to every replica, so each can drop what it
// cached at once (DESIGN.md "Revocation fan-out").
//
// It owns the Bus contract and its three backends: Local (one process:
// SQLite or a single replica), Postgres (LISTEN/NOTIFY) and Redis
// (PUBLISH/SUBSCRIBE, when SIGIL_REDIS_URL is set). Delivery is at most once:
// a message published while a subscriber is reconnecting is lost, which is
// why Subscribe's onReconnect exists and why caches keep short lifetimes. It
// does not know what the messages mean, does not own the pool or client it is
// given (Close never closes them) and imports nothing of Sigil's.
package fanout
