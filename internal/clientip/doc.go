// Package clientip decides which address a request comes from, given the
// proxies the operator trusts (SIGIL_TRUSTED_PROXIES). Rate limits and audit
// entries are keyed by that address, so a client must not be able to choose
// it: X-Forwarded-For is believed only as far as trusted proxies vouch for it.
//
// It owns the parsing of the trusted list and the X-Forwarded-For walk. It
// does not read *http.Request itself (the caller passes r.RemoteAddr and
// r.Header.Values("X-Forwarded-For")) and imports nothing of Sigil's.
package clientip
