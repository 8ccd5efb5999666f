// Package process holds what a Vigil process needs at its edges: its command
// line and the keys of the configuration file every process shares, a logger
// at the configured level, serving a service over gRPC until asked to stop,
// and exiting with one line on stderr and a status that tells a usage error
// from a failure.
package process

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
)

// ErrUsage marks errors in how a command was called; Exit turns them into
// status 2. Wrap it: fmt.Errorf("%w: ...", process.ErrUsage).
var ErrUsage = errors.New("usage")

// ParseFlags parses args with fs, which must use flag.ContinueOnError, and
// rejects positional arguments. Both kinds of error are marked ErrUsage; -h
// gives an error matching flag.ErrHelp, which Exit treats as success.
func ParseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %w", ErrUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", ErrUsage, fs.Arg(0))
	}
	return nil
}

// exitCode is the status Exit ends the process with for err.
func exitCode(err error) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, ErrUsage):
		return 2
	default:
		return 1
	}
}

// Exit ends the process with status 0 for nil or a -h request, 2 for errors
// marked ErrUsage and 1 for any other error, first printing "name: err" as
// one line on stderr when err is a failure.
func Exit(name string, err error) {
	code := exitCode(err)
	if code != 0 {
		fmt.Fprintln(os.Stderr, name+":", OneLine(err))
	}
	os.Exit(code)
}

// OneLine flattens a multi-line error (joined validation errors, YAML errors)
// into one line.
func OneLine(err error) string {
	lines := strings.Split(err.Error(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.ReplaceAll(strings.Join(lines, "; "), ":; ", ": ")
}
