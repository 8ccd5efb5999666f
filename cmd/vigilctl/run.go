package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vigil-db/vigil/pkg/topology"
)

// Default service addresses: the single-node, all-in-one layout.
const (
	defaultAnalyzerAddr  = "127.0.0.1:7102"
	defaultDiscoveryAddr = "127.0.0.1:7101"
	defaultRecoveryAddr  = "127.0.0.1:7103"
	defaultTimeout       = 10 * time.Second
	// defaultLimit bounds the history commands print.
	defaultLimit = 50
)

// options is the parsed command line. Every flag is accepted anywhere, before
// or after the command, with one or two dashes.
type options struct {
	analyzerAddr  string
	discoveryAddr string
	recoveryAddr  string
	timeout       time.Duration
	json          bool

	command     string // -c, orchestrator-client style
	instance    string // -i host:port
	destination string // -d host:port; parsed for the commands that will use it
	cluster     string // --cluster, --alias, -a: cluster name or alias
	pattern     string
	broken      bool
	duration    string // --duration, a Go duration; parsed by the commands that use it
	owner       string // --owner; the caller when empty
	reason      string
	limit       int
	id          string // --id: a recovery id
	detection   string // --detection: a detection id
	// promotionRule is --promotion-rule; parsed by register-candidate.
	promotionRule string
	args          []string // positional arguments after the command name

	// caller names who asks, for the audit of mutating calls.
	caller string
}

// run executes one vigilctl command line. Output goes to stdout only when the
// command succeeded; errors are returned for the caller to report once.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs, opts := newFlagSet(getenv)
	positional, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return writeUsage(stdout)
	}
	if err != nil {
		return usagef("%v", err)
	}
	if opts.command == "" {
		if len(positional) == 0 {
			return usagef("no command given")
		}
		opts.command, positional = positional[0], positional[1:]
	}
	opts.args = positional
	opts.caller = envOr(getenv, "USER", envOr(getenv, "LOGNAME", "vigilctl"))

	name := normalizeCommand(opts.command)
	if name == "help" {
		return writeHelp(stdout, opts.args)
	}
	cmd, ok := lookupCommand(name)
	if !ok {
		return usagef("unknown command %q", opts.command)
	}
	if err := opts.check(cmd); err != nil {
		return err
	}
	if opts.timeout <= 0 {
		return usagef("--timeout %s: must be positive", opts.timeout)
	}

	// A command that follows a stream runs until ctx is done; the others
	// are bounded by --timeout.
	if !cmd.follows {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.timeout)
		defer cancel()
	}
	inv := &invocation{opts: opts, cmd: cmd, stdout: stdout}
	defer inv.close()
	if err := cmd.run(ctx, inv); err != nil {
		return err
	}
	_, err = stdout.Write(inv.out.Bytes())
	return err
}

