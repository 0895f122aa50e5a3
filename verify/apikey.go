package verify

import (
	"hash/crc32"
	"strings"
)

// Sigil API keys are "sk_", 43 base62 characters of randomness and a
// 6-character base62 CRC-32 of them (API.md §5.1). The checksum is a
// public format, repeated here so a mistyped, truncated or made-up key is
// refused without a round trip to the server.
const (
	apiKeyPrefix = "sk_"
	apiKeyBody   = 43
	apiKeyCheck  = 6
	apiKeyLen    = len(apiKeyPrefix) + apiKeyBody + apiKeyCheck
	base62       = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

// validAPIKey reports whether s has the API-key shape and checksum.
func validAPIKey(s string) bool {
	if len(s) != apiKeyLen || !strings.HasPrefix(s, apiKeyPrefix) {
		return false
	}
	rest := s[len(apiKeyPrefix):]
	for i := 0; i < len(rest); i++ {
		if strings.IndexByte(base62, rest[i]) < 0 {
			return false
		}
	}
	c := crc32.ChecksumIEEE([]byte(rest[:apiKeyBody]))
	for i := apiKeyLen - 1; i >= len(apiKeyPrefix)+apiKeyBody; i-- {
		if s[i] != base62[c%62] {
			return false
		}
		c /= 62
	}
	return true
}
