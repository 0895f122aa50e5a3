package token

import (
	"crypto/rand"
	"hash/crc32"
	"math/big"
	"strings"
)

// API keys look like sk_<43 base62 chars: 256 random bits><6 base62 chars:
// CRC-32 of the random part>. Base62 keeps the key one word (a
// double-click selects all of it); the checksum lets scanners and Sigil
// itself refuse a mistyped or truncated key without a database lookup.
const (
	APIKeyPrefix  = "sk_"
	apiKeyBody    = 43
	apiKeyCheck   = 6
	APIKeyLen     = len(APIKeyPrefix) + apiKeyBody + apiKeyCheck
	base62        = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	apiKeyVisible = 8 // random characters shown in prefixes
)

// NewAPIKey returns a fresh API key.
func NewAPIKey() string {
	n := new(big.Int).SetBytes(randomBytes(SecretBytes))
	body := make([]byte, apiKeyBody)
	base := big.NewInt(62)
	mod := new(big.Int)
	for i := apiKeyBody - 1; i >= 0; i-- {
		n.DivMod(n, base, mod)
		body[i] = base62[mod.Int64()]
	}
	return APIKeyPrefix + string(body) + checksum(body)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// checksum is the CRC-32 of body as 6 base62 digits.
func checksum(body []byte) string {
	c := crc32.ChecksumIEEE(body)
	out := make([]byte, apiKeyCheck)
	for i := apiKeyCheck - 1; i >= 0; i-- {
		out[i] = base62[c%62]
		c /= 62
	}
	return string(out)
}

// ValidAPIKey reports whether s has the API-key shape and a correct
// checksum. It does no I/O and runs in time linear in len(s).
func ValidAPIKey(s string) bool {
	if len(s) != APIKeyLen || !strings.HasPrefix(s, APIKeyPrefix) {
		return false
	}
	rest := s[len(APIKeyPrefix):]
	for i := 0; i < len(rest); i++ {
		if strings.IndexByte(base62, rest[i]) < 0 {
			return false
		}
	}
	return checksum([]byte(rest[:apiKeyBody])) == rest[apiKeyBody:]
}

// APIKeyDisplayPrefix is the part of a key shown in lists: enough to
// recognise it, far too little to use it.
func APIKeyDisplayPrefix(key string) string {
	return key[:len(APIKeyPrefix)+apiKeyVisible]
}
