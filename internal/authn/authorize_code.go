package authn

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
	"github.com/sigil-auth/sigil/internal/token"
)

// codeTTL is how long an authorization code may wait for its exchange
// (RFC 6749 §4.1.2 recommends at most ten minutes; a browser redirect
// takes a second).
const codeTTL = 60 * time.Second

// codePrefix marks authorization codes.
const codePrefix = "ac_"

// OIDC scopes: they shape the ID token and userinfo, not API access.
var oidcScopes = []string{"openid", "email", "profile", "offline_access"}

// AuthorizeRequest is the query of GET /oauth2/authorize (RFC 6749 §4.1.1,
// RFC 7636, OIDC Core §3.1.2.1).
type AuthorizeRequest struct {
	ResponseType        string
	ClientID            string
	RedirectURI         string
	State               string
	Scope               string
	Nonce               string
	Prompt              string
	LoginHint           string
	MaxAge              string
	ACRValues           string
	CodeChallenge       string
	CodeChallengeMethod string
	// Connection is the SSO connection the app names (API.md §11
	// connection): the person signs in there instead of on Sigil's page.
	Connection string
}

// ParseAuthorizeRequest reads the request's parameters from a query. A
// parameter given twice is kept as given first; CheckAuthorize refuses it.
func ParseAuthorizeRequest(q url.Values) AuthorizeRequest {
	return AuthorizeRequest{
		ResponseType: q.Get("response_type"), ClientID: q.Get("client_id"), RedirectURI: q.Get("redirect_uri"),
		State: q.Get("state"), Scope: q.Get("scope"), Nonce: q.Get("nonce"), Prompt: q.Get("prompt"),
		LoginHint: q.Get("login_hint"), MaxAge: q.Get("max_age"), ACRValues: q.Get("acr_values"),
		CodeChallenge: q.Get("code_challenge"), CodeChallengeMethod: q.Get("code_challenge_method"),
		Connection: q.Get("connection"),
	}
}

// ClientError is an authorization request that cannot be answered at the
// app's redirect URI (unknown client, unregistered redirect URI): it is
// shown to the person as a page, never redirected (RFC 6749 §4.1.2.1).
type ClientError struct{ Detail string }

func (e *ClientError) Error() string { return "invalid authorization request: " + e.Detail }

// Authorization is a checked authorization request.
type Authorization struct {
	Request   AuthorizeRequest
	App       store.App
	Workspace store.Workspace
	Scopes    []string      // as requested, cleaned
	MaxAge    time.Duration // -1: none asked
	ACR       string        // the level acr_values asks for: "", AAL1 or AAL2
}

// CheckAuthorize validates an authorization request. Problems with the
// client or the redirect URI are *ClientError; anything else is an
// *OAuthError to send back to the app with ErrorRedirect.
func (s *Service) CheckAuthorize(ctx context.Context, q url.Values) (Authorization, error) {
	req := ParseAuthorizeRequest(q)
	az := Authorization{Request: req, MaxAge: -1}
	if req.ClientID == "" {
		return az, &ClientError{"the request names no client_id"}
	}
	app, err := s.app(ctx, req.ClientID)
	if errors.Is(err, store.ErrNotFound) {
		return az, &ClientError{"no app is registered with this client_id"}
	} else if err != nil {
		return az, err
	}
	az.App = app
	if req.RedirectURI == "" || !slices.Contains(app.RedirectURIs, req.RedirectURI) {
		return az, &ClientError{"the redirect_uri is not one registered for this app"}
	}
	for _, p := range []string{"client_id", "redirect_uri"} {
		if len(q[p]) > 1 {
			return az, &ClientError{p + " is given more than once"}
		}
	}
	if az.Workspace, err = s.workspace(ctx, app.WorkspaceID); err != nil {
		return az, err
	}
	// From here on errors go back to the app.
	for p, v := range q {
		if len(v) > 1 {
			return az, &OAuthError{"invalid_request", p + " is given more than once"}
		}
	}
	switch {
	case req.ResponseType != "code":
		return az, &OAuthError{"unsupported_response_type", "only response_type=code is supported"}
	case req.CodeChallenge == "":
		return az, &OAuthError{"invalid_request", "PKCE is required: send code_challenge and code_challenge_method=S256"}
	case req.CodeChallengeMethod != "S256":
		return az, &OAuthError{"invalid_request", "code_challenge_method must be S256"}
	case !validVerifierChars(req.CodeChallenge) || len(req.CodeChallenge) != 43:
		return az, &OAuthError{"invalid_request", "code_challenge must be the base64url SHA-256 of the verifier (43 characters)"}
	case len(req.State) > 2048 || len(req.Nonce) > 512 || len(req.LoginHint) > 320 || len(req.Scope) > 2048 || len(req.ACRValues) > 512:
		return az, &OAuthError{"invalid_request", "a parameter is too long"}
	}
	for _, p := range strings.Fields(req.Prompt) {
		if p != "none" && p != "login" {
			return az, &OAuthError{"invalid_request", "prompt may be none or login"}
		}
	}
	if req.MaxAge != "" {
		n, err := strconv.Atoi(req.MaxAge)
		if err != nil || n < 0 {
			return az, &OAuthError{"invalid_request", "max_age must be a non-negative number of seconds"}
		}
		az.MaxAge = time.Duration(min(n, 1<<30)) * time.Second
	}
	az.ACR = acrLevel(req.ACRValues)
	if az.Scopes, err = cleanScopes(strings.Fields(req.Scope)); err != nil {
		return az, &OAuthError{"invalid_scope", "scope is not valid"}
	}
	return az, s.checkConnection(ctx, az)
}

