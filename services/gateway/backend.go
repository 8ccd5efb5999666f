package gateway

import (
	"context"
	"errors"
	"fmt"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"

	"github.com/vigil-db/vigil/pkg/grpcx"
	discoveryv1 "github.com/vigil-db/vigil/proto/vigil/discovery/v1"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// backend is one gRPC service the gateway forwards to.
type backend struct {
	// name is the Vigil service that serves it, as named in /readyz.
	name string
	addr string
	// service is the full gRPC service name, whose health /readyz checks.
	service  string
	conn     *grpc.ClientConn
	register func(context.Context, *runtime.ServeMux, *grpc.ClientConn) error
}

// backends lists what the gateway proxies, in /readyz order. AnalyzerService
// joins once the analyzer serves it.
func backends(cfg Config) []*backend {
	return []*backend{
		{
			name:     "discovery",
			addr:     cfg.DiscoveryAddr,
			service:  discoveryv1.DiscoveryService_ServiceDesc.ServiceName,
			register: discoveryv1.RegisterDiscoveryServiceHandler,
		},
		{
			name:     "analyzer",
			addr:     cfg.AnalyzerAddr,
			service:  topologyv1.TopologyService_ServiceDesc.ServiceName,
			register: topologyv1.RegisterTopologyServiceHandler,
		},
		{
			name:     "recovery",
			addr:     cfg.RecoveryAddr,
			service:  recoveryv1.RecoveryService_ServiceDesc.ServiceName,
			register: recoveryv1.RegisterRecoveryServiceHandler,
		},
	}
}

// dialBackends gives every backend a client connection, one per distinct
// address, and registers its REST handlers on mux. Connections are made
// lazily by gRPC, so nothing needs to be up yet. On error every connection
// made so far is closed.
func dialBackends(mux *runtime.ServeMux, bs []*backend) (conns []*grpc.ClientConn, err error) {
	defer func() {
		if err != nil {
			closeConns(conns)
			conns = nil
		}
	}()
	byAddr := make(map[string]*grpc.ClientConn)
	for _, b := range bs {
		conn, ok := byAddr[b.addr]
		if !ok {
			conn, err = grpcx.Dial(b.addr)
			if err != nil {
				return conns, fmt.Errorf("%s: %w", b.name, err)
			}
			byAddr[b.addr] = conn
			conns = append(conns, conn)
		}
		b.conn = conn
		// The context only matters for FromEndpoint registration, which
		// this is not: the connections are closed by Run.
		if err := b.register(context.Background(), mux, conn); err != nil {
			return conns, fmt.Errorf("register %s handlers: %w", b.service, err)
		}
	}
	return conns, nil
}

func closeConns(conns []*grpc.ClientConn) error {
	var errs []error
	for _, c := range conns {
		if err := c.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
