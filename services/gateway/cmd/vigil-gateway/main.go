// Command vigil-gateway serves Vigil's REST API, OpenAPI document and health
// endpoints in front of the discovery, analyzer and recovery services.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/vigil-db/vigil/services/gateway"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr, os.Getenv)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		fmt.Fprintln(os.Stderr, "vigil-gateway:", err)
		os.Exit(1)
	}
}

// run parses flags (defaults from VIGIL_* environment variables) and serves
// until ctx is done.
func run(ctx context.Context, args []string, stderr io.Writer, getenv func(string) string) error {
	cfg := gateway.DefaultConfig()
	fs := flag.NewFlagSet("vigil-gateway", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.ListenAddr, "listen", envOr(getenv, "VIGIL_GATEWAY_ADDR", cfg.ListenAddr), "HTTP listen address (env VIGIL_GATEWAY_ADDR)")
	fs.StringVar(&cfg.DiscoveryAddr, "discovery", envOr(getenv, "VIGIL_DISCOVERY_ADDR", cfg.DiscoveryAddr), "discovery gRPC address (env VIGIL_DISCOVERY_ADDR)")
	fs.StringVar(&cfg.AnalyzerAddr, "analyzer", envOr(getenv, "VIGIL_ANALYZER_ADDR", cfg.AnalyzerAddr), "analyzer gRPC address (env VIGIL_ANALYZER_ADDR)")
	fs.StringVar(&cfg.RecoveryAddr, "recovery", envOr(getenv, "VIGIL_RECOVERY_ADDR", cfg.RecoveryAddr), "recovery gRPC address (env VIGIL_RECOVERY_ADDR)")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", cfg.ShutdownTimeout, "how long open requests may run after a stop signal")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	svc, err := gateway.New(cfg, logger)
	if err != nil {
		return err
	}
	return svc.Run(ctx, nil)
}

func envOr(getenv func(string) string, key, fallback string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return fallback
}
