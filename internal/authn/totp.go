package authn

import (
	"crypto/subtle"
	"fmt"
	"image/color"
	"net/url"
	"strings"
	"time"

	"github.com/boombuler/barcode/qr"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP parameters (RFC 6238 as every authenticator app reads it): SHA-1,
// six digits, 30-second steps, and one step of clock skew either way.
const (
	totpPeriod = 30 * time.Second
	totpSkew   = 1
	totpDigits = 6
	// totpSecretSize is 160 bits, RFC 4226's recommendation for SHA-1.
	totpSecretSize = 20
	totpIssuer     = "Sigil"
)

var totpOpts = totp.ValidateOpts{Period: uint(totpPeriod / time.Second), Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// totpStep is the time step that t falls in.
func totpStep(t time.Time) int64 { return t.Unix() / int64(totpPeriod/time.Second) }

// stepExpiry is when step leaves the accepted window: a used step must be
// remembered until then, and may be forgotten after.
func stepExpiry(step int64) time.Time {
	return time.Unix((step+totpSkew+1)*int64(totpPeriod/time.Second), 0).UTC()
}

// normalizeCode strips the spaces and dashes people type or paste into a
// code ("123 456") and lower-cases it.
func normalizeCode(code string) string {
	return strings.ToLower(strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, code))
}

// isTOTPCode reports whether a normalised code has a TOTP code's shape.
func isTOTPCode(code string) bool {
	if len(code) != totpDigits {
		return false
	}
	for _, r := range code {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// matchTOTP returns the step within ±totpSkew of now whose code is code
// (already normalised), comparing every candidate in constant time. The
// caller still has to record the step as used before accepting it.
func matchTOTP(secret, code string, now time.Time) (int64, bool) {
	if !isTOTPCode(code) {
		return 0, false
	}
	cur := totpStep(now)
	found, step := 0, int64(0)
	for s := cur - totpSkew; s <= cur+totpSkew; s++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*int64(totpPeriod/time.Second), 0), totpOpts)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && found == 0 {
			found, step = 1, s
		}
	}
	return step, found == 1
}

// newTOTPKey makes a fresh secret and its otpauth:// URL for account.
func newTOTPKey(account string) (secret, url string, err error) {
	k, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: account,
		Period: uint(totpPeriod / time.Second), SecretSize: totpSecretSize, Digits: otp.DigitsSix,
		Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return "", "", err
	}
	return k.Secret(), k.URL(), nil
}

// qrSVG renders text as a QR code in SVG: one path of unit squares, a
// four-module quiet zone, no styles or scripts (so it can be inlined
// under the pages' CSP and served as JSON).
func qrSVG(text string) (string, error) {
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		return "", err
	}
	const quiet = 4
	b := code.Bounds()
	w, h := b.Dx(), b.Dy()
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" shape-rendering="crispEdges" role="img" aria-label="QR code for your authenticator app">`,
		w+2*quiet, h+2*quiet, (w+2*quiet)*5, (h+2*quiet)*5)
	fmt.Fprintf(&sb, `<rect width="100%%" height="100%%" fill="#fff"/><path fill="#000" d="`)
	for y := range h {
		for x := range w {
			if c := color.GrayModel.Convert(code.At(b.Min.X+x, b.Min.Y+y)).(color.Gray); c.Y < 128 {
				fmt.Fprintf(&sb, "M%d %dh1v1h-1z", x+quiet, y+quiet)
			}
		}
	}
	sb.WriteString(`"/></svg>`)
	return sb.String(), nil
}

// EnrolmentQR rebuilds the QR code (SVG) and otpauth:// URL of a TOTP
// secret being enrolled, for a page that shows the enrolment again after
// a wrong first code.
func EnrolmentQR(account, secret string) (svg, otpauth string, err error) {
	otpauth = totpURL(account, secret)
	svg, err = qrSVG(otpauth)
	return svg, otpauth, err
}

// totpURL is the otpauth:// URL of a secret, as authenticator apps read it
// (Key URI Format; the same as otp.Key.URL).
func totpURL(account, secret string) string {
	v := url.Values{}
	v.Set("secret", secret)
	v.Set("issuer", totpIssuer)
	v.Set("period", "30")
	v.Set("algorithm", "SHA1")
	v.Set("digits", "6")
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + totpIssuer + ":" + account, RawQuery: v.Encode()}
	return u.String()
}
