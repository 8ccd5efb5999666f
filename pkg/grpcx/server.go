package grpcx

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
)

// DefaultStopTimeout bounds how long a graceful stop may wait for open calls
// and streams before the server is stopped hard.
const DefaultStopTimeout = 5 * time.Second

// Server is a gRPC server with the standard health service and reflection.
type Server struct {
	GRPC   *grpc.Server
	Health *health.Server
	// ready, when set, holds back SERVING until it is closed.
	ready <-chan struct{}
}

// Readiness is implemented by a service that cannot answer as soon as it
// serves, because it must first catch up with others.
type Readiness interface {
	// Ready is closed once the service can answer calls.
	Ready() <-chan struct{}
	// NotReady says why it cannot answer yet.
	NotReady() error
}

// NewServerFor returns a server for svc: when svc implements Readiness, calls
// to it (but not health checks or reflection) answer Unavailable with its
// reason until it is ready, and its health says NOT_SERVING until then.
func NewServerFor(svc any, opts ...grpc.ServerOption) *Server {
	r, ok := svc.(Readiness)
	if !ok {
		return NewServer(opts...)
	}
	gate := func(method string) error {
		if strings.HasPrefix(method, "/grpc.health.") || strings.HasPrefix(method, "/grpc.reflection.") {
			return nil
		}
		select {
		case <-r.Ready():
			return nil
		default:
			return status.Error(codes.Unavailable, r.NotReady().Error())
		}
	}
	opts = append(opts,
		grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
			if err := gate(info.FullMethod); err != nil {
				return nil, err
			}
			return handler(ctx, req)
		}),
		grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
			if err := gate(info.FullMethod); err != nil {
				return err
			}
			return handler(srv, ss)
		}),
	)
	s := NewServer(opts...)
	s.ready = r.Ready()
	return s
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
	setAll := func(st healthpb.HealthCheckResponse_ServingStatus) {
		for name := range s.GRPC.GetServiceInfo() {
			s.Health.SetServingStatus(name, st)
		}
		s.Health.SetServingStatus("", st)
	}
	if s.ready == nil {
		setAll(healthpb.HealthCheckResponse_SERVING)
	} else {
		setAll(healthpb.HealthCheckResponse_NOT_SERVING)
		go func() { // ends with ctx at the latest; Health ignores it after Shutdown
			select {
			case <-s.ready:
				setAll(healthpb.HealthCheckResponse_SERVING)
			case <-ctx.Done():
			}
		}()
	}

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
