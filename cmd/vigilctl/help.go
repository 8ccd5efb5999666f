package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// writeUsage writes the full help: synopsis, commands and flags.
func writeUsage(w io.Writer) error {
	var b strings.Builder
	b.WriteString(`vigilctl talks to Vigil's services over gRPC.

Usage:
  vigilctl [flags] <command> [arguments]
  vigilctl [flags] -c <command> [-i host:port] [-d host:port] [-alias cluster]

Commands:
`)
	tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	for _, c := range commands {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	fmt.Fprintf(tw, "  help [command]\tshow this help, or how to call one command\n")
	_ = tw.Flush()
	b.WriteString(`
Flags (one or two dashes, before or after the command):
`)
	tw = tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	for _, f := range [][2]string{
		{"-i, --instance host:port", "the instance"},
		{"-d, --destination host:port", "the replica to promote (takeovers, recover)"},
		{"--cluster, --alias, -a name", "the cluster, by name or alias"},
		{"--pattern text", "only instances whose host:port contains text"},
		{"--broken", "only replicas whose replication is broken"},
		{"--duration duration", "how long a downtime or a candidate registration lasts, as a Go duration (90m, 2h, 168h)"},
		{"--owner who", "who owns a downtime (default $USER)"},
		{"--reason text", "why an instance is downtimed, or why recoveries are acknowledged"},
		{"--id id", "a recovery, as audit-recovery lists them"},
		{"--detection id", "a detection, as audit-failure-detection lists them"},
		{"--promotion-rule rule", "must, prefer, neutral, prefer_not or must_not"},
		{"--limit n", fmt.Sprintf("at most n entries of history (default %d)", defaultLimit)},
		{"-c, --command command", "the command to run, orchestrator-client style"},
		{"--json", "print the response as JSON (proto field names) instead of text"},
		{"--timeout duration", fmt.Sprintf("bound on the whole command (default %s); detection-events runs until interrupted", defaultTimeout)},
		{"--analyzer address", fmt.Sprintf("analyzer gRPC address (env VIGIL_ANALYZER_ADDR, default %s)", defaultAnalyzerAddr)},
		{"--discovery address", fmt.Sprintf("discovery gRPC address (env VIGIL_DISCOVERY_ADDR, default %s)", defaultDiscoveryAddr)},
		{"--recovery address", fmt.Sprintf("recovery gRPC address (env VIGIL_RECOVERY_ADDR, default %s)", defaultRecoveryAddr)},
		{"-h, --help", "show this help"},
	} {
		fmt.Fprintf(tw, "  %s\t%s\n", f[0], f[1])
	}
	_ = tw.Flush()
	b.WriteString(`
Errors from the services are printed as "vigilctl: <code>: <message>". Exit status:
0 on success, 1 on error, 2 on a usage error.
`)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeHelp writes the full help, or one command's when args names it.
func writeHelp(w io.Writer, args []string) error {
	switch len(args) {
	case 0:
		return writeUsage(w)
	case 1:
	default:
		return usagef("help: unexpected argument %q", args[1])
	}
	c, ok := lookupCommand(normalizeCommand(args[0]))
	if !ok {
		return usagef("unknown command %q", args[0])
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: vigilctl %s %s\n", c.name, c.args)
	fmt.Fprintf(&b, "       vigilctl -c %s %s\n\n", c.name, c.args)
	fmt.Fprintf(&b, "%s.\n", strings.ToUpper(c.summary[:1])+c.summary[1:])
	if len(c.aliases) > 0 {
		fmt.Fprintf(&b, "Also called: %s.\n", strings.Join(c.aliases, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
