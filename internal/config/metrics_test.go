package config

import (
	"strings"
	"testing"
)

// /metrics has its own listener, off unless SIGIL_METRICS_ADDR names one.
func TestMetricsAddr(t *testing.T) {
	tests := []struct {
		env     map[string]string
		want    string
		problem string // prefix of the one error, "" = valid
	}{
		{nil, "", ""},
		{map[string]string{"SIGIL_METRICS_ADDR": "off"}, "", ""},
		{map[string]string{"SIGIL_METRICS_ADDR": " OFF "}, "", ""},
		{map[string]string{"SIGIL_METRICS_ADDR": "127.0.0.1:9090"}, "127.0.0.1:9090", ""},
		{map[string]string{"SIGIL_METRICS_ADDR": ":9090"}, ":9090", ""},
		{map[string]string{"SIGIL_METRICS_ADDR": "9090"}, "", "SIGIL_METRICS_ADDR (--metrics-addr): want host:port"},
		{map[string]string{"SIGIL_METRICS_ADDR": "127.0.0.1:8080"}, "", "SIGIL_METRICS_ADDR (--metrics-addr): must differ from SIGIL_ADDR"},
	}
	for _, tt := range tests {
		got, err := Load(nil, nil, envFunc(tt.env), "")
		if tt.problem == "" {
			if err != nil || got.MetricsAddr != tt.want {
				t.Errorf("%v: %q, %v; want %q", tt.env, got.MetricsAddr, err, tt.want)
			}
			continue
		}
		if errs := joined(err); len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), tt.problem) {
			t.Errorf("%v: %v; want %q", tt.env, err, tt.problem)
		}
	}
}

func TestStreamLimits(t *testing.T) {
	got, err := Load(nil, nil, envFunc(map[string]string{"SIGIL_STREAMS_PER_CREDENTIAL": "4", "SIGIL_STREAMS": " 100 "}), "")
	if err != nil || got.StreamsPerCredential != 4 || got.Streams != 100 {
		t.Errorf("got %d/%d, %v; want 4/100", got.StreamsPerCredential, got.Streams, err)
	}
	if d := Default(); d.StreamsPerCredential != 0 || d.Streams != 0 {
		t.Errorf("defaults %d/%d, want 0/0 (the server's own defaults)", d.StreamsPerCredential, d.Streams)
	}
	_, err = Load(nil, nil, envFunc(map[string]string{"SIGIL_STREAMS_PER_CREDENTIAL": "0", "SIGIL_STREAMS": "many"}), "")
	if errs := joined(err); len(errs) != 2 {
		t.Errorf("bad values: %v, want two errors", err)
	}
}
