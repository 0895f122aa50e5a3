package web

import (
	"net/http"
	"net/url"
	"strings"
	"unicode"

	"github.com/sigil-auth/sigil/internal/authn"
)

// The SSO connection form (new and edit) and deleting a connection after
// its confirmation. The form's fields are the API's, by the same names;
// the rules about them are authn's alone.

// secretFields are the form's secrets: write-only, so never refilled
// after a refusal; left empty on edit, the stored one stays.
var secretFields = []string{"client_secret", "private_key"}

// splitList splits a field of values separated by commas or spaces.
func splitList(v string) *[]string {
	l := strings.FieldsFunc(v, func(c rune) bool { return c == ',' || unicode.IsSpace(c) })
	return &l
}

// connectionInput is the form f of a kind connection as the API's input;
// only kind's own fields are set (authn refuses another kind's). On edit
// the kind is not sent.
func connectionInput(kind string, f url.Values, editing bool) authn.ConnectionInput {
	text := func(k string) *string { v := f.Get(k); return &v }
	given := func(k string) *string { // empty: not given (a secret on edit: keep the stored one)
		if f.Get(k) == "" {
			return nil
		}
		return text(k)
	}
	in := authn.ConnectionInput{Name: text("name"), Domains: splitList(f.Get("domains")), DefaultRole: given("default_role")}
	if !editing {
		in.Kind = &kind
	}
	switch kind {
	case "oidc":
		in.Issuer, in.ClientID, in.ClientSecret = text("issuer"), text("client_id"), given("client_secret")
		in.HostedDomain, in.AllowedTenants = text("hosted_domain"), splitList(f.Get("allowed_tenants"))
	case "apple":
		in.ClientID, in.TeamID, in.KeyID, in.PrivateKey = text("client_id"), text("team_id"), text("key_id"), given("private_key")
	case "saml":
		in.IdPMetadataURL, in.IdPMetadataXML = given("idp_metadata_url"), given("idp_metadata_xml")
		attrs := map[string]string{}
		for _, a := range []string{"email", "name", "groups"} {
			if v := strings.TrimSpace(f.Get("attr_" + a)); v != "" {
				attrs[a] = v
			}
		}
		idpInitiated := f.Get("allow_idp_initiated") == "on"
		in.AttributeMap, in.AllowIdPInitiated = &attrs, &idpInitiated
	}
	return in
}

// connectionForm is connection v's settings as the form's values.
func connectionForm(v authn.ConnectionView) url.Values {
	f := url.Values{"name": {v.Name}, "domains": {strings.Join(v.Domains, ", ")}, "default_role": {v.DefaultRole},
		"issuer": {v.Issuer}, "client_id": {v.ClientID}, "hosted_domain": {v.HostedDomain},
		"allowed_tenants": {strings.Join(v.AllowedTenants, ", ")}, "team_id": {v.TeamID}, "key_id": {v.KeyID},
		"idp_metadata_url": {v.IdPMetadataURL}}
	for k, name := range v.AttributeMap {
		f.Set("attr_"+k, name)
	}
	if v.AllowIdPInitiated != nil && *v.AllowIdPInitiated {
		f.Set("allow_idp_initiated", "on")
	}
	return f
}

// ssoFormFail shows authn's refusal above the form on p, with what was
// typed kept except the secrets; a server failure or an unknown
// connection gets the error page.
func (s *Server) ssoFormFail(w http.ResponseWriter, r *http.Request, b authn.BrowserSession, p page, d ssoData, err error) error {
	status, msg, ok := inline(err)
	if !ok || status == http.StatusNotFound || status == http.StatusForbidden {
		return err
	}
	retryAfter(w, err)
	d.Form = url.Values{}
	for k, v := range r.PostForm {
		d.Form[k] = v
	}
	for _, k := range secretFields {
		d.Form.Del(k)
	}
	p.Error, p.Data = msg, d
	return s.dash(w, r, status, "dash_sso_form", b, p)
}

func editConnTitle(v authn.ConnectionView) (string, string) {
	return "Edit " + v.Name, kindName(v.Kind) + " connection. Secrets are never shown; leave them empty to keep the stored ones."
}

// ssoEditPage is GET /dashboard/sso/{cid}/edit.
func (s *Server) ssoEditPage(w http.ResponseWriter, r *http.Request, b authn.BrowserSession, v authn.ConnectionView) error {
	p := ssoDashPage()
	p.Title, p.Lead = editConnTitle(v)
	p.Data = ssoData{Conn: &v, Kind: v.Kind, Form: connectionForm(v)}
	return s.dash(w, r, http.StatusOK, "dash_sso_form", b, p)
}

// ssoUpdate is POST /dashboard/sso/{cid}: the edit form's settings.
func (s *Server) ssoUpdate(w http.ResponseWriter, r *http.Request, b authn.BrowserSession, v authn.ConnectionView) error {
	_, err := s.auth.UpdateConnection(r.Context(), s.clientIP(r), authn.BrowserPrincipal(b), b.WorkspaceID, v.ID,
		connectionInput(v.Kind, r.PostForm, true))
	if err != nil {
		p := ssoDashPage()
		p.Title, p.Lead = editConnTitle(v)
		return s.ssoFormFail(w, r, b, p, ssoData{Conn: &v, Kind: v.Kind}, err)
	}
	redirect(w, r, "/dashboard/sso/"+v.ID+"?saved=1")
	return nil
}

// ssoDeletePage is GET /dashboard/sso/{cid}/delete: the confirmation,
// saying what goes and what stays.
func (s *Server) ssoDeletePage(w http.ResponseWriter, r *http.Request, b authn.BrowserSession, v authn.ConnectionView) error {
	p := ssoDashPage()
	p.Title = "Delete the connection " + v.Name + "?"
	p.Lead = "Its sign-in button and its links to accounts go: nobody can sign in through it any more. The accounts stay, with their sessions and keys; they can sign in another way or be removed."
	p.Data = confirmData{Detail: kindName(v.Kind) + ", created " + v.CreatedAt.Format("2006-01-02") + ". Connection id:",
		Value: v.ID, Action: "/dashboard/sso/" + v.ID + "/delete", Button: "Delete connection", Cancel: "/dashboard/sso/" + v.ID}
	return s.dash(w, r, http.StatusOK, "dash_confirm", b, p)
}

// ssoDelete is POST /dashboard/sso/{cid}/delete.
func (s *Server) ssoDelete(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	if err := s.auth.DeleteConnection(r.Context(), s.clientIP(r), authn.BrowserPrincipal(b), b.WorkspaceID, r.PathValue("cid")); err != nil {
		return err
	}
	redirect(w, r, "/dashboard/sso?deleted=1")
	return nil
}
