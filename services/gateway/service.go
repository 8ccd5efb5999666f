package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"google.golang.org/grpc"
)

// readHeaderTimeout bounds how long a client may take to send request
// headers, against slow-loris connections.
const readHeaderTimeout = 10 * time.Second

// Service is the REST gateway in front of the Vigil services.
type Service struct {
	cfg     Config
	logger  *slog.Logger
	conns   []*grpc.ClientConn
	handler http.Handler
}

// New validates cfg and prepares the gateway: client connections to the
// services (made lazily, so they need not be up yet) and the HTTP handlers.
// A nil logger discards logs.
func New(cfg Config, logger *slog.Logger) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("service", "gateway")
	rest := newRESTMux()
	bs := backends(cfg)
	conns, err := dialBackends(rest, bs)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	return &Service{
		cfg:     cfg,
		logger:  logger,
		conns:   conns,
		handler: logRequests(logger, routes(rest, bs)),
	}, nil
}

// Run serves HTTP on lis (or on cfg.ListenAddr when lis is nil) until ctx is
// done, then stops accepting requests and waits up to cfg.ShutdownTimeout for
// open ones before closing their connections. It closes the connections to
// the services before returning, so a Service runs once. It returns nil after
// a shutdown asked for by ctx.
func (s *Service) Run(ctx context.Context, lis net.Listener) (err error) {
	defer func() {
		if cerr := closeConns(s.conns); cerr != nil && err == nil {
			err = fmt.Errorf("gateway: close backend connections: %w", cerr)
		}
	}()
	if lis == nil {
		lis, err = net.Listen("tcp", s.cfg.ListenAddr)
		if err != nil {
			return fmt.Errorf("gateway: %w", err)
		}
	}
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	s.logger.Info("gateway serving", "address", lis.Addr().String(),
		"discovery", s.cfg.DiscoveryAddr, "analyzer", s.cfg.AnalyzerAddr, "recovery", s.cfg.RecoveryAddr)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()

	select {
	case err := <-served:
		return fmt.Errorf("gateway: serve HTTP on %s: %w", lis.Addr(), err)
	case <-ctx.Done():
	}

	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		s.logger.Warn("gateway shutdown timed out, closing open connections", "timeout", s.cfg.ShutdownTimeout)
		_ = srv.Close()
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("gateway: serve HTTP on %s: %w", lis.Addr(), err)
	}
	s.logger.Info("gateway stopped")
	return nil
}
