package process

import (
	"context"
	"log/slog"
	"net"

	"google.golang.org/grpc"

	"github.com/vigil-db/vigil/pkg/grpcx"
)

// Service is what ServeGRPC needs of a Vigil service.
type Service interface {
	// Register registers the service's gRPC handlers on s.
	Register(s *grpc.Server)
	// Run does the service's background work until ctx is done.
	Run(ctx context.Context) error
}

// ServeGRPC serves svc on lis, with health and reflection, and runs its
// background work alongside until ctx is done or the work ends; then it stops
// gracefully and returns nil or what went wrong. ready, when not nil, is
// called with the bound address once the handlers are registered, just before
// serving starts.
func ServeGRPC(ctx context.Context, lis net.Listener, svc Service, log *slog.Logger, ready func(addr string)) error {
	srv := grpcx.NewServerFor(svc)
	svc.Register(srv.GRPC)
	addr := lis.Addr().String()
	log.Info("serving gRPC", "addr", addr)
	if ready != nil {
		ready(addr)
	}
	err := srv.ServeWith(ctx, lis, grpcx.DefaultStopTimeout, svc.Run)
	log.Info("stopped")
	return err
}
