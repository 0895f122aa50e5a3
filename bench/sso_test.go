package bench

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"

	"github.com/sigil-auth/sigil/internal/authn"
	"github.com/sigil-auth/sigil/internal/ssotest"
	"github.com/sigil-auth/sigil/internal/token"
)

// SSO callbacks (issue 9): what one sign-in through an IdP costs Sigil,
// the IdP's own work left out. Each op is a whole round trip — StartSSO,
// the IdP's answer, the callback (OIDC: code exchange and ID token check;
// SAML: the XML signature and assertion checks), FinishSSO (the browser
// session) — for a returning person, the common case. Sigil's CPU is
// counted only inside its own calls; the IdP's token endpoint (it signs
// the ID token inside the OIDC callback's exchange) is timed and taken
// out. Reported beside one raw RS256 verify (an ID token's or a SAML
// assertion's signature), measured in the same run.

// BenchmarkRawRSA2048Verify is the crypto floor of an SSO callback: one
// PKCS #1 v1.5 verification with a 2048-bit key.
func BenchmarkRawRSA2048Verify(b *testing.B) {
	k, _ := rsa.GenerateKey(rand.Reader, 2048)
	sum := sha256.Sum256([]byte("ID token signing input"))
	sig, _ := rsa.SignPKCS1v15(nil, k, crypto.SHA256, sum[:])
	done := meter(b)
	for b.Loop() {
		if err := rsa.VerifyPKCS1v15(&k.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
			b.Fatal(err)
		}
	}
	done()
}

// rawRSAVerify is one RS256 verify's CPU in this process, in µs.
func rawRSAVerify() float64 {
	k, _ := rsa.GenerateKey(rand.Reader, 2048)
	sum := sha256.Sum256([]byte("x"))
	sig, _ := rsa.SignPKCS1v15(nil, k, crypto.SHA256, sum[:])
	const n = 2000
	c0 := cpuTime(rusageSelf)
	for range n {
		_ = rsa.VerifyPKCS1v15(&k.PublicKey, crypto.SHA256, sum[:], sig)
	}
	return float64((cpuTime(rusageSelf) - c0).Microseconds()) / n
}

