package gateway

import (
	"bufio"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// FuzzRouteAgreesWithUpstream: whatever request target a client sends,
// if the proxy routes it to a rule, that is the rule both ways an
// upstream may read the path would give — routing on the decoded path
// (older Go, many frameworks) and on escaped segments (Go ≥ 1.22).
// The oracle is deliberately naive string work, independent of ServeMux.
func FuzzRouteAgreesWithUpstream(f *testing.F) {
	for _, s := range []string{"/admin/x", "/admin%2Fx", "/%61dmin/x", "/public/%2e%2e/admin/x",
		"/public%2F..%2Fadmin", "/x/%2Fadmin/", "//admin/x", "/public/..%5Cadmin", "/admin/%2F", "/%70ublic/a"} {
		f.Add(s)
	}
	rt, err := newRouter([]Route{{Pattern: "/"}, {Pattern: "/admin/"}, {Pattern: "/public/", Public: true}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, target string) {
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n")))
		if err != nil || checkRequest(r) != nil {
			return
		}
		ru, _, e := rt.match(r)
		if e != nil || ru == nil {
			return // refused or redirected: nothing reaches the upstream
		}
		decoded := subtree(strings.Split(r.URL.Path, "/"))
		segs := strings.Split(r.URL.EscapedPath(), "/")
		for i, s := range segs {
			if u, err := url.PathUnescape(s); err == nil {
				segs[i] = u
			}
		}
		escaped := subtree(segs)
		if ru.Pattern != decoded || ru.Pattern != escaped {
			t.Fatalf("%q: proxy rule %q, decoded view %q, escaped-segment view %q", target, ru.Pattern, decoded, escaped)
		}
	})
}

// subtree is the naive router: /admin/… or /public/… by first segment.
func subtree(segs []string) string {
	if len(segs) >= 3 && (segs[1] == "admin" || segs[1] == "public") {
		return "/" + segs[1] + "/"
	}
	return "/"
}
