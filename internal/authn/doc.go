// Package authn owns Sigil's authentication flows: the ways to earn a
// session (key-pair challenge, later passwords, API keys, SSO), the session
// lifecycle (refresh rotation with reuse detection, logout), workspaces and
// their members (roles, scopes, invitations by email, removal), and
// Authenticate, the one path that turns a presented credential into a
// Principal.
//
// It never sees *http.Request: callers pass header values and the client
// IP. Its errors are *Error values with stable codes (errors.go); mapping
// them to HTTP statuses is the caller's job. It reaches storage only
// through store.Store and time only through its injected clock.
package authn