// sigilCPU adds the process CPU of f to *total.
func sigilCPU(total *time.Duration, f func()) {
	c0 := cpuTime(rusageSelf)
	f()
	*total += cpuTime(rusageSelf) - c0
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func BenchmarkSSOCallbackOIDC(b *testing.B) {
	eachBackend(b, func(b *testing.B, e *env) {
		ctx := context.Background()
		p := ssotest.Start("bench-client", "bench-secret")
		b.Cleanup(p.Close)
		p.Next = ssotest.User{Subject: "bench-person", Email: "person@bench.test", EmailVerified: true}
		cid := e.connection(b, authn.ConnectionInput{Kind: ptr("oidc"), Name: ptr("Bench IdP"), Issuer: &p.URL,
			ClientID: ptr("bench-client"), ClientSecret: ptr("bench-secret")})
		var sigil time.Duration
		op := func() {
			var st authn.SSOStart
			var err error
			sigilCPU(&sigil, func() { st, err = e.auth.StartSSO(ctx, clientAddr, cid, "", "", "") })
			if err != nil {
				b.Fatal(err)
			}
			res, err := noRedirects.Get(st.URL) // the IdP signs the person in
			if err != nil {
				b.Fatal(err)
			}
			res.Body.Close()
			back, _ := url.Parse(res.Header.Get("Location"))
			sigilCPU(&sigil, func() {
				var result string
				if result, err = e.auth.SSOCallback(ctx, clientAddr, cid, back.Query()); err == nil {
					_, _, err = e.auth.FinishSSO(ctx, clientAddr, result, st.Cookie)
				}
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		op() // the first sign-in makes the account
		sigil, p.TokenTime = 0, 0
		raw := rawRSAVerify()
		for b.Loop() {
			op()
		}
		report(b, sigil-p.TokenTime, p.TokenTime, raw)
	})
}

var samlField = regexp.MustCompile(`name="SAMLResponse" value="([^"]*)"`)

func BenchmarkSSOCallbackSAML(b *testing.B) {
	eachBackend(b, func(b *testing.B, e *env) {
		ctx := context.Background()
		idp := ssotest.StartSAML(time.Now)
		b.Cleanup(idp.Close)
		idp.SetSession("bench-nameid", "person@bench.test", "Bench Person")
		md := idp.MetadataXML()
		cid := e.connection(b, authn.ConnectionInput{Kind: ptr("saml"), Name: ptr("Bench SAML"), IdPMetadataXML: &md})
		spMD, err := e.auth.SAMLMetadata(ctx, cid)
		if err != nil {
			b.Fatal(err)
		}
		idp.SPMetadata = spMetadata(spMD)
		var sigil, idpTime time.Duration
		op := func() {
			var st authn.SSOStart
			sigilCPU(&sigil, func() { st, err = e.auth.StartSSO(ctx, clientAddr, cid, "", "", "") })
			if err != nil {
				b.Fatal(err)
			}
			t0 := time.Now()
			res, err := noRedirects.Get(st.URL) // the IdP signs an assertion
			if err != nil {
				b.Fatal(err)
			}
			m := samlField.FindSubmatch(readAll(res))
			idpTime += time.Since(t0)
			if m == nil {
				b.Fatal("the IdP posted no SAMLResponse")
			}
			sigilCPU(&sigil, func() {
				var result string
				if result, err = e.auth.SAMLResponse(ctx, clientAddr, cid, html.UnescapeString(string(m[1]))); err == nil {
					_, _, err = e.auth.FinishSSO(ctx, clientAddr, result, st.Cookie)
				}
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		op()
		sigil, idpTime = 0, 0
		raw := rawRSAVerify()
		for b.Loop() {
			op()
		}
		report(b, sigil, idpTime, raw)
	})
}

// report writes Sigil's CPU per sign-in, the IdP's time beside it, and
// Sigil's CPU in raw RS256 verifies.
func report(b *testing.B, sigil, idp time.Duration, rawVerifyMicros float64) {
	n := float64(b.N)
	us := float64(sigil.Microseconds()) / n
	b.ReportMetric(us, "sigil-cpu-µs/op")
	b.ReportMetric(float64(idp.Microseconds())/n, "idp-µs/op")
	b.ReportMetric(rawVerifyMicros, "rs256-verify-µs")
	b.ReportMetric(us/rawVerifyMicros, "x_rs256_verify")
	b.ReportMetric(1e6/us, "callbacks/s/core")
}

// connection creates an SSO connection in the bench workspace.
func (e *env) connection(b *testing.B, in authn.ConnectionInput) string {
	b.Helper()
	ws, err := e.store.GetWorkspaceByJoinCode(context.Background(), token.Hash(e.joinCode))
	if err != nil {
		b.Fatal(err)
	}
	c, err := e.auth.CreateConnection(context.Background(), clientAddr, authn.Principal{Kind: authn.KindAdmin, Subject: "admin"}, ws.ID, in)
	if err != nil {
		b.Fatal(err)
	}
	return c.ID
}

func readAll(res *http.Response) []byte {
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return b
}

// spMetadata is the IdP's view of Sigil's SP: its metadata without the
// encryption key, so assertions come signed but not encrypted, as most
// IdPs send them.
func spMetadata(raw []byte) func(string) (*saml.EntityDescriptor, error) {
	md, err := samlsp.ParseMetadata(raw)
	if err == nil {
		for i := range md.SPSSODescriptors {
			var kd []saml.KeyDescriptor
			for _, k := range md.SPSSODescriptors[i].KeyDescriptors {
				if k.Use != "encryption" {
					kd = append(kd, k)
				}
			}
			md.SPSSODescriptors[i].KeyDescriptors = kd
		}
	}
	return func(string) (*saml.EntityDescriptor, error) { return md, err }
}
