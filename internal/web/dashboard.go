package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sigil-auth/sigil/internal/authn"
)

// The dashboard: a signed-in person's API keys and sessions. Every action
// is one authn call made as authn.BrowserPrincipal, so roles, scopes,
// limits and the audit log apply exactly as on the JSON API.

// signedIn is the request's browser session, or a redirect to sign in.
func (s *Server) signedIn(w http.ResponseWriter, r *http.Request) (authn.BrowserSession, bool) {
	b := s.browser(r)
	if b == nil {
		redirect(w, r, "/login")
		return authn.BrowserSession{}, false
	}
	// Past the grace period to add a second factor the workspace
	// requires, the security page is the only one open.
	if !strings.HasPrefix(r.URL.Path, "/dashboard/security") {
		if e, err := s.auth.MFAEnrolmentOf(r.Context(), *b); err != nil {
			s.log.ErrorContext(r.Context(), "cannot read the second-factor policy", "err", err)
		} else if e.Overdue {
			redirect(w, r, "/dashboard/security?required=1")
			return authn.BrowserSession{}, false
		}
	}
	return *b, true
}

// dash renders a dashboard page for b.
func (s *Server) dash(w http.ResponseWriter, r *http.Request, status int, name string, b authn.BrowserSession, p page) error {
	br, err := s.auth.WorkspaceBranding(r.Context(), b.WorkspaceID)
	if err != nil {
		return err
	}
	p.Brand, p.Signed = br, &b
	s.render(w, r, status, name, p)
	return nil
}

// keysData is the API keys page's content.
type keysData struct {
	Keys    []keyRow
	Scopes  []string // the person's, offered when creating a key
	Created *authn.APIKeyView
	Revoke  *keyRow // the key a revoke or rotate page is about
	Name    string
}

type keyRow struct {
	authn.APIKeyView
	Status string // active, revoked or expired
}

func keyRows(keys []authn.APIKeyView, now time.Time) []keyRow {
	out := make([]keyRow, len(keys))
	for i, k := range keys {
		st := "active"
		switch {
		case k.RevokedAt != nil:
			st = "revoked"
		case k.ExpiresAt != nil && !now.Before(*k.ExpiresAt):
			st = "expired"
		}
		out[i] = keyRow{k, st}
	}
	return out
}

func keysPage() page {
	return page{Title: "API keys", Lead: "Keys let a server call the API as you, with the scopes you give them.", Nav: "keys"}
}

// apiKeys is GET /dashboard/api-keys.
func (s *Server) apiKeys(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	keys, err := s.auth.ListAPIKeys(r.Context(), authn.BrowserPrincipal(b), "")
	if err != nil {
		return err
	}
	p := keysPage()
	p.Data = keysData{Keys: keyRows(keys, s.now())}
	if r.URL.Query().Get("revoked") != "" {
		p.Notice = "Key revoked. Requests using it now get 401."
	}
	return s.dash(w, r, http.StatusOK, "dash_keys", b, p)
}

// newKeyPage is GET /dashboard/api-keys/new.
func (s *Server) newKeyPage(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	p := keysPage()
	p.Title, p.Lead = "Create an API key", "Name it after the server or job that will use it."
	p.Data = keysData{Scopes: authn.BrowserPrincipal(b).Scopes}
	return s.dash(w, r, http.StatusOK, "dash_key_new", b, p)
}

// keyTTLs are the expiry choices of the create form.
var keyTTLs = map[string]time.Duration{"30d": 30 * 24 * time.Hour, "90d": 90 * 24 * time.Hour, "365d": 365 * 24 * time.Hour}

// createKey is POST /dashboard/api-keys: the key is shown once.
func (s *Server) createKey(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	in := authn.NewAPIKeyInput{Name: r.PostFormValue("name")}
	scopes := r.PostForm["scope"]
	if scopes == nil {
		scopes = []string{}
	}
	in.Scopes = &scopes
	if ttl, ok := keyTTLs[r.PostFormValue("expires")]; ok {
		secs := int64(ttl.Seconds())
		in.ExpiresIn = &secs
	}
	p := keysPage()
	k, err := s.auth.CreateAPIKey(r.Context(), s.clientIP(r), authn.BrowserPrincipal(b), in)
	if err != nil {
		status, msg, ok := inline(err)
		if !ok {
			return err
		}
		p.Title, p.Error = "Create an API key", msg
		p.Data = keysData{Scopes: authn.BrowserPrincipal(b).Scopes, Name: in.Name}
		return s.dash(w, r, status, "dash_key_new", b, p)
	}
	p.Title, p.Lead = "Copy your new key", "Use it as X-API-KEY or Authorization: Bearer."
	p.Data = keysData{Created: &k}
	return s.dash(w, r, http.StatusCreated, "dash_key_created", b, p)
}

