package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/sigil-auth/sigil/internal/authn"
)

// Single sign-on connections (owners and admins), API.md §12: the list,
// one connection's page with the values to paste at its IdP and a test
// of its IdP's side, and adding one. Editing and deleting are in
// dashboard_sso_form.go. Every action is the authn call the JSON API
// makes, as authn.BrowserPrincipal; members get its refusal (403).

// ssoData is the content of the SSO pages.
type ssoData struct {
	List  []authn.ConnectionView
	Conn  *authn.ConnectionView  // the connection a page is about
	Check *authn.ConnectionCheck // the result of "Test connection"
	Kind  string                 // the form's kind
	Form  url.Values             // the form's values: typed, or the connection's
	Docs  string                 // the docs page for the connection's kind
}

// Kinds are the kinds a connection can be, for the "Add a connection" page.
func (ssoData) Kinds() []ssoKind { return ssoKinds }

// Stored reports whether the connection holds field, which the pages
// never show: a secret, pasted SAML metadata, IdP-initiated sign-in on.
func (d ssoData) Stored(field string) bool {
	c := d.Conn
	if c == nil {
		return false
	}
	is := func(b *bool) bool { return b != nil && *b }
	switch field {
	case "client_secret":
		return is(c.HasClientSecret)
	case "private_key":
		return is(c.HasPrivateKey)
	case "idp_metadata_xml":
		return c.Kind == "saml" && c.IdPMetadataURL == ""
	case "allow_idp_initiated":
		return is(c.AllowIdPInitiated)
	}
	return false
}

func ssoDashPage() page {
	return page{Title: "Single sign-on", Lead: "Let people sign in with your identity provider: Google, Microsoft, Okta, Apple or any SAML 2.0 IdP.", Nav: "sso"}
}

type ssoKind struct{ Kind, Name, Help string }

// ssoKinds are the kinds the "Add a connection" page offers, in order.
var ssoKinds = []ssoKind{
	{"oidc", "OpenID Connect", "Google, Microsoft Entra ID, Okta, Auth0, Keycloak or any issuer with discovery."},
	{"apple", "Sign in with Apple", "Apple accounts, with private relay emails, from a Services ID and a .p8 key."},
	{"saml", "SAML 2.0", "Okta, Entra ID, OneLogin, ADFS or any SAML 2.0 identity provider, from its metadata."},
}

// kindName is a connection kind as people call it.
func kindName(kind string) string {
	for _, k := range ssoKinds {
		if k.Kind == kind {
			return k.Name
		}
	}
	return kind
}

func knownKind(kind string) bool { return kind != "" && kindName(kind) != kind }

// ssoDocs names the docs page that walks through kind's IdP console.
func ssoDocs(v authn.ConnectionView) string {
	switch {
	case v.Kind == "apple":
		return "docs/sso/apple.md"
	case v.Kind == "saml":
		return "docs/sso/saml.md"
	case strings.Contains(v.Issuer, "login.microsoftonline.com"):
		return "docs/sso/entra.md"
	}
	return "docs/sso/google.md"
}

// ssoList is GET /dashboard/sso.
func (s *Server) ssoList(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	list, err := s.auth.ListConnections(r.Context(), authn.BrowserPrincipal(b), b.WorkspaceID)
	if err != nil {
		return err
	}
	p := ssoDashPage()
	if r.URL.Query().Get("deleted") != "" {
		p.Notice = "Connection deleted. Its sign-in button is gone; the accounts it made stay and can sign in another way."
	}
	p.Data = ssoData{List: list}
	return s.dash(w, r, http.StatusOK, "dash_sso", b, p)
}