// checkConnection refuses, as invalid_request for the app, a request
// naming an SSO connection that does not exist or belongs to another
// workspace than the app's: the client and redirect URI are known good
// by now, so the app hears of its mistake (RFC 6749 §4.1.2.1), and one
// workspace's request never starts another's IdP.
func (s *Service) checkConnection(ctx context.Context, az Authorization) error {
	if az.Request.Connection == "" {
		return nil
	}
	_, err := s.connectionOf(ctx, az.App.WorkspaceID, az.Request.Connection)
	if errors.Is(err, ErrNotFound) {
		return &OAuthError{"invalid_request", "connection is not an SSO connection of this app's workspace"}
	}
	return err
}

// ErrorRedirect is where an *OAuthError of a checked request sends the
// browser: the registered redirect URI with error, error_description,
// state and iss (RFC 9207).
func (az Authorization) ErrorRedirect(issuer string, e *OAuthError) string {
	v := url.Values{"error": {e.Code}, "error_description": {e.Description}}
	return az.redirect(issuer, v)
}

func (az Authorization) redirect(issuer string, v url.Values) string {
	if az.Request.State != "" {
		v.Set("state", az.Request.State)
	}
	v.Set("iss", issuer)
	sep := "?"
	if strings.Contains(az.Request.RedirectURI, "?") {
		sep = "&"
	}
	return az.Request.RedirectURI + sep + v.Encode()
}

// Prompts reports whether the request forces a fresh sign-in
// (prompt=login) and whether it forbids any page (prompt=none).
func (az Authorization) Prompts() (login, none bool) {
	p := strings.Fields(az.Request.Prompt)
	return slices.Contains(p, "login"), slices.Contains(p, "none")
}

// Satisfied reports whether browser session b can answer the request
// without asking the person to sign in: it belongs to the app's
// workspace, prompt=login is absent, and max_age is not exceeded.
func (az Authorization) Satisfied(b *BrowserSession, now time.Time) bool {
	if b == nil || b.WorkspaceID != az.App.WorkspaceID {
		return false
	}
	if login, _ := az.Prompts(); login {
		return false
	}
	return az.MaxAge < 0 || now.Sub(b.AuthTime) <= az.MaxAge
}

// GrantCode issues an authorization code for the person of browser
// session b (as Browser, SignIn or SignUpBrowser returned it) and returns
// the redirect that delivers it to the app.
func (s *Service) GrantCode(ctx context.Context, ip netip.Addr, az Authorization, b BrowserSession) (string, error) {
	if b.WorkspaceID != az.App.WorkspaceID {
		return "", errorf(CodeForbidden, "your account belongs to another workspace than this app; sign in with an account of the app's workspace")
	}
	if e, err := s.MFAEnrolmentOf(ctx, b); err != nil {
		return "", err
	} else if e.Overdue {
		return "", ErrMFAEnrolment // past the grace period: enrol first
	}
	if az.NeedsStepUp(b) {
		return "", errStepUpNeeded
	}
	code := codePrefix + token.NewSecret()
	now := s.now()
	c := store.AuthorizationCode{
		Hash: token.Hash(code), AppID: az.App.ID, UserID: b.UserID, WorkspaceID: b.WorkspaceID,
		RedirectURI: az.Request.RedirectURI, CodeChallenge: az.Request.CodeChallenge,
		Scopes: grantScopes(az.Scopes, b.scopes), Nonce: az.Request.Nonce, Method: b.Method,
		AuthTime: b.AuthTime, CreatedAt: now, ExpiresAt: now.Add(codeTTL),
	}
	if err := s.store.CreateAuthorizationCode(ctx, c); err != nil {
		return "", err
	}
	s.audit(ctx, ip, store.AuditEvent{WorkspaceID: b.WorkspaceID, Actor: b.UserID, Action: AuditAuthorize, Target: az.App.ID,
		Method: b.Method, Details: map[string]string{"scope": strings.Join(c.Scopes, " ")}})
	return az.redirect(s.opt.Issuer, url.Values{"code": {code}}), nil
}

// AuditRefusal records an authorization request refused before a code
// (a bad request, prompt=none without a session, a client error).
func (s *Service) AuditRefusal(ctx context.Context, ip netip.Addr, az Authorization, err error) {
	ev := store.AuditEvent{WorkspaceID: az.App.WorkspaceID, Action: AuditAuthorizeDeny, Target: az.App.ID,
		Details: map[string]string{"client_id": az.Request.ClientID, "reason": err.Error()}}
	s.audit(ctx, ip, ev)
}

// grantScopes is what a code grants: the OIDC scopes asked for, and the
// API scopes asked for that the person holds; a request that names no API
// scope gets all of the person's (as every other login does).
func grantScopes(asked, held []string) []string {
	out := []string{}
	api := false
	for _, sc := range asked {
		switch {
		case slices.Contains(oidcScopes, sc):
			out = append(out, sc)
		default:
			api = true
			if slices.Contains(held, sc) {
				out = append(out, sc)
			}
		}
	}
	if !api {
		out = append(out, held...)
	}
	return out
}

// validVerifierChars checks RFC 7636's unreserved characters.
func validVerifierChars(v string) bool {
	for _, c := range []byte(v) {
		ok := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
		if !ok {
			return false
		}
	}
	return true
}

// pkceMatches checks verifier against an S256 challenge in constant time.
func pkceMatches(verifier, challenge string) bool {
	if len(verifier) < 43 || len(verifier) > 128 || !validVerifierChars(verifier) {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	want := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(want), []byte(challenge)) == 1
}