// keyPage shows one key of the person's (path {id}) on page name: the
// revoke confirmation or the rotation form.
func (s *Server) keyPage(w http.ResponseWriter, r *http.Request, name string, text func(k keyRow) (title, lead string)) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	keys, err := s.auth.ListAPIKeys(r.Context(), authn.BrowserPrincipal(b), "")
	if err != nil {
		return err
	}
	i := slices.IndexFunc(keys, func(k authn.APIKeyView) bool { return k.ID == r.PathValue("id") })
	if i < 0 {
		return authn.ErrNotFound
	}
	k := keyRows(keys[i:i+1], s.now())[0]
	p := keysPage()
	p.Title, p.Lead = text(k)
	p.Data = keysData{Revoke: &k}
	return s.dash(w, r, http.StatusOK, name, b, p)
}

// revokeKeyPage is GET /dashboard/api-keys/{id}/revoke: the confirmation.
func (s *Server) revokeKeyPage(w http.ResponseWriter, r *http.Request) error {
	return s.keyPage(w, r, "dash_key_revoke", func(k keyRow) (string, string) {
		return "Revoke key " + strconv.Quote(k.Name) + "?", "Requests using it fail immediately. This cannot be undone."
	})
}

// rotateKeyPage is GET /dashboard/api-keys/{id}/rotate: the grace period.
func (s *Server) rotateKeyPage(w http.ResponseWriter, r *http.Request) error {
	return s.keyPage(w, r, "dash_key_rotate", func(k keyRow) (string, string) {
		return "Rotate key " + strconv.Quote(k.Name), "A new key with the same name, scopes and expiry; the old one keeps working for the grace period."
	})
}

// rotateKey is POST /dashboard/api-keys/{id}/rotate: the new key is shown
// once.
func (s *Server) rotateKey(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	k, err := s.auth.RotateAPIKey(r.Context(), s.clientIP(r), authn.BrowserPrincipal(b), r.PathValue("id"),
		authn.RotateInput{GracePeriod: r.PostFormValue("grace_period")})
	if err != nil {
		return err
	}
	p := keysPage()
	p.Title, p.Lead = "Copy your new key", "The old key works until its grace period ends; move your servers to this one."
	p.Data = keysData{Created: &k}
	return s.dash(w, r, http.StatusCreated, "dash_key_created", b, p)
}

// revokeKey is POST /dashboard/api-keys/{id}/revoke.
func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	if err := s.auth.RevokeAPIKey(r.Context(), s.clientIP(r), authn.BrowserPrincipal(b), r.PathValue("id")); err != nil {
		return err
	}
	redirect(w, r, "/dashboard/api-keys?revoked=1")
	return nil
}

// sessions is GET /dashboard/sessions.
func (s *Server) sessions(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	list, err := s.auth.ListSessions(r.Context(), authn.BrowserPrincipal(b))
	if err != nil {
		return err
	}
	p := page{Title: "Sessions", Lead: "Where you are signed in: browsers, apps and command-line logins.", Nav: "sessions", Data: list}
	if r.URL.Query().Get("ended") != "" {
		p.Notice = "Session ended. Its tokens no longer work."
	}
	return s.dash(w, r, http.StatusOK, "dash_sessions", b, p)
}

// endSession is POST /dashboard/sessions/{id}/end.
func (s *Server) endSession(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	id := r.PathValue("id")
	if err := s.auth.EndSession(r.Context(), authn.BrowserPrincipal(b), id); err != nil {
		return err
	}
	if id == b.ID {
		return s.signedOutHere(w, r, signedOut())
	}
	redirect(w, r, "/dashboard/sessions?ended=1")
	return nil
}

// endAllSessions is POST /dashboard/sessions/end-all: every session of
// the person's ends, this browser's too (authn's logout of all, as POST
// /v1/auth/logout {"all": true}).
func (s *Server) endAllSessions(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	p := authn.BrowserPrincipal(b)
	if err := s.auth.Logout(r.Context(), &p, authn.LogoutInput{All: true}); err != nil {
		return err
	}
	s.cookie.clear(w)
	pg := signedOut()
	pg.Lead = "Every session of yours has ended: browsers, apps and command-line logins. Their tokens no longer work."
	s.render(w, r, http.StatusOK, "message", pg)
	return nil
}

// sessionLabel says what kind of session an entry is, for people.
func sessionLabel(x authn.SessionInfo) string {
	switch {
	case x.Browser:
		return "Browser"
	case x.ClientID != "":
		return "App " + x.ClientID
	case x.AuthMethod == authn.MethodPubkey:
		return "Key pair (CLI or SDK)"
	}
	return "Password login (API)"
}
