package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"

	"github.com/vigil-db/vigil/pkg/coord"
	coordbackend "github.com/vigil-db/vigil/pkg/coord/backend"
	"github.com/vigil-db/vigil/pkg/grpcx"
	"github.com/vigil-db/vigil/pkg/mysql"
	"github.com/vigil-db/vigil/pkg/process"
	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/store/backend"
	"github.com/vigil-db/vigil/services/analyzer"
	"github.com/vigil-db/vigil/services/discovery"
	"github.com/vigil-db/vigil/services/gateway"
	"github.com/vigil-db/vigil/services/recovery"
)

// App is a running set of services.
type App struct {
	log    *slog.Logger
	store  store.Store
	coord  coord.Coordinator
	addrs  map[string]string
	parts  []*part
	failed chan error
}

// part is one running service with its own context, so services stop in
// reverse start order.
type part struct {
	name   string
	cancel context.CancelFunc
	done   chan struct{}
}

// Start opens the store, binds every listener, then starts the services in
// order. Listen addresses with port 0 get a free port; a service that talks to
// another one in this process is pointed at its bound address.
func Start(ctx context.Context, cfg Config, creds mysql.Credentials, log *slog.Logger) (*App, error) {
	a := &App{log: log, addrs: make(map[string]string), failed: make(chan error, len(AllServices))}

	listeners := map[string]net.Listener{}
	listenAddrs := map[string]string{
		Discovery: cfg.Discovery.ListenAddr, Analyzer: cfg.Analyzer.ListenAddr,
		Recovery: cfg.Recovery.ListenAddr, Gateway: cfg.Gateway.ListenAddr,
	}
	for _, name := range AllServices {
		if !cfg.Runs(name) {
			continue
		}
		if listenAddrs[name] == "" {
			closeAll(listeners)
			return nil, fmt.Errorf("%s.listen: empty", name)
		}
		lis, err := net.Listen("tcp", listenAddrs[name])
		if err != nil {
			closeAll(listeners)
			return nil, fmt.Errorf("%s: listen on %s: %w", name, listenAddrs[name], err)
		}
		listeners[name] = lis
		a.addrs[name] = lis.Addr().String()
	}
	a.pointAtLocal(&cfg, listenAddrs)
	if bound, ok := a.addrs[Discovery]; ok && cfg.Discovery.AdvertiseAddr == "" {
		cfg.Discovery.AdvertiseAddr = discovery.DefaultAdvertiseAddr(bound)
	}
	if err := cfg.Validate(); err != nil {
		closeAll(listeners)
		return nil, fmt.Errorf("invalid configuration:\n%w", err)
	}
	if cfg.Runs(Discovery) || cfg.Runs(Analyzer) || cfg.Runs(Recovery) {
		url := cfg.StoreURL()
		if path, embedded := backend.SQLitePath(url); embedded {
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				closeAll(listeners)
				return nil, fmt.Errorf("store: data directory for %s: %w", path, err)
			}
		}
		st, err := backend.Open(ctx, url)
		if err != nil {
			closeAll(listeners)
			return nil, err
		}
		a.store = st
	}
	if cfg.Runs(Discovery) || cfg.Runs(Analyzer) || cfg.Runs(Recovery) {
		c, err := coordbackend.Open(cfg.Coordinator)
		if err != nil {
			closeAll(listeners)
			a.closeStore()
			return nil, err
		}
		a.coord = c
	}

	for _, name := range AllServices {
		if lis, ok := listeners[name]; ok {
			if err := a.startService(ctx, name, cfg, creds, lis); err != nil {
				delete(listeners, name)
				closeAll(listeners)
				a.stop()
				a.closeStore()
				return nil, err
			}
			delete(listeners, name)
		}
	}
	return a, nil
}

