// Package store defines Sigil's persistence contract: the Store interface,
// its record types and the two sentinel errors callers branch on.
//
// It owns no SQL itself; the backends live in store/sqlite and
// store/postgres and both must pass store/storetest. This package imports
// nothing else of Sigil's. Secrets never reach it in the clear: callers pass
// SHA-256 hashes of refresh tokens, auth codes and join codes, and
// AES-GCM ciphertext for signing keys.
package store
