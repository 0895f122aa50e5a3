package authn

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sigil-auth/sigil/internal/clientip"
)

func TestOrigin(t *testing.T) {
	long := strings.Repeat("é", 200) // 400 bytes: cut inside the 128th "é"
	for _, c := range []struct {
		name    string
		ip      netip.Addr
		ua      string
		wantIP  string
		wantUA  string
		noUAKey bool
	}{
		{name: "plain", ip: netip.MustParseAddr("203.0.113.7"), ua: "curl/8.11.1", wantIP: "203.0.113.7", wantUA: "curl/8.11.1"},
		{name: "v6", ip: netip.MustParseAddr("2001:db8::1"), ua: " Firefox ", wantIP: "2001:db8::1", wantUA: "Firefox"},
		{name: "nothing known", noUAKey: true},
		{name: "no address", ua: "curl/8", wantUA: "curl/8"},
		{name: "control characters", ua: "a\x00b\nc\td\x7fe", wantUA: "abcde"},
		{name: "invalid UTF-8", ua: "ok\xff\xfe!", wantUA: "ok!"},
		{name: "long, cut on a rune", ua: long, wantUA: strings.Repeat("é", maxUserAgent/2)},
		{name: "huge", ua: strings.Repeat("x", 1<<20), wantUA: strings.Repeat("x", maxUserAgent)},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			if !c.noUAKey {
				ctx = clientip.NewContext(ctx, c.ip, c.ua)
			}
			ip, ua := origin(ctx)
			if ip != c.wantIP || ua != c.wantUA {
				t.Errorf("origin = %q, %q; want %q, %q", ip, ua, c.wantIP, c.wantUA)
			}
			if len(ua) > maxUserAgent || !utf8.ValidString(ua) {
				t.Errorf("origin's user agent is %d bytes, valid UTF-8 %v", len(ua), utf8.ValidString(ua))
			}
		})
	}
}
