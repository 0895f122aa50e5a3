package gateway

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// rule is a Route ready to serve: the query of its /v1/authorize call is
// built once, and it doubles as part of the auth cache key.
type rule struct {
	Route
	query string // "scope=…&aal=2", escaped; "" for none
}

// authorizeQuery is the query asking Sigil for r's scopes and assurance.
func authorizeQuery(r Route) string {
	q := url.Values{}
	if len(r.Scopes) > 0 {
		q.Set("scope", strings.Join(r.Scopes, " "))
	}
	if r.RequireAAL == "aal2" {
		q.Set("aal", "2")
	}
	return q.Encode()
}

// ServeHTTP is never called: the router only uses the ServeMux to find
// the rule (Handler), and the Gateway serves it.
func (*rule) ServeHTTP(http.ResponseWriter, *http.Request) {}

// router picks a request's rule with a net/http.ServeMux, so patterns
// mean exactly what they mean in Go: methods, hosts, {wildcards}, {$},
// and "most specific wins" (for plain paths, the longest prefix).
type router struct{ mux *http.ServeMux }

// newRouter registers every route; all problems (syntax, duplicates,
// conflicting patterns) are reported together.
func newRouter(routes []Route) (*router, error) {
	mux := http.NewServeMux()
	var errs []error
	for i, r := range routes {
		if err := handle(mux, r.Pattern, &rule{Route: r, query: authorizeQuery(r)}); err != nil {
			errs = append(errs, fmt.Errorf("routes[%d] %q: %v", i, r.Pattern, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &router{mux: mux}, nil
}

// handle is mux.Handle with its panics (bad or conflicting pattern) as errors.
func handle(mux *http.ServeMux, pattern string, h http.Handler) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%v", v)
		}
	}()
	if strings.TrimSpace(pattern) == "" {
		return errors.New("empty pattern")
	}
	mux.Handle(pattern, h)
	return nil
}

// errAmbiguousPath: the escaped and the decoded path pick different rules.
var errAmbiguousPath = &errRequest{http.StatusBadRequest, "invalid_request",
	"the path's percent-encoding changes which route it belongs to (e.g. an encoded slash)"}

// match returns the request's rule; or, when there is none, the
// ServeMux's redirect (e.g. "/admin" → "/admin/" when only the subtree is
// a route: serving "/admin" under "/" instead would apply the wrong
// scopes), or nil for no route at all.
//
// ServeMux matches the escaped path, where %2F is not a separator:
// "/admin%2Fx" is under "/", but an upstream that routes on the decoded
// path sees "/admin/x". So a path with non-canonical escapes must pick
// the same rule when decoded, or it is refused (errAmbiguousPath).
func (rt *router) match(r *http.Request) (*rule, http.Handler, *errRequest) {
	ru, redirect := rt.lookup(r)
	if ru == nil || r.URL.RawPath == "" {
		return ru, redirect, nil
	}
	decoded, u := *r, *r.URL
	u.RawPath = "" // EscapedPath now re-encodes the decoded Path canonically
	decoded.URL = &u
	if other, _ := rt.lookup(&decoded); other != ru {
		return nil, nil, errAmbiguousPath
	}
	return ru, nil, nil
}

func (rt *router) lookup(r *http.Request) (*rule, http.Handler) {
	h, pattern := rt.mux.Handler(r)
	if ru, ok := h.(*rule); ok {
		return ru, nil
	}
	if pattern == "" {
		return nil, nil // not found, or no pattern for this method
	}
	return nil, h
}

// errRequest is a request the proxy refuses before routing.
type errRequest struct {
	status       int
	code, detail string
}

// checkRequest refuses what must never reach the router or the upstream.
func checkRequest(r *http.Request) *errRequest {
	if up := refusedUpgrade(r.Header); up != "" {
		// h2c (and any other protocol switch) would turn the connection
		// into a tunnel to the upstream that no later request is checked on.
		return &errRequest{http.StatusBadRequest, "invalid_request",
			fmt.Sprintf("upgrading to %q is not supported; only websocket is", up)}
	}
	if r.Method == http.MethodConnect {
		return &errRequest{http.StatusMethodNotAllowed, "method_not_allowed", "CONNECT is not supported"}
	}
	if !cleanPath(r.URL.Path) {
		return &errRequest{http.StatusBadRequest, "invalid_request",
			"the path must be clean: no dot segments, empty segments or backslashes, encoded or not"}
	}
	for _, h := range []string{"Authorization", "X-Api-Key"} {
		if len(r.Header.Values(h)) > 1 {
			// Sigil checks the first; an upstream reading another would
			// trust a credential nobody checked.
			return &errRequest{http.StatusBadRequest, "invalid_request", "send at most one " + h + " header"}
		}
	}
	return nil
}

// refusedUpgrade returns the first protocol in Upgrade other than websocket.
func refusedUpgrade(h http.Header) string {
	for _, v := range h.Values("Upgrade") {
		for tok := range strings.SplitSeq(v, ",") {
			tok = strings.TrimSpace(tok)
			name, _, _ := strings.Cut(tok, "/")
			if tok != "" && !strings.EqualFold(name, "websocket") {
				return tok
			}
		}
	}
	return ""
}

// cleanPath reports whether the DECODED path is already clean. ServeMux
// cleans the escaped path only, so "/public/%2e%2e/admin" or
// "/public%2F..%2Fadmin" would match "/public/" here and reach an upstream
// that decodes them into "/admin". Backslashes and control characters
// are refused too: some servers treat '\' as '/'.
func cleanPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	if strings.ContainsFunc(p, func(r rune) bool { return r == '\\' || r < ' ' || r == 0x7f }) {
		return false
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c == p
}
