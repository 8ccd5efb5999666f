// Command vigil runs Vigil: all four services in one process by default, or
// the subset named with --services. It also starts local sandbox topologies
// (vigil sandbox), runs the demo (vigil demo) and measures probing (vigil bench).
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/vigil-db/vigil/pkg/process"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	process.Exit("vigil", err)
}

// errUsage marks errors in how vigil was called; process.Exit exits 2 for
// them.
var errUsage = process.ErrUsage

const usage = `Usage:
  vigil [flags]                 run the services (all by default)
  vigil demo [flags]            start a sandbox topology, discover it, print it, serve until Ctrl-C
  vigil sandbox up|down|status  manage a local MariaDB sandbox topology
  vigil store copy --from URL --to URL
                                copy the durable state into an empty store (embedded to PostgreSQL)
  vigil bench probe [flags]     measure probe cost against a sandbox topology
  vigil bench detect [flags]    measure failure detection latency against a sandbox topology
  vigil bench failover [flags]  measure automated failover against fresh sandbox topologies
  vigil bench takeover [flags]  measure write unavailability of graceful master takeovers
  vigil bench fleet [flags]     measure discovery and analysis at scale on a simulated fleet
  vigil bench simfleet [flags]  serve a simulated fleet (for bench fleet) until interrupted

Run "vigil <command> -h" for the flags of a command.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) > 0 {
		switch args[0] {
		case "demo":
			return runDemo(ctx, args[1:], stdout, stderr, getenv)
		case "sandbox":
			return runSandbox(ctx, args[1:], stdout, stderr)
		case "bench":
			return runBench(ctx, args[1:], stdout, stderr)
		case "store":
			return runStore(ctx, args[1:], stdout, stderr, getenv)
		case "help", "-h", "--help":
			fs, _ := newServeFlags(stdout, getenv)
			fs.Usage()
			return nil
		}
	}
	return runServices(ctx, args, stderr, getenv)
}
