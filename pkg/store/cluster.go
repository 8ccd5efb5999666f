package store

import "github.com/vigil-db/vigil/pkg/topology"

// Cluster is one replication tree as the analyzer last named it.
type Cluster struct {
	Name   string
	Alias  string
	Domain string
	// Master is the instance at the top of the tree; zero when unknown.
	Master topology.InstanceKey
	// Members are the instances of the cluster, including the master.
	Members []topology.InstanceKey
}
