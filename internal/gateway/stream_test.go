package gateway_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/gateway"
)

// failAfter bounds a step that hangs when the proxy buffers instead of
// streaming (a failure deadline, not a wait for anything to expire).
const failAfter = 5 * time.Second

// TestResponseStreams: the client reads the first event while the
// upstream is still waiting to write the last one.
func TestResponseStreams(t *testing.T) {
	e := newEnv(t, nil)
	key, _ := e.apiKey(t, "read")
	ctx, cancel := context.WithTimeout(context.Background(), failAfter)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.proxy.URL+"/stream", nil)
	req.Header.Set("X-API-KEY", key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	br := bufio.NewReader(res.Body)
	first, err := br.ReadString('\n')
	if err != nil || first != "data: first\n" {
		t.Fatalf("first chunk %q, %v (buffered by the proxy?)", first, err)
	}
	close(e.up.release) // only now does the upstream write the rest
	rest, err := io.ReadAll(br)
	if err != nil || string(rest) != "\ndata: last\n\n" {
		t.Fatalf("rest %q, %v", rest, err)
	}
}

// TestRequestBodyStreams: the upstream reads the first part of a body
// before the client has written the second.
func TestRequestBodyStreams(t *testing.T) {
	e := newEnv(t, nil)
	key, _ := e.apiKey(t, "read")
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", e.proxy.URL+"/upload", pr)
	req.Header.Set("X-API-KEY", key)
	type result struct {
		body string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		done <- result{string(b), err}
	}()
	io.WriteString(pw, "part1\n")
	var got strings.Builder
	deadline := time.After(failAfter)
	for !strings.Contains(got.String(), "part1\n") {
		select {
		case p := <-e.up.gotPart:
			got.WriteString(p)
		case <-deadline:
			t.Fatalf("the upstream did not get the first part before the body ended (got %q)", got.String())
		}
	}
	io.WriteString(pw, "part2\n")
	pw.Close()
	select {
	case r := <-done:
		if r.err != nil || r.body != "received part1\npart2\n" {
			t.Fatalf("answer %q, %v", r.body, r.err)
		}
	case <-time.After(failAfter):
		t.Fatal("no answer")
	}
}

func TestWebSocket(t *testing.T) {
	e := newEnv(t, nil)
	key, id := e.apiKey(t, "read")
	addr := strings.TrimPrefix(e.proxy.URL, "http://")

	if res, _, _ := wsDial(t, addr); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unauthenticated upgrade → %d, want 401", res.StatusCode)
	}
	before := e.up.hits.Load()
	res, conn, br := wsDial(t, addr, "X-API-KEY: "+key, "X-Sigil-Subject: mallory")
	if res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade → %d, want 101", res.StatusCode)
	}
	if got := res.Header.Get("X-Echo-Subject"); got != id {
		t.Errorf("the upstream's handshake saw X-Sigil-Subject %q, want %q", got, id)
	}
	for _, msg := range []string{"hello", "second message"} {
		if err := writeFrame(conn, msg, true); err != nil {
			t.Fatal(err)
		}
		got, err := readFrame(br)
		if err != nil || got != msg {
			t.Fatalf("echo %q, %v; want %q", got, err, msg)
		}
	}
	if n := e.up.hits.Load() - before; n != 1 {
		t.Errorf("upstream requests %d, want 1 (frames ride the upgraded connection)", n)
	}
}

// TestStreamCaps: event streams and WebSockets count against a cap per
// credential and one for the proxy; beyond it the client gets 429 with
// Retry-After and the upstream's stream is dropped; a stream that ends
// frees its slot.
func TestStreamCaps(t *testing.T) {
	e := newEnv(t, func(o *gateway.Options) { o.StreamsPerCredential, o.Streams = 2, 3 })
	alice, _ := e.apiKey(t, "read")
	bob, _ := e.apiKey(t, "read")
	addr := strings.TrimPrefix(e.proxy.URL, "http://")
	open := func(key string) (*http.Response, context.CancelFunc) {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		req, _ := http.NewRequestWithContext(ctx, "GET", e.proxy.URL+"/stream", nil)
		req.Header.Set("X-API-KEY", key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res, cancel
	}
	first, closeFirst := open(alice)
	if first.StatusCode != 200 {
		t.Fatalf("first stream: %d", first.StatusCode)
	}
	// A WebSocket is a stream too: alice's second, and her last.
	if res, _, _ := wsDial(t, addr, "X-API-KEY: "+alice); res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %d, want 101", res.StatusCode)
	}
	for _, refused := range []func() *http.Response{
		func() *http.Response { r, _ := open(alice); return r },
		func() *http.Response { r, _, _ := wsDial(t, addr, "X-API-KEY: "+alice); return r },
	} {
		res := refused()
		if res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("alice's third stream: %d, want 429", res.StatusCode) // (a stream's body would never end)
		}
		body, _ := io.ReadAll(res.Body)
		if res.Header.Get("Retry-After") != "5" || !strings.Contains(string(body), "this credential already has") {
			t.Fatalf("alice's third stream: %d %q (Retry-After %q), want 429 with Retry-After 5", res.StatusCode, body, res.Header.Get("Retry-After"))
		}
	}
	// Bob takes the proxy's last slot; then even he is refused.
	if res, _ := open(bob); res.StatusCode != 200 {
		t.Fatalf("bob's stream: %d", res.StatusCode)
	}
	if res, _ := open(bob); res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("a stream beyond the proxy's cap: %d, want 429", res.StatusCode)
	}
	// Alice closes her event stream: its slot frees (when the proxy sees
	// the client go), and she may open one again. Plain answers never count.
	closeFirst()
	deadline := time.Now().Add(failAfter)
	for {
		res, _ := open(alice)
		if res.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alice's slot never freed: %d", res.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for range 5 {
		if res := call(t, "GET", e.proxy.URL+"/x", nil, "X-API-KEY: "+alice); res.Status != 200 {
			t.Fatalf("a plain request at the stream cap: %d", res.Status)
		}
	}
}
