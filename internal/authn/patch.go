package authn

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

// Upper bounds for workspace lifetimes.
const (
	maxRefreshTTL = 365 * 24 * time.Hour
	maxSessionAge = 365 * 24 * time.Hour
	maxGrace      = time.Minute
	maxScopes     = 100
	maxScopeLen   = 128
)

// apply validates the patch and writes it into w. Lifetimes are Go
// duration strings; "" resets one to the method defaults; refresh_grace
// may be "0s" (grace off).
func (in WorkspacePatch) apply(w *store.Workspace) error {
	if in.Name != nil {
		n := strings.TrimSpace(*in.Name)
		if n == "" || len(n) > 200 {
			return invalid("name must be 1 to 200 characters")
		}
		w.Name = n
	}
	if in.DefaultScopes != nil {
		sc, err := cleanScopes(*in.DefaultScopes)
		if err != nil {
			return err
		}
		w.DefaultScopes = sc
	}
	for _, f := range []struct {
		name  string
		v     *string
		dst   *time.Duration
		limit time.Duration
	}{
		{"access_token_ttl", in.AccessTokenTTL, &w.AccessTTL, maxAccessTTL},
		{"refresh_token_ttl", in.RefreshTokenTTL, &w.RefreshTTL, maxRefreshTTL},
		{"session_max_age", in.SessionMaxAge, &w.SessionMaxAge, maxSessionAge},
		{"jwt_max_lifetime", in.JWTMaxLifetime, &w.JWTMaxLifetime, maxSessionAge},
	} {
		if f.v == nil {
			continue
		}
		if *f.v == "" {
			*f.dst = 0
			continue
		}
		d, err := parseTTL(f.name, *f.v, f.limit)
		if err != nil {
			return err
		}
		*f.dst = d
	}
	if err := in.applyBranding(w); err != nil {
		return err
	}
	if in.RefreshGrace != nil {
		if *in.RefreshGrace == "" {
			w.RefreshGrace = nil
		} else {
			d, err := time.ParseDuration(strings.TrimSpace(*in.RefreshGrace))
			if err != nil || d < 0 || d > maxGrace {
				return invalid("refresh_grace must be a Go duration from \"0s\" (off) to %s", maxGrace)
			}
			w.RefreshGrace = &d
		}
	}
	return nil
}

// Branding is how a workspace's hosted pages look: the name shown on them
// (its name when unset), a logo and an accent colour.
type Branding struct {
	DisplayName string `json:"display_name"`
	LogoURL     string `json:"logo_url"`
	AccentColor string `json:"accent_color"`
}

// BrandingOf is w's branding, its name standing in for an unset display
// name.
func BrandingOf(w store.Workspace) Branding {
	b := Branding{DisplayName: w.DisplayName, LogoURL: w.LogoURL, AccentColor: w.AccentColor}
	if b.DisplayName == "" {
		b.DisplayName = w.Name
	}
	return b
}

// applyBranding validates and writes the branding fields.
func (in WorkspacePatch) applyBranding(w *store.Workspace) error {
	if in.DisplayName != nil {
		n := strings.TrimSpace(*in.DisplayName)
		if len(n) > 100 {
			return invalid("display_name is at most 100 characters")
		}
		w.DisplayName = n
	}
	if in.LogoURL != nil {
		v := strings.TrimSpace(*in.LogoURL)
		if u, err := url.Parse(v); v != "" && (err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || len(v) > maxURILen) {
			return invalid("logo_url must be an https URL")
		}
		w.LogoURL = v
	}
	if in.AccentColor != nil {
		v := strings.ToLower(strings.TrimSpace(*in.AccentColor))
		if v != "" && !hexColor.MatchString(v) {
			return invalid("accent_color must be a colour like #4f46e5")
		}
		w.AccentColor = v
	}
	return nil
}

var hexColor = regexp.MustCompile(`^#[0-9a-f]{6}$`)

// parseTTL parses a positive lifetime no longer than limit.
func parseTTL(field, v string, limit time.Duration) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d <= 0 {
		return 0, invalid("%s must be a positive Go duration such as \"4h\" or \"30m\"", field)
	}
	if d > limit {
		return 0, invalid("%s must be at most %s", field, limit)
	}
	return d, nil
}

// cleanScopes validates scope strings: non-empty, no spaces (the scope
// claim is space-separated), bounded; duplicates dropped, order kept.
func cleanScopes(in []string) ([]string, error) {
	if len(in) > maxScopes {
		return nil, invalid("at most %d scopes", maxScopes)
	}
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s == "" || len(s) > maxScopeLen || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			return nil, invalid("scopes must be 1 to %d visible characters without spaces", maxScopeLen)
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// WorkspaceBranding is the branding of workspace id, for its hosted
// pages; an unknown workspace is ErrNotFound.
func (s *Service) WorkspaceBranding(ctx context.Context, id string) (Branding, error) {
	w, err := s.workspace(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Branding{}, ErrNotFound
	} else if err != nil {
		return Branding{}, err
	}
	return BrandingOf(w), nil
}
