// Command vigil-analyzer runs Vigil's analyzer on its own: it follows the
// snapshot streams of every discovery member, builds the replication graph of
// each cluster and serves topology queries over gRPC.
//
// It reads the store, coordinator, log_level and analyzer keys of the shared Vigil
// configuration file; VIGIL_STORE_URL overrides store, flags override the
// file.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	coordbackend "github.com/vigil-db/vigil/pkg/coord/backend"
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
	cfg := analyzer.DefaultConfig()
	cmd := process.NewCommand("vigil-analyzer", "analyzer", getenv, stderr)
	cmd.Override("listen", "gRPC listen `address`, overriding analyzer.listen", func(v string) { cfg.ListenAddr = v })
	cmd.Override("discovery", "comma-separated gRPC `addresses` of every discovery member, replacing analyzer.discovery_addrs (empty: follow the members registered on the coordinator)", func(v string) {
		cfg.DiscoveryAddrs = strings.Split(v, ",")
	})
	shared, err := cmd.Load(args, &cfg)
	if err != nil {
		return err
	}
	if err := process.CheckServiceStore(shared.Store); err != nil {
		return err
	}

	st, err := backend.Open(ctx, shared.Store)
	if err != nil {
		return err
	}
	defer st.Close()
	c, err := coordbackend.Open(shared.Coordinator)
	if err != nil {
		return err
	}
	defer c.Close()
	svc, err := analyzer.New(cfg, analyzer.Deps{Store: st, Coordinator: c, Logger: shared.Logger})
	if err != nil {
		return err
	}
	lis, err := cmd.Listen(cfg.ListenAddr)
	if err != nil {
		return err
	}
	log := shared.Logger.With("service", "analyzer", "discovery", strings.Join(cfg.DiscoveryAddrs, ","))
	return process.ServeGRPC(ctx, lis, svc, log, ready)
}
