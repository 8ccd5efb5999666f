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

// runServices runs the configured services until ctx is done.
func runServices(ctx context.Context, args []string, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("vigil", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", getenv("VIGIL_CONFIG"), "YAML configuration file (env VIGIL_CONFIG)")
	services := fs.String("services", "", "comma-separated services to run: discovery,analyzer,recovery,gateway (default all)")
	storeURL := fs.String("store", "", "PostgreSQL URL or \"memory\" (prefer env VIGIL_STORE_URL when it holds a password)")
	seeds := fs.String("seed", "", "comma-separated host:port of instances to discover at start")
	logLevel := fs.String("log-level", "", "debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprint(stderr, usage, "\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprint(stderr, "\nMySQL credentials come from VIGIL_MYSQL_USER and VIGIL_MYSQL_PASSWORD, or VIGIL_MYSQL_CREDENTIALS_FILE.\n")
	}
	if err := process.ParseFlags(fs, args); err != nil {
		return err
	}

	cfg, err := app.LoadConfig(*configPath, getenv)
	if err != nil {
		return err
	}
	if *services != "" && *services != "all" {
		cfg.Services = strings.Split(*services, ",")
	}
	if *storeURL != "" {
		cfg.Store = *storeURL
	}
	if *seeds != "" {
		cfg.Discovery.Seeds = append(cfg.Discovery.Seeds, strings.Split(*seeds, ",")...)
	}
	if *logLevel != "" {
		cfg.LogLevel = *logLevel
	}
	var creds mysql.Credentials
	if cfg.Runs(app.Discovery) {
		if creds, err = mysql.LoadCredentials(getenv); err != nil {
			return fmt.Errorf("MySQL credentials: %w", err)
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
