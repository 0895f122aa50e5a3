package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sigil-auth/sigil/api"
	"github.com/sigil-auth/sigil/internal/authn"
	"github.com/sigil-auth/sigil/internal/clientip"
	"github.com/sigil-auth/sigil/internal/httpapi"
	"github.com/sigil-auth/sigil/internal/web"
)

// BenchmarkDashboardKeys is GET /dashboard/api-keys for a signed-in
// browser holding 100 API keys, through the whole HTTP stack with the
// pages mounted as `sigil serve` mounts them: cookie resolved (cached as
// in production), the keys listed from the store, the page rendered.
// Target (issue 10): under 5 ms of server CPU per page.
func BenchmarkDashboardKeys(b *testing.B) {
	eachBackend(b, func(b *testing.B, e *env) {
		ctx := context.Background()
		email := "dash-" + newUser().id + "@example.com"
		if _, err := e.auth.Signup(ctx, clientAddr, authn.SignupInput{Email: email, Password: "correct horse battery", JoinCode: e.joinCode}); err != nil {
			b.Fatal(err)
		}
		br, err := e.auth.SignIn(ctx, clientAddr, authn.PasswordLogin{Email: email, Password: "correct horse battery"})
		if err != nil {
			b.Fatal(err)
		}
		for i := range 100 {
			if _, err := e.auth.CreateAPIKey(ctx, clientAddr, authn.BrowserPrincipal(br),
				authn.NewAPIKeyInput{Name: fmt.Sprintf("deploy-%03d", i), Scopes: &[]string{"read"}}); err != nil {
				b.Fatal(err)
			}
		}
		h := e.pagesHandler(b)
		req := httptest.NewRequest(http.MethodGet, "/dashboard/api-keys", nil)
		req.AddCookie(&http.Cookie{Name: "sigil", Value: br.Cookie})
		done := meter(b)
		for b.Loop() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "deploy-099") {
				b.Fatalf("GET /dashboard/api-keys → %d %.300s", rec.Code, rec.Body)
			}
		}
		done()
	})
}

// pagesHandler is handler(warn) with the hosted pages and the dashboard
// mounted, as `sigil serve` has them.
func (e *env) pagesHandler(b *testing.B) http.Handler {
	b.Helper()
	log := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ips := clientip.New(nil)
	pages, err := web.New(web.Deps{Auth: e.auth, IPs: ips, Log: log, Issuer: issuer})
	if err != nil {
		b.Fatal(err)
	}
	return httpapi.New(httpapi.Deps{
		Auth: e.auth, Keys: e.keys, IPs: ips, Metrics: e.metrics, Log: log, Issuer: issuer, OpenAPI: api.Spec,
		Ready: e.store.Ping, Pages: pages, PageRoutes: pages.Routes(),
	})
}
