package authn

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sigil-auth/sigil/internal/ratelimit"
	"github.com/sigil-auth/sigil/internal/store"
	"github.com/sigil-auth/sigil/internal/token"
)

// The browser's round trip through an IdP, kept without server-side
// state so that any replica can take any step:
//
//  1. StartSSO makes a binding secret and seals the flow (connection,
//     nonce, PKCE verifier, the hash of the binding secret, expiry) into
//     the state parameter the IdP sends back; the binding secret and the
//     pending authorization request go into a SameSite=Lax cookie on
//     /sso/ (the flow cookie), also sealed.
//  2. The IdP comes back to the callback: a top-level GET (OIDC), or a
//     cross-site POST (Apple's form_post, SAML's HTTP-POST binding) that
//     carries no Lax cookie. Either way SSOCallback / SAMLResponse checks
//     everything the IdP sent and returns a sealed result, good for
//     resultTTL and once.
//  3. FinishSSO, on a request that carries the flow cookie (a GET: after
//     a POST callback, the web layer redirects to one with 303), checks
//     that the cookie's binding secret is the one the flow was started
//     with — so nobody can finish their sign-in in someone else's browser
//     (login CSRF) — and starts the browser session.

// Lifetimes of a flow's pieces.
const (
	flowTTL   = 10 * time.Minute // from start to callback: the person signs in at the IdP
	resultTTL = 2 * time.Minute  // from callback to finish: one redirect
)

// Prefixes of the sealed values, and their associated data.
const (
	statePrefix  = "ss_"
	resultPrefix = "sr_"
	flowPrefix   = "sf_"
	maxSealed    = 16 << 10
)

// MethodSSO is the amr value of a sign-in through a connection; a
// session's method is "sso:" followed by the connection id.
const MethodSSO = "sso"

// connectionOfMethod is the connection a session's method names ("" if
// the session did not start with SSO).
func connectionOfMethod(method string) string {
	first, _, _ := strings.Cut(method, "+")
	if c, ok := strings.CutPrefix(first, MethodSSO+":"); ok {
		return c
	}
	return ""
}

// SSOError is a sign-in at an IdP that did not succeed. Reason is a short
// code for the audit log; Detail is a sentence for the person.
type SSOError struct {
	Reason, Detail string
	cause          error // for the log only
}

func (e *SSOError) Error() string {
	if e.cause != nil {
		return "sso: " + e.Reason + ": " + e.Detail + ": " + e.cause.Error()
	}
	return "sso: " + e.Reason + ": " + e.Detail
}

func ssoFailure(reason, detail string) *SSOError { return &SSOError{Reason: reason, Detail: detail} }

// ssoState is what the state parameter carries through the IdP.
type ssoState struct {
	Conn     string `json:"c"`
	Nonce    string `json:"n"`
	Verifier string `json:"v,omitempty"`
	Bind     string `json:"b"` // base64url SHA-256 of the flow cookie's binding secret
	Exp      int64  `json:"e"`
}

// ssoFlow is the flow cookie's content.
type ssoFlow struct {
	Bind   string `json:"b"` // the binding secret
	Return string `json:"r,omitempty"`
	Exp    int64  `json:"e"`
}

// ssoResult is a checked IdP answer, waiting for FinishSSO.
type ssoResult struct {
	ID   string `json:"i"` // makes the result single-use
	User string `json:"u"`
	Conn string `json:"c"`
	Bind string `json:"b"` // "" for an IdP-initiated SAML sign-in
	Exp  int64  `json:"e"`
}

// SSOStart is where StartSSO sends the browser, and the flow cookie to
// set first (for MaxAge).
type SSOStart struct {
	URL    string
	Cookie string
	MaxAge time.Duration
}

// StartSSO begins a sign-in through connection cid. ret is the pending
// authorization request (its query; "" for none) that FinishSSO hands
// back, ws its app's workspace ("" for none: the connection must be of
// it); hint is an email to suggest to the IdP.
func (s *Service) StartSSO(ctx context.Context, ip netip.Addr, cid, ws, ret, hint string) (SSOStart, error) {
	if err := s.limit(ctx, ratelimit.LoginIP, ipKey(ip)); err != nil {
		return SSOStart{}, err
	}
	c, err := s.connectionOf(ctx, ws, cid)
	if err != nil {
		return SSOStart{}, err
	}
	bind := token.NewSecret()
	exp := s.now().Add(flowTTL).Unix()
	st := ssoState{Conn: c.ID, Nonce: token.NewSecret(), Verifier: token.NewSecret() + token.NewSecret(),
		Bind: bindHash(bind), Exp: exp}
	cookie, err := s.seal(flowPrefix, ssoFlow{Bind: bind, Return: ret, Exp: exp})
	if err != nil {
		return SSOStart{}, err
	}
	var to string
	switch c.Kind {
	case store.ConnSAML:
		to, err = s.samlStart(ctx, c, st)
	default:
		var state string
		if state, err = s.seal(statePrefix, st); err != nil {
			return SSOStart{}, err
		}
		if c.Kind == store.ConnApple {
			to, err = s.appleStart(c, state, st)
		} else {
			to, err = s.oidcStart(ctx, c, state, st, hint)
		}
	}
	if err != nil {
		s.ssoRefused(ctx, ip, c, err)
		return SSOStart{}, err
	}
	return SSOStart{URL: to, Cookie: cookie, MaxAge: flowTTL}, nil
}

