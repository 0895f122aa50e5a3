package authn

import (
	"context"
	"strings"
	"unicode"

	"github.com/sigil-auth/sigil/internal/clientip"
)

// Where a session started: the client address and the User-Agent, which
// clientip carries in the request's context, so that a person's sessions
// list can say "Firefox on Linux, 203.0.113.7".

// maxUserAgent bounds what a session keeps of a User-Agent, in bytes.
const maxUserAgent = 256

// origin is where ctx's request comes from, for the session it starts:
// the client address ("" if unknown) and the User-Agent made safe to
// store and show (valid UTF-8 without control characters, at most
// maxUserAgent bytes).
func origin(ctx context.Context) (ip, ua string) {
	if a, ok := clientip.FromContext(ctx); ok && a.IsValid() {
		ip = a.String()
	}
	raw := clientip.UserAgent(ctx)
	if len(raw) > 4*maxUserAgent {
		raw = raw[:4*maxUserAgent] // bound the work on a hostile header
	}
	ua = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(raw, ""))
	if ua = strings.TrimSpace(ua); len(ua) > maxUserAgent {
		ua = strings.ToValidUTF8(ua[:maxUserAgent], "") // drops a rune cut in two
	}
	return ip, ua
}
