// Package argon2id is golang.org/x/crypto/argon2's Argon2id (version
// 0x13) computing in memory the caller keeps and reuses (Memory), so that
// a server hashing passwords does not allocate m KiB per hash: x/crypto's
// IDKey makes a new 19 MiB slice for every OWASP hash, and that garbage,
// its collection and the fragmentation it leaves are most of Sigil's
// memory under password load. On Unix a Memory is mapped outside the Go
// heap (it holds no pointers): the collector neither scans it nor counts
// it toward its goal or the memory limit, which then follow the rest of
// the server.
//
// The code is x/crypto's (BSD licence, LICENSE here), Argon2id only, with
// one change (see processBlocks): the first pass overwrites blocks rather
// than XORing into memory x/crypto knows to be zero. The BlaMka compression
// is x/crypto's SSE assembly on amd64, its generic Go elsewhere. Tests hold
// it to RFC 9106's Argon2id test vector and to x/crypto's output for random
// inputs in memory reused dirty; BenchmarkIDKey compares the speed.
//
// It owns nothing else: parameters, encoding and concurrency are
// internal/password's.
package argon2id
