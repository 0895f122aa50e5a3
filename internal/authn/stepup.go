package authn

import (
	"context"
	"errors"
	"strings"

	"github.com/sigil-auth/sigil/internal/store"
)

// Step-up (OIDC Core §3.1.2.1 acr_values, §2 acr): an app may ask, per
// authorization request, for a sign-in of two factors. The acr values
// are the assurance levels tokens already carry in aal ("aal1",
// "aal2"); acr_values lists the ones the app accepts, so the lowest
// listed is what it needs. Values Sigil does not know are ignored, as
// OIDC makes acr a voluntary claim. A browser session of one factor
// then does the second step (StepUp) before a code is issued; a person
// with no second factor to use gets ErrStepUpEnrol (the pages send them
// to add one, as Auth0 and Ory do).

// ACRValuesSupported are the acr values /oauth2/authorize understands,
// for discovery's acr_values_supported.
var ACRValuesSupported = []string{AAL1, AAL2}

// ErrStepUpEnrol is a step-up asked of a person who has no second factor.
var ErrStepUpEnrol = &Error{Code: CodeMFAEnrolment,
	Detail: "the app asks for two-step verification and your account has no second factor: add a passkey or an authenticator app first"}

// errStepUpNeeded is a code asked for a session of fewer factors than
// the request needs: the pages step up first, so it is a bug if seen.
var errStepUpNeeded = &Error{Code: CodeInsufficientAAL,
	Detail: "the app asks for two-step verification: finish the second step first"}

// acrLevel is the assurance level an acr_values parameter needs: the
// lowest known level it lists, "" when it lists none.
func acrLevel(values string) string {
	need := ""
	for _, v := range strings.Fields(values) {
		switch v {
		case AAL1:
			return AAL1
		case AAL2:
			need = AAL2
		}
	}
	return need
}

// NeedsStepUp reports whether browser session b signed in with fewer
// factors than the request asks for (acr_values=aal2).
func (az Authorization) NeedsStepUp(b BrowserSession) bool {
	return az.ACR == AAL2 && aalOf(b.Method) != AAL2
}

// StepUp starts the second step for browser session b, signed in with
// one factor, when an app asks for two: the challenge to answer as at
// sign-in (SignInMFA), which starts a browser session whose method is
// b's plus the second factor ("pwd+otp"), so aal2. A person with no
// second factor gets ErrStepUpEnrol.
func (s *Service) StepUp(ctx context.Context, b BrowserSession) (*MFARequired, error) {
	u, err := s.store.GetUser(ctx, b.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrInvalidToken
	} else if err != nil {
		return nil, err
	}
	ch, err := s.mfaChallenge(ctx, u, b.Method)
	if err != nil {
		return nil, err
	}
	if ch == nil {
		return nil, ErrStepUpEnrol
	}
	return ch, nil
}
