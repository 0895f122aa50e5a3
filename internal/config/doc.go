// Package config turns flags, SIGIL_* environment variables and a .env file
// into one validated Config value for `sigil serve`.
//
// Precedence, lowest to highest: built-in defaults, the .env file in the
// working directory, the process environment, explicitly set flags. An
// environment variable set to the empty string counts as unset; a flag
// given explicitly (even `--redis-url=`) always wins. The .env file is only
// read, never exported into the process environment.
//
// Settings (environment variable, flag, default):
//
//	SIGIL_ADDR               --addr              127.0.0.1:8080
//	    listen address, host:port (empty host = all interfaces).
//	SIGIL_DATABASE_URL       --database-url      sqlite://sigil.db
//	    sqlite://PATH (relative or /absolute, no query) or postgres://… / postgresql://….
//	SIGIL_REDIS_URL          --redis-url         (empty)
//	    redis://, rediss:// or unix:// URL; when set, rate limits and revocation
//	    fan-out are shared through Redis.
//	SIGIL_ISSUER             --issuer            http://<addr> (host "localhost" when addr has none)
//	    `iss` of every token and base of discovery URLs: an absolute http(s) URL
//	    without user info, query, fragment or trailing slash.
//	SIGIL_MASTER_KEY         (no flag)           with SQLite: read from / generated into SIGIL_MASTER_KEY_FILE;
//	                                             with PostgreSQL: required
//	    32 random bytes, base64 (standard or URL-safe, padded or not). Encrypts
//	    secrets that must be readable again. Generate one with `openssl rand -base64 32`.
//	SIGIL_MASTER_KEY_FILE    --master-key-file   <directory of the SQLite database>/sigil.master.key
//	    where the SQLite deployment keeps its generated master key (mode 0600).
//	SIGIL_ADMIN_TOKEN        (no flag)           (empty)
//	    static instance-admin token; when set, at least 32 printable ASCII
//	    characters without spaces (e.g. `openssl rand -hex 32`).
//	SIGIL_TRUSTED_PROXIES    --trusted-proxies   (empty)
//	    comma-separated CIDRs or IP addresses whose X-Forwarded-For is believed.
//	SIGIL_RATE_LIMITS        --rate-limits       (empty = the seed defaults)
//	    kept raw here; parsed by the rate limiter.
//	SIGIL_SIGNING_ALG        --signing-alg       EdDSA
//	    EdDSA or ES256 (case-sensitive, as in JOSE).
//	SIGIL_LOG_LEVEL          --log-level         info
//	    debug, info, warn or error (any case; stored lower-case).
//	SIGIL_LOG_FORMAT         --log-format        json
//	    json or text (any case; stored lower-case).
//	SIGIL_SHUTDOWN_TIMEOUT   --shutdown-timeout  10s
//	    how long a graceful shutdown may take (a positive Go duration).
//	SIGIL_SHUTDOWN_DRAIN     --shutdown-drain    0s
//	    on SIGTERM, /readyz answers 503 this long before the listener
//	    closes, so a load balancer moves on first.
//	SIGIL_DEV                --dev               false
//	    development mode (e.g. mails are logged instead of sent).
//	SIGIL_ACCESS_LOG         --access-log        off
//	    on: one info line per request; warnings and errors are logged either way.
//	    Also true/false, 1/0.
//	SIGIL_MEMORY_LIMIT       --memory-limit      auto
//	    the Go runtime's soft memory limit: auto (derived by cmd/sigil from the
//	    password hasher), off, or a size in GOMEMLIMIT's units (B, KiB, MiB,
//	    GiB, TiB; at least 16MiB). GOMEMLIMIT, when set, wins.
//
// The master key and the admin token have no flags on purpose: command
// lines are visible to every user of the machine (ps, /proc/*/cmdline).
// Config's String, GoString and LogValue redact both, and the passwords of
// the database and Redis URLs.
//
// This package owns configuration and the master-key file only. It must not
// open databases, dial Redis, or parse SIGIL_RATE_LIMITS; it imports nothing
// else of Sigil's.
package config
