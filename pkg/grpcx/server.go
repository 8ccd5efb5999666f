package grpcx

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
)

// DefaultStopTimeout bounds how long a graceful stop may wait for open calls
// and streams before the server is stopped hard.
const DefaultStopTimeout = 5 * time.Second

// Server is a gRPC server with the standard health service and reflection.
type Server struct {
	GRPC   *grpc.Server
	Health *health.Server
}

// NewServer returns a server with health (NOT_SERVING until Serve runs) and
// reflection registered. Register the service implementations on s.GRPC.
func NewServer(opts ...grpc.ServerOption) *Server {
	s := &Server{GRPC: grpc.NewServer(opts...), Health: health.NewServer()}
	healthpb.RegisterHealthServer(s.GRPC, s.Health)
	reflection.Register(s.GRPC)
	s.Health.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	return s
}

// Serve serves on lis until ctx is done, then reports NOT_SERVING, stops
// accepting calls and waits up to stopTimeout for open calls and streams
// before stopping hard. It returns nil after a shutdown asked for by ctx.
func (s *Server) Serve(ctx context.Context, lis net.Listener, stopTimeout time.Duration) error {
	for name := range s.GRPC.GetServiceInfo() {
		s.Health.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	}
	s.Health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)

	served := make(chan error, 1)
	go func() { served <- s.GRPC.Serve(lis) }()

	select {
	case err := <-served:
		s.Health.Shutdown()
		if err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			return fmt.Errorf("serve gRPC on %s: %w", lis.Addr(), err)
		}
		return nil
	case <-ctx.Done():
	}

	s.Health.Shutdown()
	stopped := make(chan struct{})
	go func() {
		s.GRPC.GracefulStop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(stopTimeout):
		s.GRPC.Stop()
		<-stopped
	}
	<-served
	return nil
}

// ServeWith serves on lis and runs a service's background work alongside.
// When ctx is done or either of them ends, both are stopped; it returns once
// both have.
func (s *Server) ServeWith(ctx context.Context, lis net.Listener, stopTimeout time.Duration, work func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workErr := make(chan error, 1)
	go func() {
		workErr <- work(ctx)
		cancel()
	}()
	serveErr := s.Serve(ctx, lis, stopTimeout)
	cancel()
	return errors.Join(<-workErr, serveErr)
}
