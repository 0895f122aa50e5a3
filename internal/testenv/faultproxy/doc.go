// Package faultproxy is a TCP proxy for tests that breaks the network
// between a client and a real server (PostgreSQL, Redis) the ways
// production does: refused connections, a server restart that cuts every
// open one, a dead link that answers nothing. It fakes nothing of the
// server: only the link fails.
//
// Test code only. It imports nothing of Sigil, so the tests of any
// package (internal/fanout's included, which internal/testenv imports)
// can use it.
package faultproxy
