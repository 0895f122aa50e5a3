package authn

import (
	"context"
	"net/url"
	"sync"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

// originsTTL bounds how long a replica may answer CORS with an out-of-date
// list of app origins (another replica's change; its own apply at once).
const originsTTL = 30 * time.Second

// originSet is the origins of every app's redirect URIs: the browser
// origins allowed to call the token, userinfo and revocation endpoints.
type originSet struct {
	mu     sync.Mutex
	set    map[string]bool
	loaded time.Time
}

func (o *originSet) invalidate() {
	o.mu.Lock()
	o.set = nil
	o.mu.Unlock()
}

// AllowedOrigin reports whether origin (a request's Origin header) is the
// origin of a redirect URI some app registered.
func (s *Service) AllowedOrigin(ctx context.Context, origin string) bool {
	if origin == "" || origin == "null" || len(origin) > maxURILen {
		return false
	}
	o := &s.origins
	o.mu.Lock()
	defer o.mu.Unlock()
	now := s.now()
	if o.set == nil || now.Sub(o.loaded) > originsTTL {
		apps, err := s.store.ListApps(ctx, "")
		if err != nil {
			s.log.WarnContext(ctx, "cannot load app origins for CORS", "err", err)
			return false
		}
		o.set, o.loaded = appOrigins(apps), now
	}
	return o.set[origin]
}

// appOrigins maps each redirect URI to its origin (scheme://host[:port]).
func appOrigins(apps []store.App) map[string]bool {
	set := map[string]bool{}
	for _, a := range apps {
		for _, raw := range a.RedirectURIs {
			if u, err := url.Parse(raw); err == nil && u.Host != "" {
				set[u.Scheme+"://"+u.Host] = true
			}
		}
	}
	return set
}
