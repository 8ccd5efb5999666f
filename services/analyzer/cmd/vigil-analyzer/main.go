// Command vigil-analyzer runs Vigil's analyzer on its own: it follows the
// snapshot streams of every discovery member, builds the replication graph of
// each cluster and serves topology queries over gRPC.
//
// It reads the store, log_level and analyzer keys of the shared Vigil
// configuration file; VIGIL_STORE_URL overrides store, flags override the
// file.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/vigil-db/vigil/pkg/process"
	"github.com/vigil-db/vigil/pkg/store/backend"
	"github.com/vigil-db/vigil/services/analyzer"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stderr, nil)
	stop()
	process.Exit("vigil-analyzer", err)
}

// run serves the analyzer until ctx is done. ready, when not nil, is called
// with the bound gRPC address before serving starts.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer, ready func(addr string)) error {
	fs := flag.NewFlagSet("vigil-analyzer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", getenv("VIGIL_CONFIG"), "YAML configuration `file` (env VIGIL_CONFIG)")
	listen := fs.String("listen", "", "gRPC listen `address`, overriding analyzer.listen")
	discoveryAddrs := fs.String("discovery", "", "comma-separated gRPC `addresses` of every discovery member, replacing analyzer.discovery_addrs")
	if err := process.ParseFlags(fs, args); err != nil {
		return err
	}

	cfg := analyzer.DefaultConfig()
	shared, err := process.LoadShared(*configPath, getenv, "analyzer", &cfg)
	if err != nil {
		return err
	}
	if *listen != "" {
		cfg.ListenAddr = *listen
	}
	if *discoveryAddrs != "" {
		cfg.DiscoveryAddrs = strings.Split(*discoveryAddrs, ",")
	}
	logger, err := process.NewLogger(stderr, shared.LogLevel)
	if err != nil {
		return err
	}
	if shared.Store == "" {
		return process.ErrNoStore
	}
	if err := cfg.Validate(); err != nil {
		return err
	}

	st, err := backend.Open(ctx, shared.Store)
	if err != nil {
		return err
	}
	defer st.Close()
	svc, err := analyzer.New(cfg, analyzer.Deps{Store: st, Logger: logger})
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("analyzer.listen: %w", err)
	}
	log := logger.With("service", "analyzer", "discovery", strings.Join(cfg.DiscoveryAddrs, ","))
	return process.ServeGRPC(ctx, lis, svc, log, ready)
}
