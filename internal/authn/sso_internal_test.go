package authn

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crewjam/saml"
	"golang.org/x/oauth2"

	"github.com/sigil-auth/sigil/internal/ssotest"
	"github.com/sigil-auth/sigil/internal/store"
)

// Unit tests of SSO's small pieces: the Entra issuer forms, the lenient
// claim types, roles from groups, session methods, SAML request ids,
// identities read from assertions, metadata lifetimes and clip.

func TestTenantIssuer(t *testing.T) {
	tests := []struct {
		issuer   string
		tenant   bool
		template string // issuerTemplate's answer, when tenant
	}{
		{"https://login.microsoftonline.com/common/v2.0", true, "https://login.microsoftonline.com/{tenantid}/v2.0"},
		{"https://login.microsoftonline.com/organizations/v2.0", true, "https://login.microsoftonline.com/{tenantid}/v2.0"},
		{"https://login.microsoftonline.com/consumers/v2.0", true, "https://login.microsoftonline.com/{tenantid}/v2.0"},
		{"https://login.microsoftonline.com/common/v2.0/", true, "https://login.microsoftonline.com/{tenantid}/v2.0"},
		{"https://login.microsoftonline.com/{tenantid}/v2.0", true, "https://login.microsoftonline.com/{tenantid}/v2.0"},
		{"http://127.0.0.1:8080/{tenantid}/v2.0", true, "http://127.0.0.1:8080/{tenantid}/v2.0"},
		{"https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0", false, ""},
		{"https://login.microsoftonline.com", false, ""},
		{"https://accounts.google.com", false, ""},
		{"https://evil.example/common/v2.0", false, ""},
		{"https://login.microsoftonline.com.evil.example/common/v2.0", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.issuer, func(t *testing.T) {
			if got := tenantIssuer(tt.issuer); got != tt.tenant {
				t.Fatalf("tenantIssuer = %v, want %v", got, tt.tenant)
			}
			if !tt.tenant {
				return
			}
			// Entra's discovery at a common endpoint announces its issuer
			// with a literal {tenantid}; go-oidc compares it as a string,
			// and the callback replaces {tenantid} with the token's tid.
			if got := issuerTemplate(tt.issuer); got != tt.template {
				t.Errorf("issuerTemplate = %q, want %q", got, tt.template)
			}
		})
	}
}

func TestFlexBool(t *testing.T) {
	tests := []struct {
		json    string
		want    bool
		wantErr bool
	}{
		{`true`, true, false}, {`false`, false, false}, {`"true"`, true, false}, {`"false"`, false, false},
		{`null`, false, false}, {`""`, false, false},
		{`"yes"`, false, true}, {`1`, false, true}, {`"TRUE"`, false, true}, {`{}`, false, true}, {`[true]`, false, true},
	}
	for _, tt := range tests {
		var v struct {
			B flexBool `json:"email_verified"`
		}
		v.B = !flexBool(tt.want) // must be overwritten (or left, on error)
		err := json.Unmarshal([]byte(`{"email_verified":`+tt.json+`}`), &v)
		if (err != nil) != tt.wantErr || (err == nil && bool(v.B) != tt.want) {
			t.Errorf("%s: %v, %v; want %v (error %v)", tt.json, v.B, err, tt.want, tt.wantErr)
		}
	}
	// Absent stays false.
	var cl idClaims
	if err := json.Unmarshal([]byte(`{"email":"a@b.test"}`), &cl); err != nil || cl.EmailVerified {
		t.Errorf("absent email_verified: %v %v", cl.EmailVerified, err)
	}
}

func TestAudience(t *testing.T) {
	tests := []struct {
		json    string
		want    []string
		wantErr bool
	}{
		{`"sigil"`, []string{"sigil"}, false},
		{`["sigil","other"]`, []string{"sigil", "other"}, false},
		{`[]`, []string{}, false},
		{`42`, nil, true},
		{`[1]`, nil, true},
	}
	for _, tt := range tests {
		var a audience
		err := json.Unmarshal([]byte(tt.json), &a)
		if (err != nil) != tt.wantErr || (!tt.wantErr && !slices.Equal(a, tt.want)) {
			t.Errorf("%s: %v, %v; want %v (error %v)", tt.json, a, err, tt.want, tt.wantErr)
		}
	}
}

