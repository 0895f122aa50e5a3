// Package browser holds the browser tests of Sigil's hosted sign-in pages
// (API.md §11). It has no code of its own: browser_test.go builds the
// sigil binary, serves it on a temporary database (SQLite, and PostgreSQL
// when SIGIL_TEST_POSTGRES is set) with a test SMTP mailbox, runs a
// harness server that is a single-page app's origin (spa/, with the stock
// oidc-client-ts library) and an API protected by the verify package, and
// then runs the Node tests in tests/, which drive Debian's Chromium through
// playwright-core.
//
// It needs node (≥ 20), chromium (apt-get install chromium) and
// node_modules here (npm ci); install.sh installs both. Without them the
// test skips, or fails when CI is set.
//
// Every hosted page is also checked with axe-core (WCAG 2.1 A and AA, in
// the light and dark colour schemes) and for horizontal overflow at 375 px,
// and keyboard.test.mjs signs in with the keyboard alone, checking the
// focus order and a visible focus ring. Screenshots of every page, at
// desktop and phone sizes (and the phone size dark), go to
// screenshots/<backend>/ (not committed).
//
// The set-up also makes one member of the workspace an instance admin with
// `sigil admin grant`, for tests/admin.test.mjs. The first-run setup page
// needs a sigil without accounts, so TestFirstRun starts one of its own and
// runs first-run/ (outside tests/, which the shared run takes whole) with
// the setup link the server logged.
//
// SIGIL_BROWSER_TESTS=tests/dashboard.test.mjs runs one file of tests
// instead of all of them, while working on it.
package browser
