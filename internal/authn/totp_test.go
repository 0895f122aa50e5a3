package authn

import (
	"strings"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
	"github.com/sigil-auth/sigil/internal/token"
)

// rfcSecret is RFC 6238's SHA-1 test key ("12345678901234567890") in
// base32; at T = 1111111109 its 8-digit code is 07081804, so the 6-digit
// code is 081804 (step 37037036).
const rfcSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

func TestMatchTOTP(t *testing.T) {
	at := time.Unix(1111111109, 0)
	const step = int64(37037036)
	tests := []struct {
		name string
		code string
		now  time.Time
		ok   bool
	}{
		{"same step", "081804", at, true},
		{"one step later (skew)", "081804", at.Add(30 * time.Second), true},
		{"one step earlier (skew)", "081804", at.Add(-30 * time.Second), true},
		{"two steps later", "081804", at.Add(60 * time.Second), false},
		{"two steps earlier", "081804", at.Add(-60 * time.Second), false},
		{"wrong code", "081805", at, false},
		{"too short", "08180", at, false},
		{"too long", "0818044", at, false},
		{"not digits", "o81804", at, false},
		{"empty", "", at, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := matchTOTP(rfcSecret, tt.code, tt.now)
			if ok != tt.ok || (ok && got != step) {
				t.Errorf("matchTOTP(%q) = %d, %v; want %d, %v", tt.code, got, ok, step, tt.ok)
			}
		})
	}
	// A used step is remembered until it leaves the window on both sides.
	if exp := stepExpiry(step); !exp.Equal(time.Unix((step+2)*30, 0)) {
		t.Errorf("stepExpiry = %v", exp)
	}
	if _, ok := matchTOTP(rfcSecret, "081804", stepExpiry(step)); ok {
		t.Error("a code still matches after its step's expiry")
	}
}

func TestCodeShapes(t *testing.T) {
	tests := []struct {
		in, norm       string
		totp, recovery bool
	}{
		{"123456", "123456", true, false},
		{" 123 456 ", "123456", true, false},
		{"123-456", "123456", true, false},
		{"abcde-fghij", "abcdefghij", false, true},
		{"ABCDE-FGHIJ", "abcdefghij", false, true},
		{"abcde-fghi1", "abcdefghi1", false, false}, // 1 is not base32
		{"abcd", "abcd", false, false},
		{"", "", false, false},
	}
	for _, tt := range tests {
		n := normalizeCode(tt.in)
		if n != tt.norm || isTOTPCode(n) != tt.totp || isRecoveryCode(n) != tt.recovery {
			t.Errorf("%q → %q totp %v recovery %v; want %q %v %v", tt.in, n, isTOTPCode(n), isRecoveryCode(n), tt.norm, tt.totp, tt.recovery)
		}
	}
	for range 50 {
		if c := newRecoveryCode(); !isRecoveryCode(c) {
			t.Fatalf("newRecoveryCode() = %q, not a recovery code", c)
		}
	}
}

