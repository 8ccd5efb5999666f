// Command vigilctl is the command line client of Vigil. It talks gRPC to the
// discovery, analyzer and recovery services, and accepts both subcommands
// (vigilctl which-master -i host:port) and orchestrator-client style
// (vigilctl -c which-master -i host:port).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(report(err, os.Stderr))
}
