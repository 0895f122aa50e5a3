package authn

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
)

// Sealed values: state that travels through a client (an mfa_token, an
// SSO flow's state, cookie and result) instead of living in the store,
// so any replica can take the next step. The value is JSON, sealed with
// AES-GCM under the master key, with ad as associated data (so a value
// sealed for one use never opens for another), written as prefix +
// base64url.

// sealJSON seals v for use ad as prefix + base64url.
func (s *Service) sealJSON(prefix, ad string, v any) (string, error) {
	if s.opt.Sealer == nil {
		return "", errors.New("authn: this needs a sealer (the master key)")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return prefix + base64.RawURLEncoding.EncodeToString(s.opt.Sealer.Seal(b, []byte(ad))), nil
}

// openJSON reverses sealJSON into v. Anything longer than maxLen, without
// the prefix, altered, or sealed for another use is ErrInvalidToken.
func (s *Service) openJSON(prefix, ad string, maxLen int, raw string, v any) error {
	if s.opt.Sealer == nil || len(raw) > maxLen || !strings.HasPrefix(raw, prefix) {
		return ErrInvalidToken
	}
	sealed, err := base64.RawURLEncoding.DecodeString(raw[len(prefix):])
	if err != nil {
		return ErrInvalidToken
	}
	b, err := s.opt.Sealer.Open(sealed, []byte(ad))
	if err != nil || json.Unmarshal(b, v) != nil {
		return ErrInvalidToken
	}
	return nil
}
