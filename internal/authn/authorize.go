package authn

import (
	"context"
	"strings"
)

// tierScope marks a credential's request tier: a credential holding scope
// "tier:pro" is limited to the "pro" tier's rate by forward-auth.
const tierScope = "tier:"

// Authorize is forward-auth's check: authenticate the credential, require
// every scope in required, and count the request against the
// credential's tier (if it has one).
func (s *Service) Authorize(ctx context.Context, c Credential, required []string, minAAL string) (Principal, error) {
	p, err := s.Authenticate(ctx, c)
	if err != nil {
		return Principal{}, err
	}
	for _, sc := range required {
		if !p.HasScope(sc) {
			return Principal{}, errorf(CodeInsufficientScope, "this route needs scope %q", sc)
		}
	}
	if minAAL == AAL2 && p.AAL != AAL2 {
		return Principal{}, ErrInsufficientAAL
	}
	if tier := Tier(p); tier != "" {
		if r, ok := s.opt.Tiers[tier]; ok {
			// Subjects are only unique within a kind and a workspace (a
			// customer JWT's sub is the customer's own string).
			err := s.limitRule(ctx, "tier_"+tier, p.Kind+":"+p.WorkspaceID+":"+p.Subject, r)
			if err := s.limitedIn(p.WorkspaceID, err); err != nil {
				return Principal{}, err
			}
		}
	}
	return p, nil
}

// Assurance levels (NIST SP 800-63B) as tokens and forward-auth name them.
const (
	AAL1 = "aal1"
	AAL2 = "aal2"
)

// ErrInsufficientAAL is a credential of one factor on a route that needs two.
var ErrInsufficientAAL = &Error{Code: CodeInsufficientAAL,
	Detail: "this route needs a sign-in with a second factor (aal2); sign in again with your passkey or authenticator app"}

// AALParam reads forward-auth's aal parameter: "" (none required), "1" or
// "aal1", "2" or "aal2"; anything else is invalid_request.
func AALParam(v string) (string, error) {
	switch v {
	case "", "1", AAL1:
		return "", nil
	case "2", AAL2:
		return AAL2, nil
	}
	return "", invalid("aal must be 1 or 2")
}

// Tier is the request tier named by p's scopes ("" when none).
func Tier(p Principal) string {
	for _, sc := range p.Scopes {
		if t, ok := strings.CutPrefix(sc, tierScope); ok {
			return t
		}
	}
	return ""
}

// ScopesParam splits forward-auth's scope parameters: each value may hold
// several scopes separated by spaces or commas.
func ScopesParam(values []string) []string {
	var out []string
	for _, v := range values {
		out = append(out, strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' })...)
	}
	return out
}