func TestRoleFor(t *testing.T) {
	c := func(def string, roles map[string]string) connection {
		return connection{Connection: store.Connection{DefaultRole: def}, cfg: connConfig{GroupRoles: roles}}
	}
	mapped := map[string]string{"staff": store.RoleMember, "ops": store.RoleAdmin}
	tests := []struct {
		name   string
		c      connection
		groups []string
		want   string
	}{
		{"admin wins over member (member first)", c(store.RoleMember, mapped), []string{"staff", "ops"}, store.RoleAdmin},
		{"admin wins over member (admin first)", c(store.RoleMember, mapped), []string{"ops", "staff"}, store.RoleAdmin},
		{"member mapping beats an admin default", c(store.RoleAdmin, mapped), []string{"staff"}, store.RoleMember},
		{"unmapped groups: the default", c(store.RoleAdmin, mapped), []string{"other"}, store.RoleAdmin},
		{"no groups: the default", c(store.RoleMember, mapped), nil, store.RoleMember},
		{"no default: member", c("", nil), []string{"ops"}, store.RoleMember},
		{"group names are exact", c(store.RoleMember, mapped), []string{"OPS", "ops "}, store.RoleMember},
	}
	for _, tt := range tests {
		if got := roleFor(tt.c, tt.groups); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestSSOMethods(t *testing.T) {
	tests := []struct {
		method, first, conn string
		amr                 []string
	}{
		{"sso:conn_x", "sso", "conn_x", []string{"sso"}},
		{"sso:conn_x+otp", "sso", "conn_x", []string{"sso", "otp"}},
		{"pwd", "pwd", "", []string{"pwd"}},
		{"pwd+otp", "pwd", "", []string{"pwd", "otp"}},
		{"sso", "sso", "", []string{"sso"}},
		{"pwd+sso:conn_y", "pwd", "", []string{"pwd", "sso"}}, // only a first factor names the connection
	}
	for _, tt := range tests {
		if got := amrOf(tt.method); !slices.Equal(got, tt.amr) {
			t.Errorf("amrOf(%q) = %q, want %q", tt.method, got, tt.amr)
		}
		if got := firstFactor(tt.method); got != tt.first {
			t.Errorf("firstFactor(%q) = %q, want %q", tt.method, got, tt.first)
		}
		if got := connectionOfMethod(tt.method); got != tt.conn {
			t.Errorf("connectionOfMethod(%q) = %q, want %q", tt.method, got, tt.conn)
		}
	}
	// An SSO session gets the lifetimes of an SSO sign-in, with or
	// without a second factor.
	if EffectiveLifetimes(store.Workspace{}, "sso:conn_x+otp") != EffectiveLifetimes(store.Workspace{}, "sso:conn_x") {
		t.Error("sso:…+otp sessions do not get the lifetimes of sso sessions")
	}
}

func TestSAMLRequestID(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := &Service{codeKey: []byte("0123456789abcdef0123456789abcdef"), now: func() time.Time { return now }}
	bind := bindHash("binding secret")
	st := ssoState{Conn: "conn_a", Bind: bind, Exp: now.Add(flowTTL).Unix()}
	id := s.samlRequestID("conn_a", st)
	if got, err := s.checkSAMLRequestID("conn_a", id); err != nil || got != bind {
		t.Fatalf("a minted id: %q, %v; want its binding %q", got, err, bind)
	}
	if !strings.HasPrefix(id, samlIDPrefix) || strings.ContainsAny(id[len(samlIDPrefix):], "+/=") {
		t.Fatalf("id %q is not id- + base64url (an xsd:ID must not start with a digit)", id)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(id, samlIDPrefix))
	flip := func(i int) string {
		b := slices.Clone(raw)
		b[i] ^= 1
		return samlIDPrefix + base64.RawURLEncoding.EncodeToString(b)
	}
	other := &Service{codeKey: []byte("another instance's key 012345678"), now: s.now}
	expired := s.samlRequestID("conn_a", ssoState{Bind: bind, Exp: now.Add(-time.Second).Unix()})
	tests := []struct {
		name, cid, id, reason string
		s                     *Service
	}{
		{"altered MAC", "conn_a", flip(len(raw) - 1), "in_response_to", s},
		{"altered expiry", "conn_a", flip(7), "in_response_to", s},
		{"altered binding", "conn_a", flip(10), "in_response_to", s},
		{"another connection", "conn_b", id, "in_response_to", s},
		{"another instance", "conn_a", id, "in_response_to", other},
		{"expired", "conn_a", expired, "expired", s},
		{"too short", "conn_a", samlIDPrefix + base64.RawURLEncoding.EncodeToString(raw[:len(raw)-1]), "in_response_to", s},
		{"too long", "conn_a", samlIDPrefix + base64.RawURLEncoding.EncodeToString(append(slices.Clone(raw), 0)), "in_response_to", s},
		{"no prefix", "conn_a", strings.TrimPrefix(id, samlIDPrefix), "in_response_to", s},
		{"other prefix", "conn_a", "_x" + strings.TrimPrefix(id, samlIDPrefix), "in_response_to", s},
		{"not base64", "conn_a", samlIDPrefix + "!!!!", "in_response_to", s},
		{"empty", "conn_a", "", "in_response_to", s},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.s.checkSAMLRequestID(tt.cid, tt.id)
			var se *SSOError
			if !errors.As(err, &se) || se.Reason != tt.reason || b != "" {
				t.Fatalf("checkSAMLRequestID(%q) = %q, %v; want reason %s", tt.id, b, err, tt.reason)
			}
		})
	}
	// Still good a second before it expires.
	now = now.Add(flowTTL - time.Second)
	if _, err := s.checkSAMLRequestID("conn_a", id); err != nil {
		t.Fatalf("refused before its expiry: %v", err)
	}
}

