package verify

import (
	"context"
	"net/url"
	"sync/atomic"
	"testing"
	"time"
)

// An answer the server gave before a revocation the Verifier has since
// heard of is not cached: the next lookup asks again.
func TestIntrospectionInFlightDuringRevocation(t *testing.T) {
	tests := []struct {
		name   string
		forget func(in *introspector)
	}{
		{"key revoked", func(in *introspector) { in.forgetKey("ak_1") }},
		{"feed reset", func(in *introspector) { in.flush() }},
		{"another key revoked", func(in *introspector) { in.forgetKey("ak_2") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			asked, release := make(chan struct{}, 2), make(chan struct{})
			post := func(ctx context.Context, _ string, _ url.Values, out any) error {
				calls.Add(1)
				asked <- struct{}{}
				<-release
				*out.(*introspection) = introspection{Active: true, Subject: "ak_1", TokenType: "api_key"}
				return nil
			}
			in := newIntrospector("http://sigil/oauth2/introspect", post, time.Now)
			first := make(chan *introspection)
			go func() {
				ans, _ := in.lookup(context.Background(), "sk_x")
				first <- ans
			}()
			<-asked
			tt.forget(in) // the revocation arrives while the server is answering
			close(release)
			if ans := <-first; ans == nil || !ans.Active {
				t.Fatalf("the waiting caller got %+v, want the server's answer", ans)
			}
			if _, err := in.lookup(context.Background(), "sk_x"); err != nil {
				t.Fatal(err)
			}
			if n := calls.Load(); n != 2 {
				t.Errorf("%d calls to the server, want 2: the answer from before the revocation was cached", n)
			}
		})
	}
}

// Answers are cached for introspectTTL, and concurrent lookups of one
// token share one call.
func TestIntrospectionCached(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	post := func(ctx context.Context, _ string, _ url.Values, out any) error {
		calls.Add(1)
		<-release
		*out.(*introspection) = introspection{Active: true, Subject: "ak_1", TokenType: "api_key"}
		return nil
	}
	now := time.Unix(1_800_000_000, 0)
	in := newIntrospector("http://sigil/oauth2/introspect", post, func() time.Time { return now })
	done := make(chan struct{})
	for range 8 {
		go func() {
			in.lookup(context.Background(), "sk_x")
			done <- struct{}{}
		}()
	}
	time.Sleep(20 * time.Millisecond) // let them all find the call in flight
	close(release)
	for range 8 {
		<-done
	}
	in.lookup(context.Background(), "sk_x")
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d calls, want 1", n)
	}
	now = now.Add(introspectTTL)
	in.lookup(context.Background(), "sk_x")
	if n := calls.Load(); n != 2 {
		t.Errorf("%d calls after the TTL, want 2", n)
	}
}
