package gateway

import (
	"context"
	"errors"
	"fmt"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"

	"github.com/vigil-db/vigil/pkg/grpcx"
	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
	discoveryv1 "github.com/vigil-db/vigil/proto/vigil/discovery/v1"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// backend is one Vigil service process the gateway forwards to, and the
// gRPC services of it that the REST API exposes.
type backend struct {
	// name is the Vigil service, as named in /readyz.
	name     string
	addr     string
	services []grpcService
	conn     *grpc.ClientConn
}

// grpcService is one gRPC service of a backend.
type grpcService struct {
	// name is the full gRPC service name, whose health /readyz checks.
	name     string
	register func(context.Context, *runtime.ServeMux, *grpc.ClientConn) error
}

// backends lists what the gateway proxies, in /readyz order.
func backends(cfg Config) []*backend {
	return []*backend{
		{
			name: "discovery",
			addr: cfg.DiscoveryAddr,
			services: []grpcService{
				{discoveryv1.DiscoveryService_ServiceDesc.ServiceName, discoveryv1.RegisterDiscoveryServiceHandler},
			},
		},
		{
			name: "analyzer",
			addr: cfg.AnalyzerAddr,
			services: []grpcService{
				{topologyv1.TopologyService_ServiceDesc.ServiceName, topologyv1.RegisterTopologyServiceHandler},
				{analyzerv1.AnalyzerService_ServiceDesc.ServiceName, analyzerv1.RegisterAnalyzerServiceHandler},
			},
		},
		{
			name: "recovery",
			addr: cfg.RecoveryAddr,
			services: []grpcService{
				{recoveryv1.RecoveryService_ServiceDesc.ServiceName, recoveryv1.RegisterRecoveryServiceHandler},
			},
		},
	}
}

// dialBackends gives every backend a client connection, one per distinct
// address, and registers the REST handlers of its services on mux.
// Connections are made lazily by gRPC, so nothing needs to be up yet. On
// error every connection made so far is closed.
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
		for _, s := range b.services {
			// The context only matters for FromEndpoint registration,
			// which this is not: the connections are closed by Run.
			if err := s.register(context.Background(), mux, conn); err != nil {
				return conns, fmt.Errorf("register %s handlers: %w", s.name, err)
			}
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
