package client

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// RFC 8032 §7.1, test 1: a seed and the public key it derives.
const (
	rfcSeedHex   = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
	rfcPublicHex = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
)

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParsePrivateKey(t *testing.T) {
	seed := mustHex(t, rfcSeedHex)
	pub := mustHex(t, rfcPublicHex)
	full := append(append([]byte{}, seed...), pub...)
	spliced := append(append([]byte{}, seed...), make([]byte, 32)...)
	// A seed whose base64 needs '+' and '/' (std) or '-' and '_' (url).
	odd := make([]byte, 32)
	for i := range odd {
		odd[i] = 0xfb
	}
	oddPub := ed25519.NewKeyFromSeed(odd).Public().(ed25519.PublicKey)

	tests := []struct {
		name    string
		in      string
		wantPub []byte // nil: want an error
	}{
		{"rfc8032 seed, std padded", base64.StdEncoding.EncodeToString(seed), pub},
		{"rfc8032 seed, std raw", base64.RawStdEncoding.EncodeToString(seed), pub},
		{"seed with trailing newline", base64.StdEncoding.EncodeToString(seed) + "\n", pub},
		{"seed+public, std", base64.StdEncoding.EncodeToString(full), pub},
		{"seed+public, url raw", base64.RawURLEncoding.EncodeToString(full), pub},
		{"std alphabet +/", base64.StdEncoding.EncodeToString(odd), oddPub},
		{"url alphabet -_ padded", base64.URLEncoding.EncodeToString(odd), oddPub},
		{"url alphabet -_ raw", base64.RawURLEncoding.EncodeToString(odd), oddPub},
		{"public half does not match", base64.StdEncoding.EncodeToString(spliced), nil},
		{"16 bytes", base64.StdEncoding.EncodeToString(seed[:16]), nil},
		{"33 bytes", base64.StdEncoding.EncodeToString(append(seed, 0)), nil},
		{"any 32 bytes are a seed", base64.StdEncoding.EncodeToString(pub), ed25519.NewKeyFromSeed(pub).Public().(ed25519.PublicKey)},
		{"not base64", "not*base64*at*all", nil},
		{"mixed alphabets", "+-" + base64.RawStdEncoding.EncodeToString(seed)[2:], nil},
		{"empty", "", nil},
		{"blank", "  \n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParsePrivateKey(tt.in)
			if tt.wantPub == nil {
				if err == nil {
					t.Fatalf("ParsePrivateKey succeeded, want an error")
				}
				if s := strings.TrimSpace(tt.in); len(s) > 4 && strings.Contains(err.Error(), s) {
					t.Errorf("error %q quotes the secret input", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePrivateKey: %v", err)
			}
			if diff := cmp.Diff(tt.wantPub, []byte(k.Public().(ed25519.PublicKey))); diff != "" {
				t.Errorf("public key (-want +got):\n%s", diff)
			}
			msg := []byte("sign me")
			if !ed25519.Verify(ed25519.PublicKey(tt.wantPub), msg, ed25519.Sign(k, msg)) {
				t.Errorf("signature by the parsed key does not verify")
			}
		})
	}
}

func TestParsePublicKey(t *testing.T) {
	pub := mustHex(t, rfcPublicHex)
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"std", base64.StdEncoding.EncodeToString(pub), true},
		{"url raw", base64.RawURLEncoding.EncodeToString(pub), true},
		{"64 bytes", base64.StdEncoding.EncodeToString(append(pub, pub...)), false},
		{"junk", "%%%", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePublicKey(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("ParsePublicKey err = %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && !cmp.Equal([]byte(got), pub) {
				t.Errorf("got %x, want %x", got, pub)
			}
		})
	}
}

func TestGenerateKeyRoundTrip(t *testing.T) {
	a, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != ed25519.PrivateKeySize || a.Equal(b) {
		t.Fatalf("GenerateKey gave %d bytes, distinct=%v", len(a), !a.Equal(b))
	}
	enc := EncodePrivateKey(a)
	if raw, _ := base64.StdEncoding.DecodeString(enc); len(raw) != ed25519.SeedSize {
		t.Errorf("EncodePrivateKey is %d bytes, want the %d-byte seed", len(raw), ed25519.SeedSize)
	}
	back, err := ParsePrivateKey(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Equal(a) {
		t.Errorf("ParsePrivateKey(EncodePrivateKey(k)) != k")
	}
	pub, err := ParsePublicKey(EncodePublicKey(a.Public().(ed25519.PublicKey)))
	if err != nil || !pub.Equal(a.Public()) {
		t.Errorf("public key round trip: %v", err)
	}
}
