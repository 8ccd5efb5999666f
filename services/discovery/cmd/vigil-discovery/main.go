// Command vigil-discovery runs Vigil's discovery service on its own: it probes
// MySQL/MariaDB servers, crawls their replication trees and streams snapshots
// to analyzers over gRPC.
//
// It reads the store, coordinator, log_level and discovery keys of the shared Vigil
// configuration file; VIGIL_STORE_URL overrides store, flags override the
// file. MySQL credentials come from VIGIL_MYSQL_USER and VIGIL_MYSQL_PASSWORD,
// or VIGIL_MYSQL_CREDENTIALS_FILE.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	coordbackend "github.com/vigil-db/vigil/pkg/coord/backend"
	"github.com/vigil-db/vigil/pkg/mysql"
	"github.com/vigil-db/vigil/pkg/process"
	"github.com/vigil-db/vigil/pkg/store/backend"
	"github.com/vigil-db/vigil/services/discovery"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stderr, nil)
	stop()
	process.Exit("vigil-discovery", err)
}

// run serves discovery until ctx is done. ready, when not nil, is called with
// the bound gRPC address before serving starts.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer, ready func(addr string)) error {
	cfg := discovery.DefaultConfig()
	cmd := process.NewCommand("vigil-discovery", "discovery", getenv, stderr)
	cmd.Override("listen", "gRPC listen `address`, overriding discovery.listen", func(v string) { cfg.ListenAddr = v })
	cmd.Override("seed", "comma-separated `host:port` list of instances to discover, added to discovery.seeds", func(v string) {
		cfg.Seeds = append(cfg.Seeds, strings.Split(v, ",")...)
	})
	shared, err := cmd.Load(args, &cfg)
	if err != nil {
		return err
	}
	if err := process.CheckServiceStore(shared.Store); err != nil {
		return err
	}
	creds, err := mysql.LoadCredentials(getenv)
	if err != nil {
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
	lis, err := cmd.Listen(cfg.ListenAddr)
	if err != nil {
		return err
	}
	if cfg.AdvertiseAddr == "" {
		cfg.AdvertiseAddr = discovery.DefaultAdvertiseAddr(lis.Addr().String())
	}
	svc, err := discovery.New(cfg, discovery.Deps{Store: st, Coordinator: c, Credentials: creds, Logger: shared.Logger})
	if err != nil {
		lis.Close()
		return err
	}
	return process.ServeGRPC(ctx, lis, svc, shared.Logger.With("service", "discovery"), ready)
}
