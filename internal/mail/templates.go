package mail

import (
	"fmt"
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
