package authn

import "testing"

// TestACRLevel: the level acr_values needs is the lowest one it lists
// that Sigil knows; unknown values are ignored.
func TestACRLevel(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"aal2", AAL2},
		{"aal1", AAL1},
		{"aal2 aal1", AAL1},
		{"urn:example:loa:3 aal2", AAL2},
		{"urn:example:loa:3", ""},
		{"AAL2", ""},
	}
	for _, tt := range tests {
		if got := acrLevel(tt.in); got != tt.want {
			t.Errorf("acrLevel(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
