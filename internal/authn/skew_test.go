package authn_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/authn"
	"github.com/sigil-auth/sigil/internal/password"
	"github.com/sigil-auth/sigil/internal/testenv"
)

// TestRefreshAcrossSkewedClocks is what bench/cluster found with one
// replica's clock 30 s behind: its rotations look 30 s old to the others,
// longer than the 10 s grace window, so a parent presented again on
// another replica right away is taken for reuse and ends the session. It
// still must (the grace window is measured in time the store recorded),
// but both replicas now say why: the refusing one logs how long ago the
// rotation looked, and the slow one, on reading a rotation from its
// future, logs that its clock is behind.
func TestRefreshAcrossSkewedClocks(t *testing.T) {
	db := testenv.NewDatabase(t, "sqlite")
	onTime := testenv.NewClock()
	behind := testenv.NewClock()
	behind.Add(-30 * time.Second)
	var slowLog, okLog testenv.Output
	pw := password.New(password.Params{Memory: 256, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 0)
	slow := testenv.Start(t, db, testenv.Options{Clock: behind, Passwords: pw, Log: slog.New(slog.NewTextHandler(&slowLog, nil))})
	ok := testenv.Start(t, db, testenv.Options{Clock: onTime, Passwords: pw, Log: slog.New(slog.NewTextHandler(&okLog, nil))})
	ctx, ip := t.Context(), testenv.LocalIP
	ws, err := ok.Auth.CreateWorkspace(ctx, admin, "acme")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ok.Auth.Signup(ctx, ip, authn.SignupInput{Email: "ada@acme.test", Password: overviewPass, JoinCode: ws.JoinCode})
	if err != nil {
		t.Fatal(err)
	}
	// The on-time replica rotates; the slow one then reads a rotation
	// 30 s in its future and says so.
	child, err := ok.Auth.Refresh(ctx, ip, tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := slow.Auth.Refresh(ctx, ip, child.RefreshToken); err != nil {
		t.Fatalf("refresh on the slow replica: %v", err)
	}
	if !strings.Contains(slowLog.String(), "clock skew") || !strings.Contains(slowLog.String(), "ahead=30s") ||
		!strings.Contains(slowLog.String(), `seen_in="session rotation"`) {
		t.Errorf("the slow replica did not report its clock:\n%s", slowLog.String())
	}
	// The slow replica's rotation looks 30 s old on time: reuse, logged
	// with the rotation's apparent age beside the grace window.
	if _, err := ok.Auth.Refresh(ctx, ip, child.RefreshToken); !errors.Is(err, authn.ErrRefreshReused) {
		t.Fatalf("parent again on the on-time replica: %v, want reuse (the grace window is 10 s, the skew 30 s)", err)
	}
	if !strings.Contains(okLog.String(), "rotated_ago=30s") || !strings.Contains(okLog.String(), "grace=10s") {
		t.Errorf("the reuse log line does not show the rotation's age and the grace window:\n%s", okLog.String())
	}
}

// TestChallengeAcrossSkewedClocks: a key-pair challenge lives 30 s, so
// one issued by a replica 30 s behind is expired on time (refused as
// invalid_credentials, like any expired code), and one issued on time is
// still good on the slow replica, which logs that its clock is behind.
func TestChallengeAcrossSkewedClocks(t *testing.T) {
	db := testenv.NewDatabase(t, "sqlite")
	onTime, behind := testenv.NewClock(), testenv.NewClock()
	behind.Add(-31 * time.Second)
	var slowLog testenv.Output
	slow := testenv.Start(t, db, testenv.Options{Clock: behind, Log: slog.New(slog.NewTextHandler(&slowLog, nil))})
	ok := testenv.Start(t, db, testenv.Options{Clock: onTime})
	ctx, ip := t.Context(), testenv.LocalIP
	ws, err := ok.Auth.CreateWorkspace(ctx, admin, "acme")
	if err != nil {
		t.Fatal(err)
	}
	u := newKeyUser(t)
	if _, err := ok.Auth.Register(ctx, ip, u.register(t, ok.Auth, ws.JoinCode)); err != nil {
		t.Fatal(err)
	}
	if _, err := ok.Auth.Login(ctx, ip, u.login(t, slow.Auth)); !errors.Is(err, authn.ErrInvalidCredentials) {
		t.Fatalf("challenge of the slow replica answered on time: %v, want invalid_credentials", err)
	}
	if _, err := slow.Auth.Login(ctx, ip, u.login(t, ok.Auth)); err != nil {
		t.Fatalf("challenge issued on time answered on the slow replica: %v", err)
	}
	if !strings.Contains(slowLog.String(), `seen_in="key-pair challenge"`) {
		t.Errorf("the slow replica did not report its clock:\n%s", slowLog.String())
	}
}

// keyUser is a key-pair identity answering challenges of any replica.
type keyUser struct {
	id   string
	priv ed25519.PrivateKey
}

func newKeyUser(t *testing.T) keyUser {
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return keyUser{id: "ada-key", priv: priv}
}

// proof signs a challenge svc issues.
func (u keyUser) proof(t *testing.T, svc *authn.Service) authn.Proof {
	c, err := svc.IssueCode(t.Context(), testenv.LocalIP, u.id)
	if err != nil {
		t.Fatal(err)
	}
	return authn.Proof{AuthCode: c.AuthCode, Scheme: authn.SchemeEd25519,
		PublicKey: base64.StdEncoding.EncodeToString(u.priv.Public().(ed25519.PublicKey)),
		Signature: base64.StdEncoding.EncodeToString(ed25519.Sign(u.priv, []byte(c.AuthCode)))}
}

func (u keyUser) register(t *testing.T, svc *authn.Service, join string) authn.RegisterInput {
	return authn.RegisterInput{UserID: u.id, JoinCode: join, Proof: u.proof(t, svc)}
}

func (u keyUser) login(t *testing.T, svc *authn.Service) authn.LoginInput {
	return authn.LoginInput{UserID: u.id, Proof: u.proof(t, svc)}
}
