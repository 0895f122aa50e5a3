package authn

import (
	"context"
	"errors"
	"slices"

	"github.com/sigil-auth/sigil/internal/store"
)

// A credential never carries more scopes than the identity that created
// it holds (API.md §9), also after an admin narrows that identity's
// scopes: an API key or JWT key keeps the scopes it was given as an upper
// bound, and each time it is read from the store (at most every liveTTL
// per replica) it is narrowed to those its creator holds now. A scope
// given back later is the key's again. Keys the instance admin made have
// no creator to narrow them by.

// heldScopes narrows scopes to those user creator holds ("" = the
// instance admin: unchanged). A creator that no longer exists holds
// nothing, and its credential is refused.
func (s *Service) heldScopes(ctx context.Context, creator string, scopes []string) ([]string, error) {
	if creator == "" {
		return scopes, nil
	}
	u, err := s.store.GetUser(ctx, creator)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrInvalidToken
	} else if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(slices.Clone(scopes), func(sc string) bool { return !slices.Contains(u.Scopes, sc) }), nil
}

// rescopeCredentials applies a change of u's scopes (from before) to the
// credentials u created at once: every replica forgets u's API keys and
// JWT keys, so their next use reads them narrowed (or widened) anew, and
// when a scope was taken away, the sessions exchanged from u's API keys
// end, since their tokens carry the old scopes. Failures are logged: the
// keys' cache lifetime still bounds them.
func (s *Service) rescopeCredentials(ctx context.Context, u store.User, before []string) {
	narrowed := slices.ContainsFunc(before, func(sc string) bool { return !slices.Contains(u.Scopes, sc) })
	keys, err := s.store.ListAPIKeys(ctx, u.WorkspaceID, u.ID)
	if err != nil {
		s.log.ErrorContext(ctx, "cannot list a member's API keys to rescope them", "user_id", u.ID, "err", err)
	}
	var ids []string
	now := s.now()
	for _, k := range keys {
		ids = append(ids, k.ID)
		if !narrowed || k.RevokedAt != nil {
			continue
		}
		ended, err := s.store.RevokeAPIKeySessions(ctx, k.ID, now)
		if err != nil {
			s.log.ErrorContext(ctx, "cannot end a rescoped API key's sessions", "key_id", k.ID, "err", err)
		}
		ids = append(ids, ended...)
	}
	jwtKeys, err := s.store.ListJWTKeys(ctx, u.WorkspaceID)
	if err != nil {
		s.log.ErrorContext(ctx, "cannot list JWT keys to rescope them", "user_id", u.ID, "err", err)
	}
	for _, k := range jwtKeys {
		if k.UserID == u.ID {
			ids = append(ids, jwtKeyTag+k.ID)
		}
	}
	s.announce(ctx, u.WorkspaceID, ids)
}

// refreshedScopes are the scopes a refresh of sess issues, from the
// user's scopes now (Session.UserScopes, read with the refresh token), so
// a member's scope change reaches their live sessions at the next
// refresh: a login session carries all of them, as a new login would; a
// session issued to an app keeps the OpenID scopes it was granted and
// those of its API scopes the user still holds (an app is never widened
// past what it asked for). Sessions of API keys keep theirs: narrowing
// their creator ends them (rescopeCredentials).
func refreshedScopes(sess store.Session) []string {
	switch {
	case sess.UserID == "" || sess.APIKeyID != "":
		return sess.Scopes
	case sess.AppID == "":
		return slices.Clone(sess.UserScopes)
	}
	return slices.DeleteFunc(slices.Clone(sess.Scopes), func(sc string) bool {
		return !slices.Contains(oidcScopes, sc) && !slices.Contains(sess.UserScopes, sc)
	})
}
