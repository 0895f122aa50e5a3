package client

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestMayWait(t *testing.T) {
	tests := []struct {
		name     string
		maxWait  time.Duration
		deadline time.Duration // from now; 0: none
		d        time.Duration
		want     bool
	}{
		{"no usable Retry-After", 0, 0, 0, false},
		{"within the default", 0, 0, DefaultMaxWait, true},
		{"over the default", 0, 0, DefaultMaxWait + time.Second, false},
		{"within MaxWait", 5 * time.Second, 0, 5 * time.Second, true},
		{"over MaxWait", 5 * time.Second, 0, 6 * time.Second, false},
		{"ends before the deadline", 0, time.Hour, time.Minute, true},
		{"the deadline comes first", 0, 30 * time.Second, time.Minute, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.deadline)
				defer cancel()
			}
			if got := (&Transport{MaxWait: tt.maxWait}).mayWait(ctx, tt.d); got != tt.want {
				t.Errorf("mayWait(%v) = %v, want %v", tt.d, got, tt.want)
			}
		})
	}
}

func TestSleepContextStopsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sleepContext(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("sleepContext: %v, want context.Canceled", err)
	}
	if err := sleepContext(context.Background(), time.Nanosecond); err != nil {
		t.Fatalf("sleepContext: %v", err)
	}
}

// bodyCloser records whether a request body was closed.
type bodyCloser struct {
	*strings.Reader
	closed bool
}

func (b *bodyCloser) Close() error { b.closed = true; return nil }

// A RoundTrip that never reaches Base still closes the body, as the
// RoundTripper contract requires.
func TestTransportClosesBodyOnEarlyErrors(t *testing.T) {
	tests := []struct {
		name string
		tr   *Transport
		want error
	}{
		{"no source", &Transport{}, nil},
		{"no token", &Transport{Source: New("http://127.0.0.1:1").TokenSource(nil)}, ErrSessionEnded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := &bodyCloser{Reader: strings.NewReader("{}")}
			req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/", body)
			_, err := tt.tr.RoundTrip(req)
			if err == nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("RoundTrip: %v, want %v", err, tt.want)
			}
			if !body.closed {
				t.Error("request body left open")
			}
		})
	}
}
