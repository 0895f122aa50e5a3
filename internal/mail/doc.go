// Package mail owns Sigil's outgoing mail: the password-reset and
// email-verification messages, their MIME rendering, and the two ways they
// leave the process — SMTP (SIGIL_SMTP_URL) or, without it, the log (the
// whole message in dev, a warning without the body otherwise).
//
// Messages carry one-time tokens in their links, so the body must never be
// logged outside dev and the SMTP password must never appear in an error
// or a String(). Header fields callers control (To, Subject) are refused if
// they hold CR or LF, so they cannot smuggle headers or recipients.
//
// It imports nothing of Sigil's: callers (authn, cmd) build the links,
// choose the Mailer and decide what a failed send means for the request.
package mail
