// Command vigil-gateway serves Vigil's REST API, OpenAPI document and health
// endpoints in front of the discovery, analyzer and recovery services.
//
// It reads the log_level and gateway keys of the shared Vigil configuration
// file; flags override the file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/vigil-db/vigil/pkg/config"
	"github.com/vigil-db/vigil/services/gateway"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stderr, nil)
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		fmt.Fprintln(os.Stderr, "vigil-gateway:", oneLine(err))
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "vigil-gateway:", oneLine(err))
		os.Exit(1)
	}
}

// errUsage marks errors in how the command was called.
var errUsage = errors.New("usage")

// run serves the gateway until ctx is done. ready, when not nil, is called
// with the bound HTTP address before serving starts.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer, ready func(addr string)) error {
	fs := flag.NewFlagSet("vigil-gateway", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", getenv("VIGIL_CONFIG"), "YAML configuration `file` (env VIGIL_CONFIG)")
	listen := fs.String("listen", "", "HTTP listen `address`, overriding gateway.listen")
	discoveryAddr := fs.String("discovery", "", "discovery gRPC `address`, overriding gateway.discovery_addr")
	analyzerAddr := fs.String("analyzer", "", "analyzer gRPC `address`, overriding gateway.analyzer_addr")
	recoveryAddr := fs.String("recovery", "", "recovery gRPC `address`, overriding gateway.recovery_addr")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}

	logLevel, cfg := "info", gateway.DefaultConfig()
	if *configPath != "" {
		if err := config.LoadSections(*configPath, map[string]any{"log_level": &logLevel, "gateway": &cfg}); err != nil {
			return err
		}
	}
	for _, o := range []struct{ flag, field *string }{
		{listen, &cfg.ListenAddr}, {discoveryAddr, &cfg.DiscoveryAddr}, {analyzerAddr, &cfg.AnalyzerAddr}, {recoveryAddr, &cfg.RecoveryAddr},
	} {
		if *o.flag != "" {
			*o.field = *o.flag
		}
	}
	logger, err := newLogger(stderr, logLevel)
	if err != nil {
		return err
	}

	if err := cfg.Validate(); err != nil {
		return err
	}
	lis, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("gateway.listen: %w", err)
	}
	svc, err := gateway.New(cfg, logger)
	if err != nil {
		lis.Close()
		return err
	}
	if ready != nil {
		ready(lis.Addr().String())
	}
	return svc.Run(ctx, lis)
}

// newLogger returns a text logger at level (debug, info, warn or error).
func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	switch level {
	case "debug", "info", "warn", "error":
		_ = l.UnmarshalText([]byte(level))
	default:
		return nil, fmt.Errorf("log_level: %q is not debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// oneLine flattens a multi-line error (joined validation errors, YAML errors)
// into the one line main prints.
func oneLine(err error) string {
	lines := strings.Split(err.Error(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.ReplaceAll(strings.Join(lines, "; "), ":; ", ": ")
}
