// Command plain is the hello-baseline server of the load driver: a trivial
// net/http handler answering GET / with the same JSON (and headers) as
// Sigil's GET /, but without authentication, middleware, metrics or logs.
// The driver runs it as a child process exactly like `sigil serve`, so the
// difference between the two CPU-per-request figures is what Sigil adds.
//
// It owns nothing else and imports nothing of Sigil's.
package main
