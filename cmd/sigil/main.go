// Command sigil is Sigil's one binary: the server (`sigil serve`), its
// operations (`sigil keys rotate`) and a client for the flows of API.md
// §10.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes (API.md §10).
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// usageError marks a mistake in how the command was called (exit 2).
type usageError struct{ error }

// run executes the CLI and maps the outcome to an exit code: 0, 1 with a
// one-line error on stderr, or 2 for a usage error.
func run(args []string, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	msg := strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; ")
	fmt.Fprintln(stderr, "sigil: "+msg)
	var ue usageError
	if errors.As(err, &ue) || strings.HasPrefix(err.Error(), "unknown command") {
		return exitUsage
	}
	return exitFailure
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "sigil",
		Short:         "Sigil: authentication in front of your APIs",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newServeCmd())
	root.AddCommand(newProxyCmd())
	root.AddCommand(newAdminCmd())
	for _, c := range clientCommands() {
		root.AddCommand(c)
	}
	return root
}

// args wraps a cobra positional-argument check so that its failures are
// usage errors.
func args(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if err := check(cmd, a); err != nil {
			return usageError{err}
		}
		return nil
	}
}
