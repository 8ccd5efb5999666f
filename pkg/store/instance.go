package store

import (
	"time"

	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// Instance is what is stored of one instance: its latest snapshot and the
// cluster it was last seen in.
type Instance struct {
	Key topology.InstanceKey
	// Snapshot is the latest snapshot by probe_finished.
	Snapshot *topologyv1.Snapshot
	// Cluster is "" until the analyzer assigned one with ReplaceClusters.
	Cluster string
	// FirstSeen is the probe_finished of the first snapshot stored.
	FirstSeen time.Time
	// LastGood is the latest good snapshot saved (topology.IsGood: it
	// reached the instance and says where it stands), whether or not it
	// became Snapshot; nil if no probe ever did. While the instance is down
	// it keeps its place in the topology.
	LastGood *topologyv1.Snapshot
	// LastSeen is LastGood's probe_finished; zero when LastGood is nil.
	LastSeen time.Time
	// UpdatedAt is when the latest snapshot was stored, by the storing
	// process's clock.
	UpdatedAt time.Time
}
