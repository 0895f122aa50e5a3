package authn

import (
	"context"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

// A workspace's second-factor policy (API.md §13: require_mfa "none",
// "admins" or "all"). A person it covers who has no second factor is
// given mfaGrace from when the policy last became stricter to enrol:
// during it they sign in with the password alone and the hosted pages
// send them to the security page first, with a "not now"; after it a
// password login on the JSON API is refused (mfa_enrolment_required),
// and a hosted sign-in leads only to the security page until a factor is
// added (no app gets a code meanwhile). Key-pair logins, already a
// possession factor, are not held to it.
const mfaGrace = 7 * 24 * time.Hour

// ErrMFAEnrolment is a sign-in of a person past the grace period to enrol
// a second factor their workspace requires.
var ErrMFAEnrolment = &Error{Code: CodeMFAEnrolment,
	Detail: "your workspace requires two-step verification; sign in on the hosted sign-in page to set it up"}

// MFAEnrolment says whether a person must still enrol a second factor.
type MFAEnrolment struct {
	Required bool      // the policy covers them and they have no factor
	By       time.Time // the end of the grace period
	Overdue  bool      // the grace period is over
}

// policyRank orders policies by strictness.
func policyRank(p string) int {
	switch p {
	case store.RequireMFAAdmins:
		return 1
	case store.RequireMFAAll:
		return 2
	}
	return 0
}

// applyRequireMFA sets w's policy to p ("none", "admins", "all"); a
// stricter policy starts a new grace period at now.
func applyRequireMFA(w *store.Workspace, p string, now time.Time) error {
	if p == store.RequireMFANone {
		p = ""
	}
	if p != "" && policyRank(p) == 0 {
		return invalid(`require_mfa must be "none", "admins" or "all"`)
	}
	switch old := policyRank(w.RequireMFA); {
	case p == "":
		w.RequireMFASince = nil
	case policyRank(p) > old:
		w.RequireMFASince = &now
	}
	w.RequireMFA = p
	return nil
}

// policyCovers reports whether policy p asks role for a second factor.
func policyCovers(p, role string) bool {
	switch p {
	case store.RequireMFAAll:
		return true
	case store.RequireMFAAdmins:
		return role == store.RoleOwner || role == store.RoleAdmin
	}
	return false
}

// enrolmentOf is u's standing under their workspace's policy. It reads
// the factors only when the policy covers u.
func (s *Service) enrolmentOf(ctx context.Context, u store.User) (MFAEnrolment, error) {
	ws, err := s.workspace(ctx, u.WorkspaceID)
	if err != nil || !policyCovers(ws.RequireMFA, u.Role) {
		return MFAEnrolment{}, err
	}
	fs, err := s.store.ListFactors(ctx, u.ID)
	if err != nil || len(activeKinds(fs)) > 0 {
		return MFAEnrolment{}, err
	}
	since := ws.UpdatedAt
	if ws.RequireMFASince != nil {
		since = *ws.RequireMFASince
	}
	by := since.Add(mfaGrace)
	return MFAEnrolment{Required: true, By: by, Overdue: !s.now().Before(by)}, nil
}

// MFAEnrolmentOf is the signed-in person's standing, for the pages.
func (s *Service) MFAEnrolmentOf(ctx context.Context, b BrowserSession) (MFAEnrolment, error) {
	return s.enrolmentOf(ctx, store.User{ID: b.UserID, WorkspaceID: b.WorkspaceID, Role: b.role})
}

// checkEnrolled refuses u's password sign-in on the JSON API once u is
// past the grace period to enrol.
func (s *Service) checkEnrolled(ctx context.Context, u store.User) error {
	e, err := s.enrolmentOf(ctx, u)
	if err != nil {
		return err
	}
	if e.Overdue {
		return ErrMFAEnrolment
	}
	return nil
}