func TestQRSVG(t *testing.T) {
	_, url, err := newTOTPKey("ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	svg, err := qrSVG(url)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(svg, `<svg xmlns="http://www.w3.org/2000/svg"`) || !strings.HasSuffix(svg, "</svg>") ||
		!strings.Contains(svg, "h1v1h-1z") || strings.Contains(svg, "style") || strings.Contains(svg, "script") {
		t.Errorf("qrSVG: %.200s…", svg)
	}
	if u := totpURL("ada@example.com", "ABC"); !strings.HasPrefix(u, "otpauth://totp/Sigil:ada@example.com?") || !strings.Contains(u, "secret=ABC") {
		t.Errorf("totpURL = %s", u)
	}
}

func TestAssurance(t *testing.T) {
	tests := []struct {
		method, aal, first string
		amr                []string
	}{
		{"pwd", "aal1", "pwd", []string{"pwd"}},
		{"pubkey", "aal1", "pubkey", []string{"pubkey"}},
		{"pwd+otp", "aal2", "pwd", []string{"pwd", "otp"}},
		{"pwd+rc", "aal2", "pwd", []string{"pwd", "rc"}},
	}
	for _, tt := range tests {
		if got := aalOf(tt.method); got != tt.aal {
			t.Errorf("aalOf(%q) = %q", tt.method, got)
		}
		if got := strings.Join(amrOf(tt.method), " "); got != strings.Join(tt.amr, " ") {
			t.Errorf("amrOf(%q) = %q", tt.method, got)
		}
		if got := firstFactor(tt.method); got != tt.first {
			t.Errorf("firstFactor(%q) = %q", tt.method, got)
		}
	}
	// A second factor keeps the first factor's lifetimes.
	if EffectiveLifetimes(store.Workspace{}, "pwd+otp") != EffectiveLifetimes(store.Workspace{}, MethodPwd) {
		t.Error("pwd+otp sessions do not get the password lifetimes")
	}
}

// mfaService is a Service with just what the mfa_token needs.
func mfaService(t testing.TB, master byte, now *time.Time) *Service {
	t.Helper()
	key := make([]byte, 32)
	key[0] = master
	sealer, err := token.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	return &Service{opt: Options{Sealer: sealer}, now: func() time.Time { return *now }}
}

func TestMFAToken(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := mfaService(t, 1, &now)
	raw, err := s.sealMFA(mfaClaims{User: "usr_a", Method: MethodPwd, Issued: now.Unix(), Nonce: "n_1"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.openMFA(raw)
	if err != nil || c.User != "usr_a" || c.Method != MethodPwd {
		t.Fatalf("openMFA = %+v, %v", c, err)
	}
	flipped := []byte(raw)
	flipped[len(flipped)-3] ^= 1
	tests := []struct {
		name  string
		raw   string
		later time.Duration
		other bool
	}{
		{"tampered", string(flipped), 0, false},
		{"no prefix", strings.TrimPrefix(raw, mfaTokenPrefix), 0, false},
		{"not base64", mfaTokenPrefix + "!!!", 0, false},
		{"too long", raw + strings.Repeat("A", maxMFAToken), 0, false},
		{"expired", raw, mfaTTL, false},
		{"another instance's key", raw, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := now.Add(tt.later)
			svc := mfaService(t, 1, &at)
			if tt.other {
				svc = mfaService(t, 2, &at)
			}
			if _, err := svc.openMFA(tt.raw); err != ErrInvalidToken {
				t.Errorf("openMFA = %v, want ErrInvalidToken", err)
			}
		})
	}
	if _, err := s.openMFA(raw); err != nil { // and still fine a moment later
		t.Errorf("openMFA again: %v", err)
	}
}

// FuzzOpenMFA: the mfa_token parser never panics and accepts only tokens
// sealed under its key: whatever it accepts carries exactly the claims
// sealed (each fuzz worker seals its own copy, with a fresh nonce).
func FuzzOpenMFA(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	s := mfaService(f, 1, &now)
	sealed := mfaClaims{User: "usr_a", Method: MethodPwd, Issued: now.Unix(), Nonce: "n"}
	raw, _ := s.sealMFA(sealed)
	for _, seed := range []string{"", "mfa_", "mfa_AAAA", raw, raw[:len(raw)-1], "mfa_" + strings.Repeat("A", 600)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		c, err := s.openMFA(in)
		if err == nil && c != sealed {
			t.Fatalf("accepted a token it did not seal: %q → %+v", in, c)
		}
	})
}

// FuzzCode: code normalising and matching never panic, and only six
// digits can ever match.
func FuzzCode(f *testing.F) {
	for _, seed := range []string{"", "081804", " 081 804", "abcde-fghij", "\x00", "１２３４５６"} {
		f.Add(seed)
	}
	at := time.Unix(1111111109, 0)
	f.Fuzz(func(t *testing.T, in string) {
		n := normalizeCode(in)
		if _, ok := matchTOTP(rfcSecret, n, at); ok && n != "081804" {
			t.Fatalf("%q matched", in)
		}
		_ = isRecoveryCode(n)
	})
}