// SSOCallback checks what an IdP sent to /sso/{cid}/callback (the query
// of a GET, or the body of Apple's form_post) and finds or makes the
// account. It returns a sealed result for FinishSSO.
func (s *Service) SSOCallback(ctx context.Context, ip netip.Addr, cid string, form url.Values) (string, error) {
	c, err := s.connectionOf(ctx, "", cid)
	if err != nil {
		return "", err
	}
	if c.Kind == store.ConnSAML {
		return "", ErrNotFound
	}
	res, err := s.ssoCallback(ctx, ip, c, form)
	if err != nil {
		s.ssoRefused(ctx, ip, c, err)
	}
	return res, err
}

func (s *Service) ssoCallback(ctx context.Context, ip netip.Addr, c connection, form url.Values) (string, error) {
	var st ssoState
	if err := s.open(statePrefix, form.Get("state"), &st); err != nil || st.Conn != c.ID {
		return "", ssoFailure("state", "this sign-in link is not valid here (wrong or altered state)")
	}
	if s.now().Unix() > st.Exp {
		return "", ssoFailure("expired", "the sign-in took too long")
	}
	if e := form.Get("error"); e != "" {
		return "", ssoFailure("idp_error", "the identity provider did not sign you in ("+clip(e, 64)+")")
	}
	code := form.Get("code")
	if code == "" || len(code) > 4096 {
		return "", ssoFailure("no_code", "the identity provider sent no authorization code")
	}
	var id ssoIdentity
	var err error
	if c.Kind == store.ConnApple {
		id, err = s.appleCallback(ctx, c, st, code, form.Get("user"))
	} else {
		id, err = s.oidcCallback(ctx, c, st, code)
	}
	if err != nil {
		return "", err
	}
	u, err := s.ssoAccount(ctx, ip, c, id)
	if err != nil {
		return "", err
	}
	return s.seal(resultPrefix, ssoResult{ID: newID("r"), User: u.ID, Conn: c.ID, Bind: st.Bind,
		Exp: s.now().Add(resultTTL).Unix()})
}

// FinishSSO completes a sign-in: result is what SSOCallback or
// SAMLResponse returned, flowCookie the flow cookie of this browser. It
// starts the browser session (or returns *MFARequired for the person's
// second factor) and hands back the pending authorization request.
func (s *Service) FinishSSO(ctx context.Context, ip netip.Addr, result, flowCookie string) (BrowserSession, string, error) {
	var r ssoResult
	if err := s.open(resultPrefix, result, &r); err != nil || s.now().Unix() > r.Exp {
		return BrowserSession{}, "", ssoFailure("result", "this sign-in is finished or took too long; start again")
	}
	var f ssoFlow
	if r.Bind != "" {
		err := s.open(flowPrefix, flowCookie, &f)
		if err != nil || subtle.ConstantTimeCompare([]byte(bindHash(f.Bind)), []byte(r.Bind)) != 1 {
			return BrowserSession{}, "", ssoFailure("binding", "this sign-in was started in another browser; start it again here")
		}
	}
	u, err := s.store.GetUser(ctx, r.User)
	if errors.Is(err, store.ErrNotFound) {
		return BrowserSession{}, "", ssoFailure("result", "the account is gone")
	} else if err != nil {
		return BrowserSession{}, "", err
	}
	method := MethodSSO + ":" + r.Conn
	if ch, err := s.mfaChallenge(ctx, u, method); err != nil {
		return BrowserSession{}, "", err
	} else if ch != nil {
		return BrowserSession{}, f.Return, ch
	}
	used := store.AuthCode{Hash: token.Hash("sso result:" + r.ID), UserID: u.ID, ExpiresAt: time.Unix(r.Exp, 0)}
	b, err := s.startBrowserSession(ctx, u, method, used)
	if errors.Is(err, store.ErrConflict) {
		return BrowserSession{}, "", ssoFailure("replayed", "this sign-in was already finished")
	} else if err != nil {
		return BrowserSession{}, "", err
	}
	s.observe(MethodSSO, nil)
	s.audit(ctx, ip, store.AuditEvent{WorkspaceID: u.WorkspaceID, Actor: u.ID, Action: AuditSSOLogin, Target: r.Conn, Method: method})
	return b, f.Return, nil
}

// ssoRefused records a failed SSO step.
func (s *Service) ssoRefused(ctx context.Context, ip netip.Addr, c connection, err error) {
	reason := errorCode(err)
	var se *SSOError
	if errors.As(err, &se) {
		reason = se.Reason
	}
	s.observe(MethodSSO, err)
	s.log.InfoContext(ctx, "sso sign-in refused", "connection", c.ID, "reason", reason, "err", err)
	s.audit(ctx, ip, store.AuditEvent{WorkspaceID: c.WorkspaceID, Action: AuditSSORefused, Target: c.ID,
		Method: MethodSSO, Details: map[string]string{"reason": reason}})
}

func bindHash(secret string) string {
	sum := sha256.Sum256([]byte("sso bind:" + secret))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// seal seals a flow value as prefix + base64url; the prefix is also the
// associated data, so one kind of value never opens as another.
func (s *Service) seal(prefix string, v any) (string, error) { return s.sealJSON(prefix, prefix, v) }

// open reverses seal; anything not sealed by seal with prefix is an error.
func (s *Service) open(prefix, raw string, v any) error {
	return s.openJSON(prefix, prefix, maxSealed, raw, v)
}

// clip makes a string from an IdP fit to be stored, shown, logged or
// put in a token: no control, format (bidirectional overrides,
// zero-width) or line and paragraph separator characters, no spaces
// around it, at most n bytes, cut between characters.
func clip(v string, n int) string {
	v = strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) || r == utf8.RuneError {
			return -1
		}
		return r
	}, v))
	for len(v) > n {
		_, size := utf8.DecodeLastRuneInString(v)
		v = v[:len(v)-size]
	}
	return v
}
