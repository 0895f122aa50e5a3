// Package integrations runs Sigil behind real third-party gateways and
// checks the configurations that docs/integrations/ publishes: the nginx
// config in nginx/ is started with the Debian nginx binary in front of a
// real Sigil (internal/testenv) and a tiny upstream; the Traefik and Envoy
// files, whose binaries are not available here, are only parsed and kept
// identical to their pages.
//
// Test code only: the package has no API. It owns integrations/** and
// must not touch the server's packages; it drives Sigil through HTTP as
// a gateway would.
package integrations
