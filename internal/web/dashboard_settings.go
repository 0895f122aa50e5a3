package web

import (
	"net/http"
	"strings"

	"github.com/sigil-auth/sigil/internal/authn"
)

// Workspace settings (owners and admins): the name, branding of the
// hosted pages, default scopes and token lifetimes, through the same
// authn.UpdateWorkspace as PATCH /v1/workspaces/{id}.

type settingsData struct {
	W    authn.WorkspaceView
	Form map[string]string // what was typed, after a refusal
}

// value is the form's value of field: what was typed, else the saved one.
func (d settingsData) Value(field string) string {
	if v, ok := d.Form[field]; ok {
		return v
	}
	st, br := d.W.Settings, d.W.Branding
	deref := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	switch field {
	case "name":
		return d.W.Name
	case "display_name":
		if br.DisplayName == d.W.Name {
			return ""
		}
		return br.DisplayName
	case "logo_url":
		return br.LogoURL
	case "accent_color":
		return br.AccentColor
	case "default_scopes":
		return strings.Join(d.W.DefaultScopes, " ")
	case "access_token_ttl":
		return deref(st.AccessTokenTTL)
	case "refresh_token_ttl":
		return deref(st.RefreshTokenTTL)
	case "session_max_age":
		return deref(st.SessionMaxAge)
	case "refresh_grace":
		return deref(st.RefreshGrace)
	case "require_mfa":
		return d.W.RequireMFA
	}
	return ""
}

// settingsFields are the form's fields, in the patch's names.
var settingsFields = []string{"name", "display_name", "logo_url", "accent_color", "default_scopes",
	"access_token_ttl", "refresh_token_ttl", "session_max_age", "refresh_grace", "require_mfa"}

// mfaPolicies are the require_mfa choices as the settings page offers them.
var mfaPolicies = []struct{ Value, Label string }{
	{"none", "Optional: each person decides"},
	{"admins", "Required for owners and admins"},
	{"all", "Required for everyone"},
}

// Policies lists the choices for the template.
func (settingsData) Policies() []struct{ Value, Label string } { return mfaPolicies }

func settingsPage() page {
	return page{Title: "Settings", Lead: "This workspace's name, sign-in page look, two-step verification, default scopes and token lifetimes.", Nav: "settings"}
}

// settings is GET /dashboard/settings.
func (s *Server) settings(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	v, err := s.auth.WorkspaceSettings(r.Context(), authn.BrowserPrincipal(b), b.WorkspaceID)
	if err != nil {
		return err
	}
	pg := settingsPage()
	if r.URL.Query().Get("saved") != "" {
		pg.Notice = "Settings saved. New lifetimes apply to sessions started from now on."
	}
	pg.Data = settingsData{W: v}
	return s.dash(w, r, http.StatusOK, "dash_settings", b, pg)
}

// saveSettings is POST /dashboard/settings: every field is sent; an empty
// lifetime means the login method's default.
func (s *Server) saveSettings(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	form := map[string]string{}
	for _, f := range settingsFields {
		form[f] = strings.TrimSpace(r.PostFormValue(f))
	}
	scopes := strings.Fields(form["default_scopes"])
	in := authn.WorkspacePatch{Name: ptr(form["name"]), DisplayName: ptr(form["display_name"]),
		LogoURL: ptr(form["logo_url"]), AccentColor: ptr(form["accent_color"]), DefaultScopes: &scopes,
		AccessTokenTTL: ptr(form["access_token_ttl"]), RefreshTokenTTL: ptr(form["refresh_token_ttl"]),
		SessionMaxAge: ptr(form["session_max_age"]), RefreshGrace: ptr(form["refresh_grace"])}
	if form["require_mfa"] != "" { // a form of an older page may lack it
		in.RequireMFA = ptr(form["require_mfa"])
	}
	p := authn.BrowserPrincipal(b)
	_, err := s.auth.UpdateWorkspace(r.Context(), p, b.WorkspaceID, in)
	if err != nil {
		status, msg, ok := inline(err)
		if !ok {
			return err
		}
		v, gerr := s.auth.WorkspaceSettings(r.Context(), p, b.WorkspaceID)
		if gerr != nil {
			return err
		}
		pg := settingsPage()
		pg.Error, pg.Data = msg, settingsData{W: v, Form: form}
		return s.dash(w, r, status, "dash_settings", b, pg)
	}
	redirect(w, r, "/dashboard/settings?saved=1")
	return nil
}

func ptr(s string) *string { return &s }
