package main

import (
	"testing"

	"github.com/sigil-auth/sigil/internal/config"
)

// TestMemoryLimit: GOMEMLIMIT, when set, wins over SIGIL_MEMORY_LIMIT; auto
// is the base and the hashing slots' memory; off and sizes pass.
func TestMemoryLimit(t *testing.T) {
	const hashing = 38 << 20 // two OWASP hashes
	tests := []struct {
		name      string
		setting   int64
		gomem     string
		wantLimit int64
		wantKeep  bool
	}{
		{"auto", config.MemoryLimitAuto, "", autoMemoryBase + hashing, false},
		{"size", 300 << 20, "", 300 << 20, false},
		{"off", config.MemoryLimitOff, "", config.MemoryLimitOff, false},
		{"GOMEMLIMIT over auto", config.MemoryLimitAuto, "1GiB", 0, true},
		{"GOMEMLIMIT over a size", 300 << 20, "off", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := func(k string) string {
				if k == "GOMEMLIMIT" {
					return tt.gomem
				}
				return ""
			}
			limit, keep := memoryLimit(tt.setting, env, hashing)
			if limit != tt.wantLimit || keep != tt.wantKeep {
				t.Errorf("memoryLimit = %d, %v; want %d, %v", limit, keep, tt.wantLimit, tt.wantKeep)
			}
		})
	}
}
