// Command ssoidp runs the test identity providers of internal/ssotest in
// a process of their own, for bench/sso_test.go: with the IdPs apart,
// the benchmark's process CPU is Sigil's alone (their signing and their
// garbage are counted elsewhere). It prints "oidc <issuer>" and
// "saml <metadata URL>", then serves until its standard input closes.
// The SAML IdP reads the SP's metadata from the file named by -sp at
// each request, so the file may be written after the start.
package main
