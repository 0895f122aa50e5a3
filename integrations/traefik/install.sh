#!/usr/bin/env bash
# Installs the Traefik that integrations/traefik_test.go runs, built from
# source through the Go module proxy (Debian does not package Traefik) into
# $(go env GOPATH)/bin/traefik. Does nothing when that version is there.
# A cold build takes about 8 minutes on 2 cores.
set -euo pipefail
version="${TRAEFIK_VERSION:-v3.6.12}"
bin="$(go env GOPATH)/bin/traefik"
if [ -x "$bin" ] && "$bin" version 2>/dev/null | grep -q "Version: *${version}\$"; then
  echo "traefik ${version} already at ${bin}"
  exit 0
fi
work="$(mktemp -d)"
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
# Outside any module, so nothing here touches Sigil's go.mod.
dir="$(cd "$work" && GOFLAGS= go mod download -json "github.com/traefik/traefik/v3@${version}" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[ -n "$dir" ] || { echo "could not download traefik ${version}" >&2; exit 1; }
cp -r "$dir" "$work/src" && chmod -R u+w "$work/src"
mkdir -p "$(dirname "$bin")"
(cd "$work/src" && GOFLAGS= CGO_ENABLED=0 go build -trimpath \
  -ldflags "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=${version}" \
  -o "$bin" ./cmd/traefik)
"$bin" version
