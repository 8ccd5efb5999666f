package main

import (
	"context"

	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// instanceKey returns the instance given with -i, which the command needs.
func (inv *invocation) instanceKey() (*topologyv1.InstanceKey, error) {
	if inv.opts.instance == "" {
		return nil, usagef("%s: -i host:port is required", inv.cmd.name)
	}
	k, err := topology.ParseInstanceKey(inv.opts.instance)
	if err != nil {
		return nil, usagef("-i: %v", err)
	}
	return k.Proto(), nil
}

// clusterOrInstance returns what the command is about: a cluster (--cluster)
// or an instance (-i), exactly one of them.
func (inv *invocation) clusterOrInstance() (string, *topologyv1.InstanceKey, error) {
	switch {
	case inv.opts.cluster != "" && inv.opts.instance != "":
		return "", nil, usagef("%s: give --cluster or -i, not both", inv.cmd.name)
	case inv.opts.cluster != "":
		return inv.opts.cluster, nil, nil
	case inv.opts.instance != "":
		k, err := inv.instanceKey()
		return "", k, err
	default:
		return "", nil, usagef("%s: --cluster or -i host:port is required", inv.cmd.name)
	}
}

// clusterName returns the cluster given with --cluster (a name or alias,
// which the services accept as they are) or, given -i, the name of the
// instance's cluster, asked of the analyzer. Arguments are checked before
// anything is asked.
func (inv *invocation) clusterName(ctx context.Context, client topologyv1.TopologyServiceClient) (string, error) {
	cluster, key, err := inv.clusterOrInstance()
	if err != nil || cluster != "" {
		return cluster, err
	}
	resp, err := client.GetInstanceCluster(ctx, &topologyv1.GetInstanceClusterRequest{Instance: key})
	if err != nil {
		return "", err
	}
	return resp.GetCluster().GetName(), nil
}
