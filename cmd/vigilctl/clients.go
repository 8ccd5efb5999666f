package main

import (
	"fmt"

	"google.golang.org/grpc"

	"github.com/vigil-db/vigil/pkg/grpcx"
	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
	discoveryv1 "github.com/vigil-db/vigil/proto/vigil/discovery/v1"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// clients holds the connections a command opened, one per address, so a
// command only connects to the services it uses.
type clients struct {
	conns map[string]*grpc.ClientConn
}

func (c *clients) conn(service, addr string) (*grpc.ClientConn, error) {
	if conn, ok := c.conns[addr]; ok {
		return conn, nil
	}
	conn, err := grpcx.Dial(addr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", service, err)
	}
	if c.conns == nil {
		c.conns = make(map[string]*grpc.ClientConn)
	}
	c.conns[addr] = conn
	return conn, nil
}

func (c *clients) close() {
	for _, conn := range c.conns {
		_ = conn.Close()
	}
}

// topology returns a TopologyService client on the analyzer.
func (inv *invocation) topology() (topologyv1.TopologyServiceClient, error) {
	conn, err := inv.conns.conn("analyzer", inv.opts.analyzerAddr)
	if err != nil {
		return nil, err
	}
	return topologyv1.NewTopologyServiceClient(conn), nil
}

// analyzer returns an AnalyzerService client on the analyzer.
func (inv *invocation) analyzer() (analyzerv1.AnalyzerServiceClient, error) {
	conn, err := inv.conns.conn("analyzer", inv.opts.analyzerAddr)
	if err != nil {
		return nil, err
	}
	return analyzerv1.NewAnalyzerServiceClient(conn), nil
}

// discovery returns a DiscoveryService client.
func (inv *invocation) discovery() (discoveryv1.DiscoveryServiceClient, error) {
	conn, err := inv.conns.conn("discovery", inv.opts.discoveryAddr)
	if err != nil {
		return nil, err
	}
	return discoveryv1.NewDiscoveryServiceClient(conn), nil
}

// recovery returns a RecoveryService client.
func (inv *invocation) recovery() (recoveryv1.RecoveryServiceClient, error) {
	conn, err := inv.conns.conn("recovery", inv.opts.recoveryAddr)
	if err != nil {
		return nil, err
	}
	return recoveryv1.NewRecoveryServiceClient(conn), nil
}
