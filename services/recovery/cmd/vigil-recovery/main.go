// Command vigil-recovery runs Vigil's recovery service on its own: it acts on
// failure events from the analyzers and runs planned topology operations,
// serving its API over gRPC.
//
// It reads the store, coordinator, log_level and recovery keys of the shared
// Vigil configuration file; VIGIL_STORE_URL and VIGIL_COORDINATOR override
// store and coordinator, flags override the file. The MySQL credentials come
// from the environment, as for discovery.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	coordbackend "github.com/vigil-db/vigil/pkg/coord/backend"
	"github.com/vigil-db/vigil/pkg/mysql"
	"github.com/vigil-db/vigil/pkg/process"
	"github.com/vigil-db/vigil/pkg/store/backend"
	"github.com/vigil-db/vigil/services/recovery"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stderr, nil)
	stop()
	process.Exit("vigil-recovery", err)
}

// run serves recovery until ctx is done. ready, when not nil, is called with
// the bound gRPC address before serving starts.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer, ready func(addr string)) error {
	cfg := recovery.DefaultConfig()
	cmd := process.NewCommand("vigil-recovery", "recovery", getenv, stderr)
	cmd.Override("listen", "gRPC listen `address`, overriding recovery.listen", func(v string) { cfg.ListenAddr = v })
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
	creds, err := mysql.LoadCredentials(getenv)
	if err != nil {
		return err
	}
	c, err := coordbackend.Open(shared.Coordinator)
	if err != nil {
		return err
	}
	defer c.Close()
	svc, err := recovery.New(cfg, recovery.Deps{Store: st, Coordinator: c, Credentials: creds, Logger: shared.Logger})
	if err != nil {
		return err
	}
	lis, err := cmd.Listen(cfg.ListenAddr)
	if err != nil {
		return err
	}
	return process.ServeGRPC(ctx, lis, svc, shared.Logger.With("service", "recovery"), ready)
}