func TestSAMLIdentity(t *testing.T) {
	conn := func(domains []string, attrs map[string]string) connection {
		return connection{Connection: store.Connection{Domains: domains}, cfg: connConfig{AttributeMap: attrs}}
	}
	attr := func(name, friendly string, values ...string) saml.Attribute {
		a := saml.Attribute{Name: name, FriendlyName: friendly}
		for _, v := range values {
			a.Values = append(a.Values, saml.AttributeValue{Value: v})
		}
		return a
	}
	assertion := func(format, nameID string, attrs ...saml.Attribute) *saml.Assertion {
		return &saml.Assertion{Subject: &saml.Subject{NameID: &saml.NameID{Format: format, Value: nameID}},
			AttributeStatements: []saml.AttributeStatement{{Attributes: attrs}}}
	}
	persistent, email := string(saml.PersistentNameIDFormat), string(saml.EmailAddressNameIDFormat)
	acme := []string{"acme.test"}
	tests := []struct {
		name   string
		c      connection
		a      *saml.Assertion
		want   ssoIdentity
		reason string // a refusal
	}{
		{"transient NameID", conn(acme, nil), assertion(string(saml.TransientNameIDFormat), "_tmp1", attr("mail", "", "ada@acme.test")),
			ssoIdentity{}, "subject"},
		{"no subject", conn(acme, nil), &saml.Assertion{}, ssoIdentity{}, "subject"},
		{"blank NameID", conn(acme, nil), assertion(persistent, "  "), ssoIdentity{}, "subject"},
		{"email from an emailAddress NameID, in a domain of the connection", conn(acme, nil), assertion(email, "ada@acme.test"),
			ssoIdentity{Subject: "ada@acme.test", Email: "ada@acme.test", EmailVerified: true}, ""},
		{"a persistent NameID is no email", conn(acme, nil), assertion(persistent, "ada@acme.test"),
			ssoIdentity{Subject: "ada@acme.test"}, ""},
		{"an attribute beats the NameID", conn(acme, nil), assertion(email, "n1@acme.test", attr("email", "", "ada@acme.test")),
			ssoIdentity{Subject: "n1@acme.test", Email: "ada@acme.test", EmailVerified: true}, ""},
		{"email outside the connection's domains is not verified", conn(acme, nil), assertion(persistent, "p1", attr("mail", "", "ada@evil.test")),
			ssoIdentity{Subject: "p1", Email: "ada@evil.test"}, ""},
		{"a subdomain is not the domain", conn(acme, nil), assertion(persistent, "p1", attr("mail", "", "ada@x.acme.test")),
			ssoIdentity{Subject: "p1", Email: "ada@x.acme.test"}, ""},
		{"domain case does not matter", conn(acme, nil), assertion(persistent, "p1", attr("mail", "", "Ada@ACME.test")),
			ssoIdentity{Subject: "p1", Email: "Ada@ACME.test", EmailVerified: true}, ""},
		{"no domains: nothing verified", conn(nil, nil), assertion(email, "ada@acme.test"),
			ssoIdentity{Subject: "ada@acme.test", Email: "ada@acme.test"}, ""},
		{"default names: LDAP OID, friendly name, Microsoft claims", conn(acme, nil), assertion(persistent, "p1",
			attr("urn:oid:0.9.2342.19200300.100.1.3", "", "ada@acme.test"),
			attr("urn:oid:2.16.840.1.113730.3.1.241", "displayName", "Ada Lovelace"),
			attr("http://schemas.microsoft.com/ws/2008/06/identity/claims/groups", "", "g1", "g2")),
			ssoIdentity{Subject: "p1", Email: "ada@acme.test", EmailVerified: true, Name: "Ada Lovelace", Groups: []string{"g1", "g2"}}, ""},
		{"attribute_map names win over the defaults", conn(acme, map[string]string{"email": "upn", "name": "full", "groups": "roles"}),
			assertion(persistent, "p1", attr("email", "", "default@acme.test"), attr("upn", "", "mapped@acme.test"),
				attr("name", "", "Default"), attr("full", "", "Mapped"), attr("groups", "", "g0"), attr("roles", "", "r1", "", "r2")),
			ssoIdentity{Subject: "p1", Email: "mapped@acme.test", EmailVerified: true, Name: "Mapped", Groups: []string{"r1", "r2"}}, ""},
		{"a mapped name matches a FriendlyName too", conn(acme, map[string]string{"groups": "eduPersonAffiliation"}),
			assertion(persistent, "p1", attr("urn:oid:1.3.6.1.4.1.5923.1.1.1.1", "eduPersonAffiliation", "staff")),
			ssoIdentity{Subject: "p1", Groups: []string{"staff"}}, ""},
		{"groups from several statements", conn(acme, nil), &saml.Assertion{
			Subject: &saml.Subject{NameID: &saml.NameID{Format: persistent, Value: "p1"}},
			AttributeStatements: []saml.AttributeStatement{{Attributes: []saml.Attribute{attr("groups", "", "a")}},
				{Attributes: []saml.Attribute{attr("groups", "", "b")}}}},
			ssoIdentity{Subject: "p1", Groups: []string{"a", "b"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := samlIdentity(tt.c, tt.a)
			if tt.reason != "" {
				var se *SSOError
				if !errors.As(err, &se) || se.Reason != tt.reason {
					t.Fatalf("got %+v, %v; want refused (%s)", got, err, tt.reason)
				}
				return
			}
			if err != nil || got.Subject != tt.want.Subject || got.Email != tt.want.Email ||
				got.EmailVerified != tt.want.EmailVerified || got.Name != tt.want.Name || !slices.Equal(got.Groups, tt.want.Groups) {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
	// At most 100 values are kept.
	many := make([]string, 150)
	for i := range many {
		many[i] = "g"
	}
	got, _ := samlIdentity(conn(acme, nil), assertion(persistent, "p1", attr("groups", "", many...)))
	if len(got.Groups) != 100 {
		t.Errorf("kept %d groups, want 100", len(got.Groups))
	}
}

func TestMetadataTTL(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		md   saml.EntityDescriptor
		want time.Duration
	}{
		{"neither: daily", saml.EntityDescriptor{}, 24 * time.Hour},
		{"cacheDuration", saml.EntityDescriptor{CacheDuration: 2 * time.Hour}, 2 * time.Hour},
		{"a cacheDuration over a day is capped", saml.EntityDescriptor{CacheDuration: 7 * 24 * time.Hour}, 24 * time.Hour},
		{"validUntil", saml.EntityDescriptor{ValidUntil: now.Add(3 * time.Hour)}, 3 * time.Hour},
		{"validUntil after a day", saml.EntityDescriptor{ValidUntil: now.Add(72 * time.Hour)}, 24 * time.Hour},
		{"the sooner of both", saml.EntityDescriptor{CacheDuration: 2 * time.Hour, ValidUntil: now.Add(time.Hour)}, time.Hour},
		{"the sooner of both, other way", saml.EntityDescriptor{CacheDuration: 30 * time.Minute, ValidUntil: now.Add(time.Hour)}, 30 * time.Minute},
		{"validUntil in seconds: a minute", saml.EntityDescriptor{ValidUntil: now.Add(5 * time.Second)}, time.Minute},
		{"validUntil past: a minute", saml.EntityDescriptor{ValidUntil: now.Add(-time.Hour)}, time.Minute},
	}
	for _, tt := range tests {
		if got := metadataTTL(&tt.md, now); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"access_denied", 64, "access_denied"},
		{"abcdef", 3, "abc"},
		{"a\r\nb\x00c\x7fd\te", 64, "abcde"},
		{"", 5, ""},
		{"héllo", 2, "h"},                                // cut between characters
		{"\u202eevil\u202c Ada", 64, "evil Ada"},         // bidirectional overrides
		{" Ada\u2028Lovelace\u0085 ", 64, "AdaLovelace"}, // separators, C1, spaces around
		{"a\u200bb\xff", 64, "ab"},                       // zero-width space, invalid UTF-8
		{" \t ", 64, ""},
		{strings.Repeat("x", 100), 64, strings.Repeat("x", 64)},
	}
	for _, tt := range tests {
		if got := clip(tt.in, tt.n); got != tt.want {
			t.Errorf("clip(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

// entraTransport plays login.microsoftonline.com for the service's IdP
// client: discovery as Entra publishes it (a common endpoint's issuer
// has a literal {tenantid}; a tenant's names the tenant), the token
// endpoint and keys forwarded to the test provider.
type entraTransport struct{ p *ssotest.Provider }

func (tr entraTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host != "login.microsoftonline.com" {
		return nil, fmt.Errorf("unexpected request to %s", r.URL)
	}
	seg := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	const ms = "https://login.microsoftonline.com/"
	switch last := seg[len(seg)-1]; last {
	case "openid-configuration":
		iss := ms + seg[0] + "/v2.0"
		if slices.Contains([]string{"common", "organizations", "consumers"}, seg[0]) {
			iss = ms + "{tenantid}/v2.0"
		}
		b, _ := json.Marshal(map[string]any{"issuer": iss, "authorization_endpoint": ms + seg[0] + "/oauth2/v2.0/authorize",
			"token_endpoint": ms + seg[0] + "/oauth2/v2.0/token", "jwks_uri": ms + seg[0] + "/discovery/v2.0/keys",
			"response_types_supported": []string{"code"}, "id_token_signing_alg_values_supported": []string{"RS256"}})
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(bytes.NewReader(b)), Request: r}, nil
	case "token", "keys":
		path := map[string]string{"token": "/token", "keys": "/jwks"}[last]
		out, err := http.NewRequestWithContext(r.Context(), r.Method, tr.p.URL+path, r.Body)
		if err != nil {
			return nil, err
		}
		out.Header = r.Header.Clone()
		return http.DefaultTransport.RoundTrip(out)
	}
	return &http.Response{StatusCode: 404, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
}

// TestEntraCallback runs oidcCallback against "login.microsoftonline.com"
// (entraTransport): the multi-tenant issuers are discovered and their
// people keyed by tid/oid, checked against allowed_tenants; a tenant's
// own issuer keys by tid/oid too; other issuers keep sub.
func TestEntraCallback(t *testing.T) {
	const tenantA, tenantB = "11111111-aaaa-4aaa-8aaa-111111111111", "22222222-bbbb-4bbb-8bbb-222222222222"
	p := ssotest.Start("sigil-client", "idp-secret")
	t.Cleanup(p.Close)
	tests := []struct {
		name, issuer, tokenTenant string
		extra                     map[string]any
		subject, reason           string
	}{
		{"common, an allowed tenant", "https://login.microsoftonline.com/common/v2.0", tenantA,
			map[string]any{"tid": tenantA, "oid": "oid-1"}, tenantA + "/oid-1", ""},
		{"organizations, an allowed tenant", "https://login.microsoftonline.com/organizations/v2.0", tenantA,
			map[string]any{"tid": tenantA, "oid": "oid-1"}, tenantA + "/oid-1", ""},
		{"common, a tenant not allowed", "https://login.microsoftonline.com/common/v2.0", tenantB,
			map[string]any{"tid": tenantB, "oid": "oid-2"}, "", "tenant"},
		{"common, iss of another tenant than tid", "https://login.microsoftonline.com/common/v2.0", tenantB,
			map[string]any{"tid": tenantA, "oid": "oid-2"}, "", "tenant"},
		{"a tenant's own issuer", "https://login.microsoftonline.com/" + tenantA + "/v2.0", tenantA,
			map[string]any{"tid": tenantA, "oid": "oid-1"}, tenantA + "/oid-1", ""},
		{"a tenant's own issuer, no oid", "https://login.microsoftonline.com/" + tenantA + "/v2.0", tenantA,
			map[string]any{"tid": tenantA}, "per-app-sub", ""},
		{"a tenant's own issuer, token of another tenant", "https://login.microsoftonline.com/" + tenantA + "/v2.0", tenantB,
			map[string]any{"tid": tenantB, "oid": "oid-2"}, "", "issuer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Service{opt: Options{Issuer: "https://sigil.test", SSOClient: &http.Client{Transport: entraTransport{p}}},
				now: time.Now, sso: newSSOCache()}
			c := connection{Connection: store.Connection{ID: "conn_entra", Kind: store.ConnOIDC},
				cfg:     connConfig{Issuer: tt.issuer, ClientID: "sigil-client", AllowedTenants: []string{tenantA}},
				secrets: connSecrets{ClientSecret: "idp-secret"}}
			st := ssoState{Conn: c.ID, Nonce: "nonce-1", Verifier: strings.Repeat("v", 43)}
			p.Lock()
			p.Next = ssotest.User{Subject: "per-app-sub", Email: "grace@contoso.test", EmailVerified: true, Extra: tt.extra}
			p.Tweak = func(cl map[string]any) { cl["iss"] = "https://login.microsoftonline.com/" + tt.tokenTenant + "/v2.0" }
			p.Unlock()
			// The browser's trip to the IdP, which answers with a code.
			q := url.Values{"client_id": {"sigil-client"}, "response_type": {"code"}, "state": {"x"}, "nonce": {st.Nonce},
				"redirect_uri": {s.ssoURL(c.ID, "/callback")}, "code_challenge_method": {"S256"},
				"code_challenge": {oauth2.S256ChallengeFromVerifier(st.Verifier)}}
			noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			res, err := noFollow.Get(p.URL + "/authorize?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			back, _ := url.Parse(res.Header.Get("Location"))
			id, err := s.oidcCallback(context.Background(), c, st, back.Query().Get("code"))
			if tt.reason != "" {
				var se *SSOError
				if !errors.As(err, &se) || se.Reason != tt.reason {
					t.Fatalf("got %+v, %v; want refused (%s)", id, err, tt.reason)
				}
				return
			}
			if err != nil || id.Subject != tt.subject || id.Email != "grace@contoso.test" || !id.EmailVerified {
				t.Fatalf("got %+v, %v; want subject %s", id, err, tt.subject)
			}
		})
	}
}
