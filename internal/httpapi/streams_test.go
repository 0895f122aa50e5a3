package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/httpapi"
	"github.com/sigil-auth/sigil/internal/testenv"
)

// stream is one attempt to open the revocation feed.
type stream struct {
	status     int
	code       string // the error code of a refusal
	retryAfter string
	close      func() // ends an open stream (no-op for a refusal)
}

func openStream(t *testing.T, base, cred string) stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/v1/revocations", nil)
	k, v, _ := strings.Cut(cred, ": ")
	req.Header.Set(k, v)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("feed: %v", err)
	}
	st := stream{status: res.StatusCode, retryAfter: res.Header.Get("Retry-After")}
	if res.StatusCode != 200 {
		var body struct{ Error string }
		json.NewDecoder(io.LimitReader(res.Body, 4096)).Decode(&body)
		st.code = body.Error
		res.Body.Close()
		cancel()
		st.close = func() {}
		return st
	}
	st.close = func() { cancel(); res.Body.Close() }
	t.Cleanup(st.close)
	return st
}

// eventually retries open until it gets a stream: a slot frees once the
// server has noticed the client went away.
func eventually(t *testing.T, what string, open func() stream) stream {
	t.Helper()
	var st stream
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if st = open(); st.status == 200 {
			return st
		}
	}
	t.Fatalf("%s: still %d %s after 3 s", what, st.status, st.code)
	return st
}

// TestStreamCaps opens the revocation feed as an attacker would: one API
// key opens many streams at once and gets exactly its cap, the rest 429
// with Retry-After; closing one frees a slot; the replica's total cap
// holds across credentials, the admin token's included.
func TestStreamCaps(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		const perKey, total = 3, 5
		s := testenv.Start(t, db, testenv.Options{Streams: httpapi.StreamLimits{PerCredential: perKey, Total: total}})
		ws, _ := workspace(t, s.URL)
		key := func() string { return "X-API-KEY: " + resourceKey(t, s.URL, ws, "tokens:introspect").Str("key") }
		a, b, c := key(), key(), key()

		// Key a opens perKey+5 streams at once.
		results := make([]stream, perKey+5)
		var wg sync.WaitGroup
		for i := range results {
			wg.Add(1)
			go func() { defer wg.Done(); results[i] = openStream(t, s.URL, a) }()
		}
		wg.Wait()
		var open []stream
		for _, st := range results {
			switch {
			case st.status == 200:
				open = append(open, st)
			case st.status != 429 || st.code != "rate_limited" || st.retryAfter == "":
				t.Errorf("refused stream: %d %q, Retry-After %q; want 429 rate_limited with Retry-After", st.status, st.code, st.retryAfter)
			}
		}
		if len(open) != perKey {
			t.Fatalf("key a got %d streams, want %d", len(open), perKey)
		}
		// Closing one frees its slot (for that key, and no more).
		open[0].close()
		open[0] = eventually(t, "key a after closing one", func() stream { return openStream(t, s.URL, a) })
		if st := openStream(t, s.URL, a); st.status != 429 {
			t.Errorf("key a over its cap again: %d", st.status)
		}

		// The replica's total holds across keys and the admin token.
		for range total - perKey {
			if st := openStream(t, s.URL, b); st.status != 200 {
				t.Fatalf("key b within the total: %d %s", st.status, st.code)
			}
		}
		for name, cred := range map[string]string{"key c": c, "admin": admin} {
			if st := openStream(t, s.URL, cred); st.status != 429 || st.code != "rate_limited" {
				t.Errorf("%s over the total: %d %s", name, st.status, st.code)
			}
		}
		open[1].close()
		eventually(t, "key c after a slot freed", func() stream { return openStream(t, s.URL, c) })

		// Refusals for a bad credential stay 401/403, whatever the caps.
		want(t, call(t, "GET", s.URL+"/v1/revocations", nil, "X-API-KEY: sk_nope"), 401, "")
	})
}
