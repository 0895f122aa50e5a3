// Package integrations runs Sigil behind real third-party gateways and
// checks the configurations that docs/integrations/ publishes: the nginx
// config in nginx/ (Debian's nginx), the Traefik one in traefik/
// (Traefik built by traefik/install.sh) and the Caddyfile in caddy/
// (Debian's caddy) are started in front of a real
// Sigil (internal/testenv) and a tiny upstream, and put through one matrix
// of credentials, scopes, forged headers, tier limits and revocation; the
// Envoy file, whose binary cannot be installed here, is validated against
// Envoy's own API definitions but not run. Every file is kept identical
// to its page.
//
// Test code only: the package has no API. It owns integrations/** and
// must not touch the server's packages; it drives Sigil through HTTP as
// a gateway would.
package integrations
