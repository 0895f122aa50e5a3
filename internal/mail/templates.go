package mail

import (
	"fmt"
	"strings"
	"time"
)

// ResetMessage is the password-reset mail: link holds the one-time reset
// token and stops working after ttl.
func ResetMessage(to, link string, ttl time.Duration) Message {
	return Message{
		To:      to,
		Subject: "Reset your password",
		Text: fmt.Sprintf("Someone asked to reset the password of the account %s.\n\n"+
			"To choose a new password, open this link within %s:\n\n%s\n\n"+
			"If you did not ask for this, ignore this message: your password stays as it is.\n",
			to, humanTTL(ttl), link),
	}
}

// VerifyMessage is the email-verification mail: link holds the one-time
// verification token and stops working after ttl.
func VerifyMessage(to, link string, ttl time.Duration) Message {
	return Message{
		To:      to,
		Subject: "Verify your email address",
		Text: fmt.Sprintf("To confirm that %s is your email address, open this link within %s:\n\n%s\n\n"+
			"If you did not expect this message, ignore it.\n",
			to, humanTTL(ttl), link),
	}
}

// InviteMessage is the invitation mail: link holds the single-use
// invitation token and stops working after ttl. workspace and role are
// the inviting workspace's name and the role the invitee will have.
func InviteMessage(to, workspace, role, link string, ttl time.Duration) Message {
	return Message{
		To:      to,
		Subject: "You're invited to join " + oneLine(workspace) + " on Sigil",
		Text: fmt.Sprintf("You are invited to join the workspace %s as %s %s.\n\n"+
			"To accept, open this link within %s and choose a password:\n\n%s\n\n"+
			"The link works once. If you did not expect this invitation, ignore this message.\n",
			workspace, article(role), role, humanTTL(ttl), link),
	}
}

// oneLine keeps a caller's text from breaking a header line (Message
// refuses CR and LF in the subject).
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// article is "an" before a vowel sound ("an admin", "an owner"), else "a".
func article(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}

// humanTTL writes d in the largest whole unit among days, hours and
// minutes ("1 hour", "90 minutes", "2 days"). d is rounded to the minute
// and never shown below one minute.
func humanTTL(d time.Duration) string {
	d = max(d.Round(time.Minute), time.Minute)
	n, unit := int64(d/time.Minute), "minute"
	switch {
	case d%(24*time.Hour) == 0:
		n, unit = int64(d/(24*time.Hour)), "day"
	case d%time.Hour == 0:
		n, unit = int64(d/time.Hour), "hour"
	}
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
