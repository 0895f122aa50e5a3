package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"testing"
)

// Authenticator is a software WebAuthn authenticator for tests: one
// ECDSA P-256 credential, "none" attestation, authenticator data built as
// WebAuthn Level 3 §6.1 lays it out, so the server's real verification
// runs. It answers the options a server's begin returned.
type Authenticator struct {
	Origin     string // what the browser would put in clientDataJSON
	ID         []byte // the credential id
	UserHandle []byte // set by Create from the options' user.id
	// Count is the sign counter; each Get adds one first unless
	// ZeroCounter (an authenticator that keeps no counter, as Apple's).
	Count       uint32
	ZeroCounter bool
	// Flags: user verified, backup eligible, backup state.
	UV, BE, BS bool
	key        *ecdsa.PrivateKey
}

// NewAuthenticator makes an authenticator with a fresh key and id.
func NewAuthenticator(tb testing.TB, origin string) *Authenticator {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	id := make([]byte, 16)
	rand.Read(id)
	return &Authenticator{Origin: origin, ID: id, UV: true, key: key}
}

// Clone is a copy of the authenticator's key and counter, as an attacker
// who extracted the key would have.
func (a *Authenticator) Clone() *Authenticator {
	c := *a
	return &c
}

// creationOptions / requestOptions are the parts of a begin's options the
// authenticator reads.
type creationOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RP        struct {
			ID string `json:"id"`
		} `json:"rp"`
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	} `json:"publicKey"`
}

type requestOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RPID      string `json:"rpId"`
	} `json:"publicKey"`
}

// Create answers creation options (JSON) with a registration response,
// the PublicKeyCredential JSON a browser's toJSON gives.
func (a *Authenticator) Create(tb testing.TB, options []byte) json.RawMessage {
	tb.Helper()
	var o creationOptions
	if err := json.Unmarshal(options, &o); err != nil || o.PublicKey.Challenge == "" {
		tb.Fatalf("creation options %s: %v", options, err)
	}
	a.UserHandle, _ = base64.RawURLEncoding.DecodeString(o.PublicKey.User.ID)
	cd := a.clientData("webauthn.create", o.PublicKey.Challenge)
	auth := a.authData(o.PublicKey.RP.ID, 0x40) // AT: attested credential data follows
	auth = append(auth, make([]byte, 16)...)    // AAGUID: none
	auth = binary.BigEndian.AppendUint16(auth, uint16(len(a.ID)))
	auth = append(auth, a.ID...)
	auth = append(auth, a.coseKey()...)
	att := []byte{0xa3}
	att = append(att, cborText("fmt")...)
	att = append(att, cborText("none")...)
	att = append(att, cborText("attStmt")...)
	att = append(att, 0xa0)
	att = append(att, cborText("authData")...)
	att = append(att, cborBytes(auth)...)
	return a.credential(map[string]any{"clientDataJSON": b64(cd), "attestationObject": b64(att),
		"transports": []string{"internal"}})
}

// Get answers request options (JSON) with an assertion.
func (a *Authenticator) Get(tb testing.TB, options []byte) json.RawMessage {
	tb.Helper()
	var o requestOptions
	if err := json.Unmarshal(options, &o); err != nil || o.PublicKey.Challenge == "" {
		tb.Fatalf("request options %s: %v", options, err)
	}
	return a.GetChallenge(tb, o.PublicKey.RPID, o.PublicKey.Challenge)
}

// GetChallenge signs an assertion for challenge (base64url) and rpID.
func (a *Authenticator) GetChallenge(tb testing.TB, rpID, challenge string) json.RawMessage {
	tb.Helper()
	if !a.ZeroCounter {
		a.Count++
	}
	cd := a.clientData("webauthn.get", challenge)
	auth := a.authData(rpID, 0)
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, auth...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.key, digest[:])
	if err != nil {
		tb.Fatal(err)
	}
	return a.credential(map[string]any{"clientDataJSON": b64(cd), "authenticatorData": b64(auth),
		"signature": b64(sig), "userHandle": b64(a.UserHandle)})
}

func (a *Authenticator) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": a.Origin, "crossOrigin": false})
	return b
}

// authData is rpIdHash, flags (UP, and UV/BE/BS as set, plus extra) and
// the counter.
func (a *Authenticator) authData(rpID string, extra byte) []byte {
	h := sha256.Sum256([]byte(rpID))
	flags := byte(0x01) | extra
	for _, f := range []struct {
		on  bool
		bit byte
	}{{a.UV, 0x04}, {a.BE, 0x08}, {a.BS, 0x10}} {
		if f.on {
			flags |= f.bit
		}
	}
	out := append(h[:], flags)
	return binary.BigEndian.AppendUint32(out, a.Count)
}

// coseKey is the public key as a COSE_Key: {1: 2 (EC2), 3: -7 (ES256),
// -1: 1 (P-256), -2: x, -3: y}.
func (a *Authenticator) coseKey() []byte {
	x, y := make([]byte, 32), make([]byte, 32)
	a.key.X.FillBytes(x)
	a.key.Y.FillBytes(y)
	out := []byte{0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21}
	out = append(out, cborBytes(x)...)
	out = append(out, 0x22)
	return append(out, cborBytes(y)...)
}

func (a *Authenticator) credential(response map[string]any) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"id": b64(a.ID), "rawId": b64(a.ID), "type": "public-key",
		"response": response, "clientExtensionResults": map[string]any{}, "authenticatorAttachment": "platform"})
	return b
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// cborHead is a CBOR head of major type major for length n (n < 65536).
func cborHead(major byte, n int) []byte {
	switch {
	case n < 24:
		return []byte{major<<5 | byte(n)}
	case n < 256:
		return []byte{major<<5 | 24, byte(n)}
	}
	return []byte{major<<5 | 25, byte(n >> 8), byte(n)}
}

func cborBytes(b []byte) []byte { return append(cborHead(2, len(b)), b...) }
func cborText(s string) []byte  { return append(cborHead(3, len(s)), s...) }
