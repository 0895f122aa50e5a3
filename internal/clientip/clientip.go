package clientip

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
)

// ParseTrusted parses a comma-separated list of CIDRs ("10.0.0.0/8") and
// bare IPs ("192.0.2.7", a /32 or /128). Blanks around entries and empty
// entries are ignored, so "" is the empty list. Prefixes are masked
// ("10.1.2.3/8" means 10.0.0.0/8) and IPv4-mapped IPv6 entries are turned
// into IPv4 ones, matching how ClientIP normalises addresses.
func ParseTrusted(csv string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for item := range strings.SplitSeq(csv, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		p, err := parsePrefix(item)
		if err != nil {
			return nil, fmt.Errorf("clientip: trusted proxy %q: want a CIDR or an IP address", item)
		}
		out = append(out, p)
	}
	return out, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("bad address")
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// Resolver finds a request's client address. The zero value and New(nil)
// trust nobody: the socket peer is the client. It is safe for concurrent use.
type Resolver struct {
	trusted []netip.Prefix
}

// New returns a Resolver trusting the given proxies.
func New(trusted []netip.Prefix) *Resolver {
	return &Resolver{trusted: append([]netip.Prefix(nil), trusted...)}
}

// Trusts reports whether the peer address (as in http.Request.RemoteAddr,
// "ip:port", or a bare IP) is one of the trusted proxies.
func (r *Resolver) Trusts(remoteAddr string) bool {
	a, ok := parseHop(remoteAddr)
	return ok && r.isTrusted(a)
}

func (r *Resolver) isTrusted(a netip.Addr) bool {
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientIP returns the client address of a request whose socket peer is
// remoteAddr ("ip:port", as in http.Request.RemoteAddr, or a bare IP) and
// whose X-Forwarded-For header values are xff, in the order received.
//
//   - An untrusted peer is the client; X-Forwarded-For is ignored (anyone
//     can send one).
//   - A trusted peer vouches for the hop it appended last: the header is
//     walked from the right, skipping trusted addresses, and the first
//     untrusted one is the client. If every hop is trusted, the leftmost is.
//   - A malformed entry ends the walk: entries left of it were not checked by
//     anyone we trust, so the last good hop (possibly the peer) is returned.
//
// Addresses come back without zone, with IPv4-mapped IPv6 turned into IPv4.
// The result is invalid (!IsValid()) only when remoteAddr itself cannot be
// parsed (e.g. a Unix socket); callers should then use one shared key.
func (r *Resolver) ClientIP(remoteAddr string, xff []string) netip.Addr {
	hop, ok := parseHop(remoteAddr)
	if !ok || !r.isTrusted(hop) {
		return hop
	}
	for i := len(xff) - 1; i >= 0; i-- {
		rest := xff[i]
		for rest != "" {
			// Take the rightmost entry without splitting (no allocation).
			var e string
			if c := strings.LastIndexByte(rest, ','); c >= 0 {
				rest, e = rest[:c], rest[c+1:]
			} else {
				rest, e = "", rest
			}
			e = strings.TrimSpace(e)
			if e == "" {
				continue // "a, , b" or an empty header value: nothing to believe or reject
			}
			a, ok := parseHop(e)
			if !ok {
				return hop
			}
			hop = a
			if !r.isTrusted(hop) {
				return hop
			}
		}
	}
	return hop
}

// parseHop accepts "ip", "ip:port", "[ipv6]" and "[ipv6]:port" — proxies
// differ on whether they add ports and brackets. The form is picked before
// parsing, so the common cases do not build an error to throw away.
func parseHop(s string) (netip.Addr, bool) {
	var a netip.Addr
	var err error
	switch {
	case len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']':
		a, err = netip.ParseAddr(s[1 : len(s)-1])
	case strings.HasPrefix(s, "[") || strings.Count(s, ":") == 1:
		var ap netip.AddrPort
		ap, err = netip.ParseAddrPort(s)
		a = ap.Addr()
	default:
		a, err = netip.ParseAddr(s)
	}
	if err != nil {
		return netip.Addr{}, false
	}
	return a.WithZone("").Unmap(), true
}

type ctxKey struct{}

// client is what NewContext stores: one value, so the request pays for
// one context allocation.
type client struct {
	ip        netip.Addr
	userAgent string
}

// NewContext returns ctx carrying ip, the address the server resolved
// for its request, and the request's User-Agent, so every layer that
// serves the request uses that one answer (a login records both on the
// session it starts).
func NewContext(ctx context.Context, ip netip.Addr, userAgent string) context.Context {
	return context.WithValue(ctx, ctxKey{}, client{ip, userAgent})
}

// FromContext returns the address NewContext stored, if any.
func FromContext(ctx context.Context) (netip.Addr, bool) {
	c, ok := ctx.Value(ctxKey{}).(client)
	return c.ip, ok
}

// UserAgent returns the User-Agent NewContext stored, "" if none.
func UserAgent(ctx context.Context) string {
	c, _ := ctx.Value(ctxKey{}).(client)
	return c.userAgent
}
