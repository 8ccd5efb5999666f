// Command vigil-discovery runs Vigil's discovery service on its own: it probes
// MySQL/MariaDB servers, crawls their replication trees and streams snapshots
// to analyzers over gRPC.
//
// It reads the store, log_level and discovery keys of the shared Vigil
// configuration file; VIGIL_STORE_URL overrides store, flags override the
// file. MySQL credentials come from VIGIL_MYSQL_USER and VIGIL_MYSQL_PASSWORD,
// or VIGIL_MYSQL_CREDENTIALS_FILE.
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
	"github.com/vigil-db/vigil/pkg/mysql"
	"github.com/vigil-db/vigil/pkg/store/backend"
	"github.com/vigil-db/vigil/services/discovery"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stderr, nil)
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		fmt.Fprintln(os.Stderr, "vigil-discovery:", oneLine(err))
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "vigil-discovery:", oneLine(err))
		os.Exit(1)
	}
}

// errUsage marks errors in how the command was called.
var errUsage = errors.New("usage")

// run serves discovery until ctx is done. ready, when not nil, is called with
// the bound gRPC address before serving starts.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer, ready func(addr string)) error {
	fs := flag.NewFlagSet("vigil-discovery", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", getenv("VIGIL_CONFIG"), "YAML configuration `file` (env VIGIL_CONFIG)")
	listen := fs.String("listen", "", "gRPC listen `address`, overriding discovery.listen")
	seeds := fs.String("seed", "", "comma-separated `host:port` list of instances to discover, added to discovery.seeds")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}

	storeURL, logLevel, cfg := "", "info", discovery.DefaultConfig()
	if *configPath != "" {
		sections := map[string]any{"store": &storeURL, "log_level": &logLevel, "discovery": &cfg}
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
	if *seeds != "" {
		cfg.Seeds = append(cfg.Seeds, strings.Split(*seeds, ",")...)
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
	creds, err := mysql.LoadCredentials(getenv)
	if err != nil {
		return err
	}

	st, err := backend.Open(ctx, storeURL)
	if err != nil {
		return err
	}
	defer st.Close()
	svc, err := discovery.New(cfg, discovery.Deps{Store: st, Credentials: creds, Logger: logger})
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("discovery.listen: %w", err)
	}
	srv := grpcx.NewServer()
	svc.Register(srv.GRPC)
	log := logger.With("service", "discovery")
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
