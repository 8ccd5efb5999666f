package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/vigil-db/vigil/internal/app"
	"github.com/vigil-db/vigil/pkg/mysql"
	"github.com/vigil-db/vigil/pkg/process"
)

// serveFlags are the flags of vigil when it runs the services.
type serveFlags struct {
	configPath, services, storeURL, dataDir, seeds, logLevel string
}

// newServeFlags defines the flags of vigil when it runs the services. Its
// usage, printed for -h and for vigil help, lists the commands and then
// these flags, to w.
func newServeFlags(w io.Writer, getenv func(string) string) (*flag.FlagSet, *serveFlags) {
	var f serveFlags
	fs := flag.NewFlagSet("vigil", flag.ContinueOnError)
	fs.SetOutput(w)
	fs.StringVar(&f.configPath, "config", getenv("VIGIL_CONFIG"), "YAML configuration `file` (env VIGIL_CONFIG)")
	fs.StringVar(&f.services, "services", "", "comma-separated `list` of services to run: discovery,analyzer,recovery,gateway (default all)")
	fs.StringVar(&f.storeURL, "store", "", "store `url`: postgres:// or postgresql://, sqlite:///path/vigil.db, or \"memory\" (default the embedded store in --data-dir); prefer env VIGIL_STORE_URL when the URL holds a password")
	fs.StringVar(&f.dataDir, "data-dir", "", "`directory` of the embedded store, used when no store is given (default "+app.DefaultDataDir+")")
	fs.StringVar(&f.seeds, "seed", "", "comma-separated `list` of host:port of instances to discover at start")
	fs.StringVar(&f.logLevel, "log-level", "", "log `level`: debug, info, warn or error (default info)")
	fs.Usage = func() {
		fmt.Fprint(w, usage, "\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprint(w, "\nMySQL credentials come from VIGIL_MYSQL_USER and VIGIL_MYSQL_PASSWORD, or VIGIL_MYSQL_CREDENTIALS_FILE.\n")
	}
	return fs, &f
}

// runServices runs the configured services until ctx is done.
func runServices(ctx context.Context, args []string, stderr io.Writer, getenv func(string) string) error {
	fs, f := newServeFlags(stderr, getenv)
	if err := process.ParseFlags(fs, args); err != nil {
		return err
	}

	cfg, err := app.LoadConfig(f.configPath, getenv)
	if err != nil {
		return err
	}
	if f.services != "" && f.services != "all" {
		cfg.Services = strings.Split(f.services, ",")
	}
	if f.storeURL != "" {
		cfg.Store = f.storeURL
	}
	if f.dataDir != "" {
		cfg.DataDir = f.dataDir
	}
	if f.seeds != "" {
		cfg.Discovery.Seeds = append(cfg.Discovery.Seeds, strings.Split(f.seeds, ",")...)
	}
	if f.logLevel != "" {
		cfg.LogLevel = f.logLevel
	}
	var creds mysql.Credentials
	if cfg.Runs(app.Discovery) || cfg.Runs(app.Recovery) {
		if creds, err = mysql.LoadCredentials(getenv); err != nil {
			return fmt.Errorf("MySQL credentials: %w", err)
		}
	}
	if cfg.Runs(app.Recovery) {
		repl, ok, err := mysql.LoadReplicationCredentials(getenv)
		if err != nil {
			return err
		}
		if ok {
			cfg.Recovery.Replication = &repl
		}
	}
	log := newLogger(stderr, cfg.LogLevel)
	a, err := app.Start(ctx, cfg, creds, log)
	if err != nil {
		return err
	}
	return a.Wait(ctx)
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}
