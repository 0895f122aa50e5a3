package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/sigil-auth/sigil/internal/authn"
)

// announceSetup shows the first-run setup link in the log and, when a
// person is watching the terminal, as a plain banner there too. The log
// line carries the link's secret on purpose (the one exception to "no
// secrets in logs"): it is how the operator of a fresh instance gets in.
// The link works once, for an hour, and dies when any account exists.
func announceSetup(log *slog.Logger, term io.Writer, link authn.SetupLink) {
	log.Warn("first run: no account yet; open setup_url to create the first workspace and its admin "+
		"(once, until expires; each start without accounts makes a new link, older ones stop working)",
		"setup_url", link.URL, "expires", link.ExpiresAt.UTC())
	if f, ok := term.(*os.File); !ok || !isTerminal(f) {
		return // a pipe or file that a log collector reads
	}
	fmt.Fprintf(term, "\nSigil has no account yet. To create the first workspace and its admin, open:\n\n    %s\n\n"+
		"The link works once, until %s. Restarting sigil serve makes a new link; older ones stop working.\n\n",
		link.URL, link.ExpiresAt.Local().Format("15:04 MST"))
}