// pointAtLocal points services at the ones running in this process: an
// address equal to a local service's configured listen address, or left at
// its default, becomes that service's bound address.
func (a *App) pointAtLocal(cfg *Config, configured map[string]string) {
	defaults := DefaultConfig()
	defaultAddr := map[string]string{
		Discovery: defaults.Discovery.ListenAddr, Analyzer: defaults.Analyzer.ListenAddr, Recovery: defaults.Recovery.ListenAddr,
	}
	local := func(addr, service string) string {
		if bound, ok := a.addrs[service]; ok && (addr == configured[service] || addr == defaultAddr[service]) {
			return bound
		}
		return addr
	}
	cfg.Analyzer.DiscoveryAddrs = slices.Clone(cfg.Analyzer.DiscoveryAddrs)
	for i, addr := range cfg.Analyzer.DiscoveryAddrs {
		cfg.Analyzer.DiscoveryAddrs[i] = local(addr, Discovery)
	}
	cfg.Recovery.AnalyzerAddrs = slices.Clone(cfg.Recovery.AnalyzerAddrs)
	for i, addr := range cfg.Recovery.AnalyzerAddrs {
		cfg.Recovery.AnalyzerAddrs[i] = local(addr, Analyzer)
	}
	cfg.Recovery.DiscoveryAddrs = slices.Clone(cfg.Recovery.DiscoveryAddrs)
	for i, addr := range cfg.Recovery.DiscoveryAddrs {
		cfg.Recovery.DiscoveryAddrs[i] = local(addr, Discovery)
	}
	cfg.Gateway.DiscoveryAddr = local(cfg.Gateway.DiscoveryAddr, Discovery)
	cfg.Gateway.AnalyzerAddr = local(cfg.Gateway.AnalyzerAddr, Analyzer)
	cfg.Gateway.RecoveryAddr = local(cfg.Gateway.RecoveryAddr, Recovery)
}

func (a *App) startService(ctx context.Context, name string, cfg Config, creds mysql.Credentials, lis net.Listener) error {
	var run func(context.Context) error
	switch name {
	case Discovery:
		svc, err := discovery.New(cfg.Discovery, discovery.Deps{Store: a.store, Coordinator: a.coord, Credentials: creds, Logger: a.log})
		if err != nil {
			lis.Close()
			return err
		}
		run = grpcService(svc, lis)
	case Analyzer:
		svc, err := analyzer.New(cfg.Analyzer, analyzer.Deps{Store: a.store, Coordinator: a.coord, Logger: a.log})
		if err != nil {
			lis.Close()
			return err
		}
		run = grpcService(svc, lis)
	case Recovery:
		svc, err := recovery.New(cfg.Recovery, recovery.Deps{Store: a.store, Coordinator: a.coord, Credentials: creds, Logger: a.log})
		if err != nil {
			lis.Close()
			return err
		}
		run = grpcService(svc, lis)
	case Gateway:
		svc, err := gateway.New(cfg.Gateway, a.log)
		if err != nil {
			lis.Close()
			return err
		}
		run = func(ctx context.Context) error { return svc.Run(ctx, lis) }
	}

	pctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	p := &part{name: name, cancel: cancel, done: make(chan struct{})}
	a.parts = append(a.parts, p)
	go func() {
		defer close(p.done)
		if err := run(pctx); err != nil {
			a.failed <- fmt.Errorf("%s: %w", name, err)
		}
	}()
	a.log.Info("service started", "service", name, "addr", lis.Addr().String())
	return nil
}

// grpcService serves a gRPC service and runs its background work.
func grpcService(svc process.Service, lis net.Listener) func(context.Context) error {
	return func(ctx context.Context) error {
		srv := grpcx.NewServerFor(svc)
		svc.Register(srv.GRPC)
		return srv.ServeWith(ctx, lis, grpcx.DefaultStopTimeout, svc.Run)
	}
}

// Addr returns the bound address of a running service.
func (a *App) Addr(service string) string { return a.addrs[service] }

// Wait runs until ctx is done or a service fails, then stops every service
// in reverse start order and closes the store.
func (a *App) Wait(ctx context.Context) error {
	var err error
	select {
	case <-ctx.Done():
	case err = <-a.failed:
		a.log.Error("service failed, shutting down", "err", err)
	}
	a.stop()
	a.closeStore()
	return err
}

func (a *App) stop() {
	for i := len(a.parts) - 1; i >= 0; i-- {
		p := a.parts[i]
		p.cancel()
		<-p.done
		a.log.Info("service stopped", "service", p.name)
	}
	a.parts = nil
}

func (a *App) closeStore() {
	if a.coord != nil {
		if err := a.coord.Close(); err != nil {
			a.log.Warn("coordinator not closed cleanly", "err", err)
		}
		a.coord = nil
	}
	if a.store != nil {
		a.store.Close()
		a.store = nil
	}
}

func closeAll(ls map[string]net.Listener) {
	for _, l := range ls {
		l.Close()
	}
}
