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
func (s *Service) Authorize(ctx context.Context, c Credential, required []string) (Principal, error) {
	p, err := s.Authenticate(ctx, c)
	if err != nil {
		return Principal{}, err
	}
	for _, sc := range required {
		if !p.HasScope(sc) {
			return Principal{}, errorf(CodeInsufficientScope, "this route needs scope %q", sc)
		}
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
