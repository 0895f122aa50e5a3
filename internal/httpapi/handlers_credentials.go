package httpapi

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sigil-auth/sigil/internal/authn"
)

func (s *Server) signup(w http.ResponseWriter, r *http.Request) error {
	var in authn.SignupInput
	if err := decode(r, &in); err != nil {
		return err
	}
	resp, err := s.auth.Signup(r.Context(), clientIP(r), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, resp)
	return nil
}

// login is POST /v1/auth/login: an API key exchange when the body has
// api_key, else email and password.
func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		authn.PasswordLogin
		APIKey    *string `json:"api_key"`
		SessionID string  `json:"session_id"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.APIKey != nil {
		resp, err := s.auth.ExchangeAPIKey(r.Context(), clientIP(r), authn.APIKeyLogin{APIKey: *in.APIKey, SessionID: in.SessionID})
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, resp)
		return nil
	}
	resp, err := s.auth.LoginPassword(r.Context(), clientIP(r), in.PasswordLogin)
	var mfa *authn.MFARequired
	if errors.As(err, &mfa) { // a second factor is needed: the challenge is the 200 answer
		writeJSON(w, http.StatusOK, mfa)
		return nil
	} else if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func (s *Server) forgotPassword(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Email string `json:"email"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := s.auth.ForgotPassword(r.Context(), clientIP(r), in.Email); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "accepted"})
	return nil
}

func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request) error {
	var in authn.ResetInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := s.auth.ResetPassword(r.Context(), clientIP(r), in); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) verifyEmail(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Token string `json:"token"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := s.auth.VerifyEmail(r.Context(), clientIP(r), in.Token); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	var in authn.NewAPIKeyInput
	if err := decode(r, &in); err != nil {
		return err
	}
	k, err := s.auth.CreateAPIKey(r.Context(), clientIP(r), p, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, k)
	return nil
}

func (s *Server) listAPIKeys(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	keys, err := s.auth.ListAPIKeys(r.Context(), p, r.URL.Query().Get("workspace_id"))
	if err != nil {
		return err
	}
	return writePage(w, r, keys, func(k authn.APIKeyView) (time.Time, string) { return k.CreatedAt, k.ID })
}

func (s *Server) revokeAPIKey(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	if err := s.auth.RevokeAPIKey(r.Context(), clientIP(r), p, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) rotateAPIKey(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	var in authn.RotateInput
	if err := decodeOptional(r, &in); err != nil {
		return err
	}
	k, err := s.auth.RotateAPIKey(r.Context(), clientIP(r), p, r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, k)
	return nil
}

func (s *Server) createJWTKey(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	var in authn.NewJWTKeyInput
	if err := decode(r, &in); err != nil {
		return err
	}
	k, err := s.auth.CreateJWTKey(r.Context(), clientIP(r), p, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, k)
	return nil
}

func (s *Server) listJWTKeys(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	keys, err := s.auth.ListJWTKeys(r.Context(), p, r.URL.Query().Get("workspace_id"))
	if err != nil {
		return err
	}
	return writePage(w, r, keys, func(k authn.JWTKeyView) (time.Time, string) { return k.CreatedAt, k.ID })
}

func (s *Server) deleteJWTKey(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	if err := s.auth.DeleteJWTKey(r.Context(), clientIP(r), p, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listMembers pages by user id (keyset): the cursor is the last id seen.
func (s *Server) listMembers(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	limit, err := limitParam(r)
	if err != nil {
		return err
	}
	after, ok := memberAfter(r.URL.Query().Get("cursor"))
	if !ok {
		return errBadCursor
	}
	members, err := s.auth.ListMembers(r.Context(), p, r.PathValue("id"), after, limit+1)
	if err != nil {
		return err
	}
	out := listOf(members[:min(limit, len(members))])
	if len(members) > limit {
		next := base64.RawURLEncoding.EncodeToString([]byte(memberCursor + members[limit-1].UserID))
		out.NextCursor = &next
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) updateMember(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	var in authn.MemberPatch
	if err := decode(r, &in); err != nil {
		return err
	}
	m, err := s.auth.UpdateMember(r.Context(), clientIP(r), p, r.PathValue("id"), r.PathValue("user"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

// audit pages by event id (keyset, newest first).
func (s *Server) audit(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	limit, err := limitParam(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	events, err := s.auth.ListAudit(r.Context(), p, authn.AuditQuery{WorkspaceID: q.Get("workspace_id"),
		Action: q.Get("action"), Actor: q.Get("actor"), Cursor: q.Get("cursor"), Limit: limit + 1})
	if err != nil {
		return err
	}
	out := listOf(events[:min(limit, len(events))])
	if len(events) > limit {
		next := events[limit-1].ID
		out.NextCursor = &next
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// memberCursor begins a members cursor (the last member's user id,
// base64url): the previous release's bare id meant "after" oldest first,
// so one of those, from a replica of that release during a rolling
// upgrade, is refused rather than read the other way.
const memberCursor = "m:"

func memberAfter(cursor string) (string, bool) {
	if cursor == "" {
		return "", true
	}
	raw, ok := decodeCursor(cursor)
	id, found := strings.CutPrefix(raw, memberCursor)
	return id, ok && found && id != ""
}

// writePage writes one page of a small list, newest first by key.
func writePage[T any](w http.ResponseWriter, r *http.Request, items []T, key listKey[T]) error {
	out, err := page(r, items, key)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// limitParam reads ?limit= (default 50, 1..200).
func limitParam(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxLimit {
		return 0, &authn.Error{Code: authn.CodeInvalidRequest, Detail: "limit must be an integer from 1 to 200"}
	}
	return n, nil
}
