package ratelimit

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Rule names of API.md §8, as used in SIGIL_RATE_LIMITS.
const (
	LoginIP      = "login_ip"      // login, signup, code, idexists per client IP
	LoginAccount = "login_account" // login per account (email or user id)
	RefreshToken = "refresh_token" // refresh per refresh-token session
	RefreshIP    = "refresh_ip"    // refresh per client IP
	MFACode      = "mfa_code"      // second-factor codes per user (TOTP, recovery)
)

// Off is the SIGIL_RATE_LIMITS value (and per-rule value) that disables limits.
const Off = "off"

// DefaultRules returns the API.md §8 defaults, a fresh map each call.
func DefaultRules() map[string]Rule {
	return map[string]Rule{
		LoginIP:      {Limit: 60, Window: time.Minute},
		LoginAccount: {Limit: 15, Window: time.Minute},
		RefreshToken: {Limit: 30, Window: time.Minute},
		RefreshIP:    {Limit: 100, Window: time.Minute},
		MFACode:      {Limit: 5, Window: time.Minute},
	}
}

// ParseRules parses SIGIL_RATE_LIMITS.
//
//   - "" (or only blanks) → DefaultRules().
//   - "off" → an empty, non-nil map: limiting is disabled. Callers look rules
//     up by name and skip limiting when the name is absent, so an empty map
//     needs no special case.
//   - "name=N/unit,…" → the defaults with the listed rules replaced; a rule
//     not listed keeps its default (listing one rule cannot silently disable
//     the others), and "name=off" removes that one rule. unit is s, m or h
//     (one second/minute/hour) or a Go duration ("60/1m", "10/30s").
//
// Unknown names are an error listing the valid ones (a typo must not leave a
// limit at its default unnoticed), and so are duplicates and bad values.
func ParseRules(s string) (map[string]Rule, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return DefaultRules(), nil
	}
	if strings.EqualFold(s, Off) {
		return map[string]Rule{}, nil
	}
	rules := DefaultRules()
	valid := slices.Sorted(maps.Keys(rules))
	seen := map[string]bool{}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue // tolerate "a=1/m,,b=2/m" and a trailing comma
		}
		name, value, ok := strings.Cut(item, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok {
			return nil, fmt.Errorf("ratelimit: %q: want name=N/unit or name=off", item)
		}
		if !slices.Contains(valid, name) {
			return nil, fmt.Errorf("ratelimit: unknown rule %q (valid: %s)", name, strings.Join(valid, ", "))
		}
		if seen[name] {
			return nil, fmt.Errorf("ratelimit: rule %q given twice", name)
		}
		seen[name] = true
		if strings.EqualFold(value, Off) {
			delete(rules, name)
			continue
		}
		r, err := parseRule(value)
		if err != nil {
			return nil, fmt.Errorf("ratelimit: rule %q: %w", name, err)
		}
		rules[name] = r
	}
	return rules, nil
}

// parseRule parses "N/unit".
func parseRule(v string) (Rule, error) {
	n, unit, ok := strings.Cut(v, "/")
	if !ok {
		return Rule{}, fmt.Errorf("%q: want N/unit, e.g. 60/m", v)
	}
	limit, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil {
		return Rule{}, fmt.Errorf("%q: count %q is not an integer", v, n)
	}
	window, err := parseWindow(strings.TrimSpace(unit))
	if err != nil {
		return Rule{}, fmt.Errorf("%q: %w", v, err)
	}
	r := Rule{Limit: limit, Window: window}
	if err := r.validate(); err != nil {
		return Rule{}, err
	}
	return r, nil
}

func parseWindow(unit string) (time.Duration, error) {
	switch unit {
	case "s":
		return time.Second, nil
	case "m":
		return time.Minute, nil
	case "h":
		return time.Hour, nil
	}
	d, err := time.ParseDuration(unit)
	if err != nil {
		return 0, fmt.Errorf("window %q: want s, m, h or a duration like 30s", unit)
	}
	return d, nil
}