func newFlagSet(getenv func(string) string) (*flag.FlagSet, *options) {
	opts := &options{}
	fs := flag.NewFlagSet("vigilctl", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&opts.analyzerAddr, "analyzer", envOr(getenv, "VIGIL_ANALYZER_ADDR", defaultAnalyzerAddr), "analyzer gRPC `address` (env VIGIL_ANALYZER_ADDR)")
	fs.StringVar(&opts.discoveryAddr, "discovery", envOr(getenv, "VIGIL_DISCOVERY_ADDR", defaultDiscoveryAddr), "discovery gRPC `address` (env VIGIL_DISCOVERY_ADDR)")
	fs.StringVar(&opts.recoveryAddr, "recovery", envOr(getenv, "VIGIL_RECOVERY_ADDR", defaultRecoveryAddr), "recovery gRPC `address` (env VIGIL_RECOVERY_ADDR)")
	fs.DurationVar(&opts.timeout, "timeout", defaultTimeout, "bound on the whole command")
	fs.BoolVar(&opts.json, "json", false, "print the response as JSON (protojson) instead of text")

	fs.StringVar(&opts.command, "c", "", "`command` to run (orchestrator-client style)")
	fs.StringVar(&opts.command, "command", "", "same as -c")
	fs.StringVar(&opts.instance, "i", "", "instance as `host:port`")
	fs.StringVar(&opts.instance, "instance", "", "same as -i")
	fs.StringVar(&opts.destination, "d", "", "destination instance as `host:port`")
	fs.StringVar(&opts.destination, "destination", "", "same as -d")
	fs.StringVar(&opts.destination, "s", "", "same as -d")
	fs.StringVar(&opts.cluster, "cluster", "", "cluster `name or alias`")
	fs.StringVar(&opts.cluster, "alias", "", "same as --cluster")
	fs.StringVar(&opts.cluster, "a", "", "same as --cluster")
	fs.StringVar(&opts.pattern, "pattern", "", "only instances whose host:port contains `text`")
	fs.BoolVar(&opts.broken, "broken", false, "only replicas whose replication is broken")
	fs.StringVar(&opts.duration, "duration", "", "how long a downtime lasts, such as 90m or 2h")
	fs.StringVar(&opts.owner, "owner", "", "who owns a downtime (default $USER)")
	fs.StringVar(&opts.reason, "reason", "", "why an instance is downtimed")
	fs.IntVar(&opts.limit, "limit", defaultLimit, "at most this many entries")
	fs.StringVar(&opts.id, "id", "", "recovery `id`")
	fs.StringVar(&opts.detection, "detection", "", "detection `id`, as audit-failure-detection prints it")
	fs.StringVar(&opts.promotionRule, "promotion-rule", "", "must, prefer, neutral, prefer_not or must_not")
	return fs, opts
}

// parseInterleaved parses flags wherever they stand among the positional
// arguments, which it returns in order. After "--" everything is positional.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		consumed := len(args) - fs.NArg()
		if consumed > 0 && args[consumed-1] == "--" {
			return append(positional, fs.Args()...), nil
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// normalizeCommand accepts the older "slave" spellings, as orchestrator does.
func normalizeCommand(name string) string {
	return strings.ReplaceAll(strings.ToLower(name), "slave", "replica")
}

// check validates the arguments against what cmd takes, before any RPC:
// a positional argument fills the command's positional option, and -i and
// -d must be host:port wherever given.
func (o *options) check(cmd *command) error {
	switch {
	case len(o.args) > 1:
		return usagef("%s: unexpected argument %q", cmd.name, o.args[1])
	case len(o.args) == 1 && cmd.positional == "":
		return usagef("%s: unexpected argument %q", cmd.name, o.args[0])
	case len(o.args) == 1:
		target := map[string]*string{"instance": &o.instance, "cluster": &o.cluster, "pattern": &o.pattern}[cmd.positional]
		if *target != "" {
			return usagef("%s: %s given both as an argument and as a flag", cmd.name, cmd.positional)
		}
		*target = o.args[0]
	}
	if cmd.patternFromI && o.pattern == "" && o.instance != "" {
		o.pattern, o.instance = o.instance, ""
	}
	if o.instance != "" {
		if _, err := topology.ParseInstanceKey(o.instance); err != nil {
			return usagef("-i: %v", err)
		}
	}
	if o.destination != "" {
		if _, err := topology.ParseInstanceKey(o.destination); err != nil {
			return usagef("-d: %v", err)
		}
	}
	return nil
}

func envOr(getenv func(string) string, key, fallback string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return fallback
}

// invocation is one command being run: its options, its connections and the
// output it has produced so far. Commands write to out, which is printed
// once they succeed; only a command that follows a stream writes to stdout
// as it goes.
type invocation struct {
	opts   *options
	cmd    *command
	conns  clients
	out    bytes.Buffer
	stdout io.Writer
}

func (inv *invocation) close() { inv.conns.close() }

// errorf returns an error prefixed with the command name.
func (inv *invocation) errorf(format string, args ...any) error {
	return fmt.Errorf("%s: "+format, append([]any{inv.cmd.name}, args...)...)
}
