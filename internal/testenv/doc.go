// Package testenv builds real test environments: fresh PostgreSQL
// schemas and Redis prefixes on the services named by SIGIL_TEST_POSTGRES
// and SIGIL_TEST_REDIS, and a whole Sigil server (store, keys, limiter,
// fan-out, HTTP) with an injected clock on either backend.
//
// Test code only. Unset variables skip the test with a message; set but
// unreachable services fail it, so CI cannot pass by skipping.
package testenv
