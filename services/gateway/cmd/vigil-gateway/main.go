// Command vigil-gateway serves Vigil's REST API, OpenAPI document and health
// endpoints in front of the discovery, analyzer and recovery services.
//
// It reads the log_level and gateway keys of the shared Vigil configuration
// file; flags override the file.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/vigil-db/vigil/pkg/process"
	"github.com/vigil-db/vigil/services/gateway"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stderr, nil)
	stop()
	process.Exit("vigil-gateway", err)
}

// run serves the gateway until ctx is done. ready, when not nil, is called
// with the bound HTTP address before serving starts.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer, ready func(addr string)) error {
	cfg := gateway.DefaultConfig()
	cmd := process.NewCommand("vigil-gateway", "gateway", getenv, stderr)
	for _, o := range []struct {
		flag, usage string
		field       *string
	}{
		{"listen", "HTTP listen `address`, overriding gateway.listen", &cfg.ListenAddr},
		{"discovery", "discovery gRPC `address`, overriding gateway.discovery_addr", &cfg.DiscoveryAddr},
		{"analyzer", "analyzer gRPC `address`, overriding gateway.analyzer_addr", &cfg.AnalyzerAddr},
		{"recovery", "recovery gRPC `address`, overriding gateway.recovery_addr", &cfg.RecoveryAddr},
	} {
		cmd.Override(o.flag, o.usage, func(v string) { *o.field = v })
	}
	shared, err := cmd.Load(args, &cfg)
	if err != nil {
		return err
	}

	lis, err := cmd.Listen(cfg.ListenAddr)
	if err != nil {
		return err
	}
	svc, err := gateway.New(cfg, shared.Logger)
	if err != nil {
		lis.Close()
		return err
	}
	if ready != nil {
		ready(lis.Addr().String())
	}
	return svc.Run(ctx, lis)
}
