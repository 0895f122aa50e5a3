package ratelimit

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDefaultRules(t *testing.T) {
	want := map[string]Rule{
		"login_ip":      {60, time.Minute},
		"login_account": {15, time.Minute},
		"refresh_token": {30, time.Minute},
		"refresh_ip":    {100, time.Minute},
		"mfa_code":      {5, time.Minute},
	}
	if diff := cmp.Diff(want, DefaultRules()); diff != "" {
		t.Errorf("DefaultRules (-want +got):\n%s", diff)
	}
	// The documented example of API.md §1 is exactly the defaults.
	got, err := ParseRules("login_ip=60/m,login_account=15/m,refresh_token=30/m,refresh_ip=100/m")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("API.md example (-want +got):\n%s", diff)
	}
}

func TestParseRules(t *testing.T) {
	with := func(changes map[string]Rule, drop ...string) map[string]Rule {
		m := DefaultRules()
		for k, v := range changes {
			m[k] = v
		}
		for _, k := range drop {
			delete(m, k)
		}
		return m
	}
	tests := []struct {
		in      string
		want    map[string]Rule
		wantErr string // substring; "" means no error
	}{
		{in: "", want: DefaultRules()},
		{in: "   ", want: DefaultRules()},
		{in: "off", want: map[string]Rule{}},
		{in: " OFF ", want: map[string]Rule{}},
		{in: "login_ip=10/s", want: with(map[string]Rule{"login_ip": {10, time.Second}})},
		{in: "login_ip=10/h", want: with(map[string]Rule{"login_ip": {10, time.Hour}})},
		{in: "login_ip=5/30s", want: with(map[string]Rule{"login_ip": {5, 30 * time.Second}})},
		{in: "login_ip=60/1m", want: with(map[string]Rule{"login_ip": {60, time.Minute}})},
		{in: " login_ip = 7 / m , refresh_ip=off ,", want: with(map[string]Rule{"login_ip": {7, time.Minute}}, "refresh_ip")},
		{in: "login_ip=off,login_account=off,refresh_token=off,refresh_ip=off,mfa_code=off", want: map[string]Rule{}},
		{in: "login_ips=60/m", wantErr: "valid: login_account, login_ip, mfa_code, refresh_ip, refresh_token"},
		{in: "login_ip=60/m,login_ip=30/m", wantErr: "twice"},
		{in: "login_ip", wantErr: "want name=N/unit"},
		{in: "login_ip=60", wantErr: "want N/unit"},
		{in: "login_ip=x/m", wantErr: "not an integer"},
		{in: "login_ip=60/d", wantErr: "window"},
		{in: "login_ip=0/m", wantErr: "invalid rule"},
		{in: "login_ip=-1/m", wantErr: "invalid rule"},
		{in: "login_ip=10/-1s", wantErr: "invalid rule"},
		{in: "login_ip=10/0s", wantErr: "invalid rule"},
		{in: "login_ip=100000/m", wantErr: "invalid rule"},
		{in: "login_ip=10/48h", wantErr: "invalid rule"},
		{in: "on", wantErr: "want name=N/unit"},
	}
	for _, tt := range tests {
		got, err := ParseRules(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseRules(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseRules(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseRules(%q) (-want +got):\n%s", tt.in, diff)
		}
		if got == nil {
			t.Errorf("ParseRules(%q) returned a nil map", tt.in)
		}
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want int
	}{
		{0, 1}, {time.Microsecond, 1}, {time.Second, 1}, {time.Second + 1, 2},
		{59*time.Second + 999*time.Millisecond, 60}, {time.Minute, 60},
	}
	for _, tt := range tests {
		if got := (Decision{RetryAfter: tt.in}).RetryAfterSeconds(); got != tt.want {
			t.Errorf("RetryAfterSeconds(%v) = %d, want %d", tt.in, got, tt.want)
		}
	}
}
