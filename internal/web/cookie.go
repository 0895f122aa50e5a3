package web

import (
	"net/http"
	"net/url"
	"time"
)

// cookieSpec is how the browser-session cookie is set. On an https issuer
// it is "__Host-sigil" (Secure, host-only, path /); on a plain-http issuer
// (local development) browsers would drop a Secure cookie, so it is
// "sigil" without Secure. Both are HttpOnly and SameSite=Lax.
type cookieSpec struct {
	name   string
	secure bool
}

func newCookieSpec(issuer string) cookieSpec {
	if u, err := url.Parse(issuer); err == nil && u.Scheme == "https" {
		return cookieSpec{name: "__Host-sigil", secure: true}
	}
	return cookieSpec{name: "sigil"}
}

// read returns the cookie's value, "" if absent.
func (c cookieSpec) read(r *http.Request) string {
	k, err := r.Cookie(c.name)
	if err != nil {
		return ""
	}
	return k.Value
}

// set stores a browser session's cookie for as long as the session
// lives: a Max-Age, so that the browser's clock does not matter.
func (c cookieSpec) set(w http.ResponseWriter, value string, ttl time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: c.name, Value: value, Path: "/", MaxAge: max(1, int(ttl.Seconds())),
		HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode})
}

// clear deletes the cookie.
func (c cookieSpec) clear(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: c.name, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode})
}
