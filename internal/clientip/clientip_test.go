package clientip

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseTrusted(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{in: "", want: nil},
		{in: " , ,", want: nil},
		{in: "10.0.0.0/8", want: []string{"10.0.0.0/8"}},
		{in: " 10.0.0.0/8, 192.168.1.1 ,, ::1, 2001:db8::/32,::ffff:10.1.2.3",
			want: []string{"10.0.0.0/8", "192.168.1.1/32", "::1/128", "2001:db8::/32", "10.1.2.3/32"}},
		{in: "10.1.2.3/8", want: []string{"10.0.0.0/8"}},            // masked
		{in: "::ffff:10.0.0.0/104", want: []string{"10.0.0.0/8"}},   // mapped CIDR → IPv4
		{in: "\t172.16.0.0/12\n", want: []string{"172.16.0.0/12"}},  // any blank
		{in: "0.0.0.0/0,::/0", want: []string{"0.0.0.0/0", "::/0"}}, // trust everyone
		{in: "10.0.0.0/33", wantErr: true},
		{in: "nope", wantErr: true},
		{in: "10.0.0.1,x", wantErr: true},
		{in: "1.2.3.4:80", wantErr: true},
		{in: "fe80::1%eth0", wantErr: true},
		{in: "10.0.0.0/8/8", wantErr: true},
		{in: "10.0.0.0 /8", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseTrusted(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseTrusted(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		var gotS []string
		for _, p := range got {
			gotS = append(gotS, p.String())
		}
		if diff := cmp.Diff(tt.want, gotS); diff != "" {
			t.Errorf("ParseTrusted(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestClientIP(t *testing.T) {
	trusted, err := ParseTrusted("10.0.0.0/8, ::1, 2001:db8:ffff::/48")
	if err != nil {
		t.Fatal(err)
	}
	r, none := New(trusted), New(nil)
	tests := []struct {
		name   string
		r      *Resolver
		remote string
		xff    []string
		want   string
	}{
		{"no proxies trusted: header ignored", none, "203.0.113.5:4000", []string{"1.2.3.4"}, "203.0.113.5"},
		{"zero Resolver trusts nobody", &Resolver{}, "10.0.0.1:80", []string{"1.2.3.4"}, "10.0.0.1"},
		{"spoofing: untrusted peer sends the header", r, "203.0.113.5:4000", []string{"1.2.3.4"}, "203.0.113.5"},
		{"spoofing: untrusted peer claims a trusted hop", r, "203.0.113.5:4000", []string{"10.0.0.9"}, "203.0.113.5"},
		{"trusted proxy, one hop", r, "10.0.0.1:80", []string{"198.51.100.7"}, "198.51.100.7"},
		{"client prepends a fake hop", r, "10.0.0.1:80", []string{"1.1.1.1, 198.51.100.7"}, "198.51.100.7"},
		{"client prepends a fake trusted hop", r, "10.0.0.1:80", []string{"10.6.6.6, 198.51.100.7"}, "198.51.100.7"},
		{"two trusted proxies", r, "10.0.0.1:80", []string{"198.51.100.7, 10.0.0.2"}, "198.51.100.7"},
		{"three trusted proxies", r, "10.0.0.1:80", []string{"198.51.100.7,10.0.0.4,10.0.0.3, 10.0.0.2"}, "198.51.100.7"},
		{"several header lines", r, "10.0.0.1:80", []string{"1.1.1.1", "198.51.100.7", "10.9.9.9"}, "198.51.100.7"},
		{"several header lines with lists", r, "10.0.0.1:80", []string{"1.1.1.1, 2.2.2.2", "198.51.100.7, 10.0.0.3", "10.9.9.9"}, "198.51.100.7"},
		{"all hops trusted: leftmost", r, "10.0.0.1:80", []string{"10.0.0.3, 10.0.0.2"}, "10.0.0.3"},
		{"no header from trusted proxy", r, "10.0.0.1:80", nil, "10.0.0.1"},
		{"empty header from trusted proxy", r, "10.0.0.1:80", []string{""}, "10.0.0.1"},
		{"empty list entries skipped", r, "10.0.0.1:80", []string{"198.51.100.7, , ,10.0.0.2,"}, "198.51.100.7"},
		{"garbage hop stops the walk", r, "10.0.0.1:80", []string{"198.51.100.7, junk, 10.0.0.2"}, "10.0.0.2"},
		{"garbage nearest hop", r, "10.0.0.1:80", []string{"198.51.100.7, junk"}, "10.0.0.1"},
		{"garbage left of the client is never reached", r, "10.0.0.1:80", []string{"junk, 198.51.100.7"}, "198.51.100.7"},
		{"'unknown' hop (RFC 7239 style) stops the walk", r, "10.0.0.1:80", []string{"198.51.100.7, unknown"}, "10.0.0.1"},
		{"CIDR is not an address", r, "10.0.0.1:80", []string{"198.51.100.0/24"}, "10.0.0.1"},
		{"hop with port", r, "10.0.0.1:80", []string{"198.51.100.7:5555"}, "198.51.100.7"},
		{"ipv6 hop with brackets and port", r, "10.0.0.1:80", []string{"[2001:db8::5]:443"}, "2001:db8::5"},
		{"ipv6 hop with brackets", r, "10.0.0.1:80", []string{"[2001:db8::5]"}, "2001:db8::5"},
		{"ipv6 peer trusted", r, "[::1]:80", []string{"2001:db8::5"}, "2001:db8::5"},
		{"ipv6 peer untrusted", r, "[2001:db8::9]:80", []string{"198.51.100.7"}, "2001:db8::9"},
		{"ipv6 trusted CIDR hop skipped", r, "[::1]:80", []string{"2001:db8::5, 2001:db8:ffff::1"}, "2001:db8::5"},
		{"ipv4-mapped hop", r, "10.0.0.1:80", []string{"::ffff:198.51.100.7"}, "198.51.100.7"},
		{"ipv4-mapped trusted hop skipped", r, "10.0.0.1:80", []string{"198.51.100.7, ::ffff:10.0.0.2"}, "198.51.100.7"},
		{"ipv4-mapped peer", r, "[::ffff:10.0.0.1]:80", []string{"198.51.100.7"}, "198.51.100.7"},
		{"ipv4-mapped untrusted peer", none, "[::ffff:203.0.113.5]:80", nil, "203.0.113.5"},
		{"zone dropped", none, "[fe80::1%eth0]:80", nil, "fe80::1"},
		{"zoned hop", r, "10.0.0.1:80", []string{"fe80::7%eth0"}, "fe80::7"},
		{"bare peer address", r, "10.0.0.1", []string{"198.51.100.7"}, "198.51.100.7"},
		{"bad remote addr", r, "nonsense", []string{"1.2.3.4"}, "invalid IP"},
		{"unix socket peer", r, "@", nil, "invalid IP"},
		{"empty remote addr", r, "", []string{"1.2.3.4"}, "invalid IP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.ClientIP(tt.remote, tt.xff).String(); got != tt.want {
				t.Errorf("ClientIP(%q, %q) = %s, want %s", tt.remote, tt.xff, got, tt.want)
			}
		})
	}
}

// TestNewCopies: changing the caller's slice later does not change whom a
// Resolver trusts.
func TestNewCopies(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	r := New(trusted)
	trusted[0] = netip.MustParsePrefix("0.0.0.0/0")
	if got := r.ClientIP("203.0.113.5:1", []string{"1.2.3.4"}); got.String() != "203.0.113.5" {
		t.Errorf("got %v, want the peer", got)
	}
}

func FuzzClientIP(f *testing.F) {
	trusted, err := ParseTrusted("10.0.0.0/8,::1,127.0.0.1,2001:db8::/32")
	if err != nil {
		f.Fatal(err)
	}
	r := New(trusted)
	seeds := [][2]string{
		{"10.0.0.1:80", "1.2.3.4, 10.0.0.2"},
		{"[::1]:1", "::ffff:1.2.3.4"},
		{"127.0.0.1:1", ",,,"},
		{"x", "y"},
		{"10.0.0.1:80", "[2001:db8::1]:80, junk, 10.1.1.1"},
		{"[fe80::1%eth0]:80", "fe80::2%lo"},
		{"10.0.0.1", "1.2.3.4\n5.6.7.8"}, // the newline splits into two header values below
		{"203.0.113.5:9", "10.0.0.2"},
		{"[::ffff:10.0.0.1]:80", "::ffff:10.0.0.3,::ffff:198.51.100.7"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, remote, xff string) {
		values := strings.Split(xff, "\n")
		got := r.ClientIP(remote, values)
		peer, peerOK := parseHop(remote)
		if !peerOK {
			if got.IsValid() {
				t.Fatalf("unparsable peer %q gave %v", remote, got)
			}
			return
		}
		if !got.IsValid() {
			t.Fatalf("valid peer %v gave an invalid client", peer)
		}
		if got.Zone() != "" || got.Is4In6() {
			t.Fatalf("unnormalised result %v", got)
		}
		if !r.isTrusted(peer) && got != peer {
			t.Fatalf("untrusted peer %v but client %v", peer, got)
		}
		if got != peer && !inHeader(got, values) {
			t.Fatalf("client %v is neither the peer nor any header entry", got)
		}
	})
}

// inHeader reports whether a is one of the entries of values.
func inHeader(a netip.Addr, values []string) bool {
	for _, v := range values {
		for e := range strings.SplitSeq(v, ",") {
			if h, ok := parseHop(strings.TrimSpace(e)); ok && h == a {
				return true
			}
		}
	}
	return false
}

func BenchmarkClientIP(b *testing.B) {
	trusted, _ := ParseTrusted("10.0.0.0/8")
	r := New(trusted)
	xff := []string{"198.51.100.7, 10.0.0.2"}
	b.ReportAllocs()
	var a netip.Addr
	for b.Loop() {
		a = r.ClientIP("10.0.0.1:80", xff)
	}
	_ = a
}

func TestTrusts(t *testing.T) {
	trusted, err := ParseTrusted("10.0.0.0/8, ::ffff:192.168.0.0/112, 2001:db8::1")
	if err != nil {
		t.Fatal(err)
	}
	r := New(trusted)
	for peer, want := range map[string]bool{
		"10.1.2.3:4567": true, "10.1.2.3": true, "[::ffff:10.1.2.3]:80": true, "192.168.7.7:1": true,
		"[2001:db8::1]:443": true, "11.0.0.1:80": false, "[2001:db8::2]:443": false, "": false, "@unix": false,
	} {
		if got := r.Trusts(peer); got != want {
			t.Errorf("Trusts(%q) = %v, want %v", peer, got, want)
		}
	}
	if New(nil).Trusts("127.0.0.1:1") {
		t.Error("New(nil) trusts a peer")
	}
}

func TestContext(t *testing.T) {
	if _, ok := FromContext(context.Background()); ok {
		t.Fatal("an empty context carries an address")
	}
	ip := netip.MustParseAddr("192.0.2.7")
	ctx := NewContext(context.Background(), ip, "curl/8.11.1")
	if got, ok := FromContext(ctx); !ok || got != ip {
		t.Fatalf("FromContext = %v %v, want %v", got, ok, ip)
	}
	if ua := UserAgent(ctx); ua != "curl/8.11.1" {
		t.Fatalf("UserAgent = %q", ua)
	}
	if ua := UserAgent(context.Background()); ua != "" {
		t.Fatalf("UserAgent of an empty context = %q", ua)
	}
}
