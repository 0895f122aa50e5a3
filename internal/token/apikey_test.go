package token_test

import (
	"strings"
	"testing"

	"github.com/sigil-auth/sigil/internal/token"
)

func TestAPIKeyFormat(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		k := token.NewAPIKey()
		if !token.ValidAPIKey(k) || len(k) != token.APIKeyLen || seen[k] {
			t.Fatalf("bad or repeated key %q", k)
		}
		seen[k] = true
	}
	k := token.NewAPIKey()
	if p := token.APIKeyDisplayPrefix(k); !strings.HasPrefix(k, p) || len(p) != 11 {
		t.Errorf("prefix %q", p)
	}
	flip := func(i int) string {
		b := []byte(k)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		return string(b)
	}
	for name, bad := range map[string]string{
		"typo in body": flip(10), "typo in checksum": flip(len(k) - 1), "truncated": k[:len(k)-1],
		"extra": k + "x", "wrong prefix": "pk_" + k[3:], "bad char": k[:20] + "-" + k[21:], "empty": "",
		"swapped chars": k[:10] + string(k[11]) + string(k[10]) + k[12:],
	} {
		if bad != k && token.ValidAPIKey(bad) {
			t.Errorf("%s accepted: %q", name, bad)
		}
	}
}

// FuzzValidAPIKey: the parser never panics and accepts only keys of the
// exact shape.
func FuzzValidAPIKey(f *testing.F) {
	f.Add(token.NewAPIKey())
	f.Add("sk_")
	f.Add("sk_" + strings.Repeat("0", 49))
	f.Fuzz(func(t *testing.T, s string) {
		if token.ValidAPIKey(s) && (len(s) != token.APIKeyLen || !strings.HasPrefix(s, "sk_")) {
			t.Fatalf("accepted %q", s)
		}
	})
}
