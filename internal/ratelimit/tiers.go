package ratelimit

import (
	"fmt"
	"strings"
)

// DefaultTiers are the per-credential request tiers of forward-auth and
// the proxy when SIGIL_TIERS is unset.
const DefaultTiers = "free=60/m,pro=1000/m"

// ParseTiers parses SIGIL_TIERS: "name=N/unit,…" with names of the
// customer's choosing ([a-z0-9_-], 1–32 characters); "" gives
// DefaultTiers, "off" none.
func ParseTiers(s string) (map[string]Rule, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		s = DefaultTiers
	}
	tiers := map[string]Rule{}
	if strings.EqualFold(s, Off) {
		return tiers, nil
	}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, value, ok := strings.Cut(item, "=")
		name = strings.TrimSpace(name)
		if !ok || !validTierName(name) {
			return nil, fmt.Errorf("ratelimit: tier %q: want name=N/unit with a name of a-z, 0-9, _ or -", item)
		}
		if _, dup := tiers[name]; dup {
			return nil, fmt.Errorf("ratelimit: tier %q given twice", name)
		}
		r, err := parseRule(strings.TrimSpace(value))
		if err != nil {
			return nil, fmt.Errorf("ratelimit: tier %q: %w", name, err)
		}
		tiers[name] = r
	}
	return tiers, nil
}

func validTierName(n string) bool {
	if n == "" || len(n) > 32 {
		return false
	}
	for _, c := range n {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
