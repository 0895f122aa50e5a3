package authn_test

import (
	"testing"

	"github.com/sigil-auth/sigil/internal/authn"
)

// FuzzParseKeyMaterial: base64 key and signature parsing never panics and
// accepts only values of exactly the right length.
func FuzzParseKeyMaterial(f *testing.F) {
	for _, s := range []string{"", "=", "====", "AAAA", "A-_B", "+/+/", " QUJD ",
		"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
		"5ZlW8cKp+mEn3/xUHg+AZKsS6wXh9f8o4OpZyT3yaQYtxM5YRPCtFw62PMrLbWQYPDH+v4rGAIcLMJX9aW7IDA=="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if k, err := authn.ParsePublicKey(s); err == nil && len(k) != 32 {
			t.Fatalf("public key of %d bytes accepted", len(k))
		}
		if sig, err := authn.ParseSignature(s); err == nil && len(sig) != 64 {
			t.Fatalf("signature of %d bytes accepted", len(sig))
		}
		_ = authn.ValidUserID(s)
	})
}
