#!/usr/bin/env bash
# Installs what browser_test.go needs besides Go: Debian's Chromium (the
# browser playwright-core drives; never `npx playwright install`, which
# downloads its own and fails here) and this folder's npm packages from
# package-lock.json. Node.js ≥ 20 and npm must already be on the machine.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v chromium >/dev/null && [ ! -x /usr/bin/chromium ]; then
  apt-get update && apt-get install -y chromium
fi
npm ci --no-audit --no-fund