// ssoNewPage is GET /dashboard/sso/new: the choice of kind, and with
// ?kind= that kind's form.
func (s *Server) ssoNewPage(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	if err := s.auth.CanManage(r.Context(), authn.BrowserPrincipal(b), b.WorkspaceID); err != nil {
		return err
	}
	kind := r.URL.Query().Get("kind")
	p := ssoDashPage()
	if !knownKind(kind) {
		p.Title, p.Lead = "Add a connection", "Which kind of identity provider do your people sign in with?"
		p.Data = ssoData{}
		return s.dash(w, r, http.StatusOK, "dash_sso_kind", b, p)
	}
	p.Title, p.Lead = newConnTitle(kind)
	p.Data = ssoData{Kind: kind, Form: url.Values{}}
	return s.dash(w, r, http.StatusOK, "dash_sso_form", b, p)
}

func newConnTitle(kind string) (string, string) {
	return "New " + kindName(kind) + " connection", "Sigil shows the values to register at your IdP once the connection exists; placeholders you edit later are fine."
}

// ssoCreate is POST /dashboard/sso; the new connection's page follows,
// with the values to paste at the IdP (a reload does not post again). A
// refusal shows the form again.
func (s *Server) ssoCreate(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	kind := r.PostFormValue("kind")
	v, err := s.auth.CreateConnection(r.Context(), s.clientIP(r), authn.BrowserPrincipal(b), b.WorkspaceID,
		connectionInput(kind, r.PostForm, false))
	if err != nil {
		p := ssoDashPage()
		p.Title, p.Lead = newConnTitle(kind)
		return s.ssoFormFail(w, r, b, p, ssoData{Kind: kind}, err)
	}
	redirect(w, r, "/dashboard/sso/"+v.ID+"?created=1")
	return nil
}

// ssoShow renders connection v's page on p.
func (s *Server) ssoShow(w http.ResponseWriter, r *http.Request, b authn.BrowserSession, status int, p page, v authn.ConnectionView, check *authn.ConnectionCheck) error {
	p.Title, p.Lead = v.Name, kindName(v.Kind)+" connection. Register these values at the identity provider."
	p.Data = ssoData{Conn: &v, Check: check, Docs: ssoDocs(v)}
	return s.dash(w, r, status, "dash_sso_detail", b, p)
}

// connHandler is a page about one connection of the signed-in person's
// workspace: the {cid} of the path.
type connHandler func(w http.ResponseWriter, r *http.Request, b authn.BrowserSession, v authn.ConnectionView) error

// withConnection reads the connection a connHandler is about (GET
// connection, so members are refused as on the API) and runs it.
func (s *Server) withConnection(h connHandler) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		b, ok := s.signedIn(w, r)
		if !ok {
			return nil
		}
		v, err := s.auth.GetConnection(r.Context(), authn.BrowserPrincipal(b), b.WorkspaceID, r.PathValue("cid"))
		if err != nil {
			return err
		}
		return h(w, r, b, v)
	}
}

// ssoDetail is GET /dashboard/sso/{cid}.
func (s *Server) ssoDetail(w http.ResponseWriter, r *http.Request, b authn.BrowserSession, v authn.ConnectionView) error {
	p := ssoDashPage()
	switch q := r.URL.Query(); {
	case q.Get("created") != "":
		p.Notice = "Connection added. Register the values below at your identity provider, then test the connection."
	case q.Get("saved") != "":
		p.Notice = "Connection saved. Sign-ins from now on use these settings."
	}
	return s.ssoShow(w, r, b, http.StatusOK, p, v, nil)
}

// ssoTest is POST /dashboard/sso/{cid}/test: reads the IdP's side now
// (discovery, keys, metadata) and shows what is wrong, if anything.
func (s *Server) ssoTest(w http.ResponseWriter, r *http.Request, b authn.BrowserSession, v authn.ConnectionView) error {
	check, err := s.auth.TestConnection(r.Context(), authn.BrowserPrincipal(b), b.WorkspaceID, v.ID)
	if err != nil {
		return err
	}
	p := ssoDashPage()
	if check.OK {
		p.Notice = "Everything checks out: Sigil read the identity provider's configuration and signing keys. Sign in once through it to finish checking."
	}
	return s.ssoShow(w, r, b, http.StatusOK, p, v, &check)
}
