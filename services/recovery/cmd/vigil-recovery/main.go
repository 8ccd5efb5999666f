// Command vigil-recovery runs Vigil's recovery service on its own: it acts on
// failure events from the analyzers and runs planned topology operations,
// serving its API over gRPC.
//
// It reads the store, log_level and recovery keys of the shared Vigil
// configuration file; VIGIL_STORE_URL overrides store, flags override the
// file.
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
	"github.com/vigil-db/vigil/pkg/grpcx"
	"github.com/vigil-db/vigil/pkg/store/backend"
	"github.com/vigil-db/vigil/services/recovery"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stderr, nil)
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		fmt.Fprintln(os.Stderr, "vigil-recovery:", oneLine(err))
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "vigil-recovery:", oneLine(err))
		os.Exit(1)
	}
}

// errUsage marks errors in how the command was called.
var errUsage = errors.New("usage")

// run serves recovery until ctx is done. ready, when not nil, is called with
// the bound gRPC address before serving starts.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer, ready func(addr string)) error {
	fs := flag.NewFlagSet("vigil-recovery", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", getenv("VIGIL_CONFIG"), "YAML configuration `file` (env VIGIL_CONFIG)")
	listen := fs.String("listen", "", "gRPC listen `address`, overriding recovery.listen")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}

	storeURL, logLevel, cfg := "", "info", recovery.DefaultConfig()
	if *configPath != "" {
		sections := map[string]any{"store": &storeURL, "log_level": &logLevel, "recovery": &cfg}
		if err := config.LoadSections(*configPath, sections); err != nil {
			return err
		}
	}
	if v := getenv("VIGIL_STORE_URL"); v != "" {
		storeURL = v
	}
	if *listen != "" {
		cfg.ListenAddr = *listen
	}
	logger, err := newLogger(stderr, logLevel)
	if err != nil {
		return err
	}
	if storeURL == "" {
		return errors.New(`store: not set; give a PostgreSQL URL or "memory" in the config file or VIGIL_STORE_URL`)
	}
	if err := cfg.Validate(); err != nil {
		return err
	}

	st, err := backend.Open(ctx, storeURL)
	if err != nil {
		return err
	}
	defer st.Close()
	svc, err := recovery.New(cfg, recovery.Deps{Store: st, Logger: logger})
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("recovery.listen: %w", err)
	}
	srv := grpcx.NewServer()
	svc.Register(srv.GRPC)
	log := logger.With("service", "recovery")
	log.Info("serving gRPC", "addr", lis.Addr().String())
	if ready != nil {
		ready(lis.Addr().String())
	}
	err = srv.ServeWith(ctx, lis, grpcx.DefaultStopTimeout, svc.Run)
	log.Info("stopped")
	return err
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
