package token_test

import (
	"context"
	"strings"
	"testing"
	"time"
)

// FuzzVerify: no input makes the verifier panic, and nothing but the
// genuine token (or an encoding-equivalent of it) is ever accepted.
func FuzzVerify(f *testing.F) {
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	k := newKeyring(f, newStore(f), "EdDSA", c)
	v := newVerifierFor(k, c)
	ctx := context.Background()
	good, err := k.Mint(ctx, claims(c, time.Hour))
	if err != nil {
		f.Fatal(err)
	}
	parts := strings.Split(good, ".")
	for _, s := range []string{good, "", ".", "..", "a.b.c", parts[0] + "..", parts[0] + "." + parts[1] + ".",
		"eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", good + "x", strings.ToUpper(good)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		cl, err := v.Verify(ctx, tok)
		if err == nil && (cl.Subject != "alice" || !strings.HasPrefix(tok, parts[0])) {
			t.Fatalf("accepted a forged token %q → %+v", tok, cl)
		}
	})
}
