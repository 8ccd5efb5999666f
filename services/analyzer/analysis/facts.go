package analysis

import (
	"time"

	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// Config holds the thresholds the rules use.
type Config struct {
	// ValiditySlack is added to each observer's poll interval to make its
	// validity window: how old its newest probe of an instance may be
	// before the instance counts as hung.
	ValiditySlack time.Duration
	// LagThreshold is the replication lag above which a replica is lagging.
	LagThreshold time.Duration
	// SemiSyncConfirmation is how long a semi-sync master must stay short of
	// acknowledging replicas before it counts as locked.
	SemiSyncConfirmation time.Duration
	// EnforceExactSemiSync makes more ack replicas than wanted a problem.
	EnforceExactSemiSync bool
}

// Input is everything the rules look at for one cluster.
type Input struct {
	Now     time.Time
	Cluster *topology.Cluster
	Graph   *topology.Graph
	// Observations returns what the connected observers last said about key.
	Observations func(key topology.InstanceKey) []Observation
	// LastGood returns the latest snapshot that reached key, or nil.
	LastGood func(key topology.InstanceKey) *topologyv1.Snapshot
	// Downtimed reports whether key is downtimed.
	Downtimed func(key topology.InstanceKey) bool
	// Ignored reports whether key is excluded from analysis.
	Ignored func(key topology.InstanceKey) bool
	// ActiveSince returns when a detection of code on key started, if it is
	// active: rules that need a condition to last (semi-sync locks) use it.
	ActiveSince func(key topology.InstanceKey, code string) (time.Time, bool)
}

// Facts is what the rules know about one instance: its own health and
// state, its place in the tree, and the state of its direct replicas.
type Facts struct {
	Key     topology.InstanceKey
	Cluster string
	Health  Health
	// Snapshot is the latest snapshot that reached the instance (nil if none).
	Snapshot  *topologyv1.Snapshot
	Downtimed bool

	IsMaster       bool // the root of its cluster
	IsCoMaster     bool // the root of a two-member master ring
	IsIntermediate bool // replicates and has replicas
	HasMaster      bool
	// Master is the instance's own master (zero when it has none).
	Master topology.InstanceKey
	// MasterValid and MasterIsRoot describe the instance's own master.
	MasterValid  bool
	MasterIsRoot bool
	// Errant lists transactions the instance executed that its master never had.
	Errant string

	Replicas []ReplicaFacts

	// SemiSyncLockedFor is how long the semi-sync lock hypothesis has held.
	SemiSyncLockedFor time.Duration
}

// ReplicaFacts is what the rules know about one direct replica.
type ReplicaFacts struct {
	Key    topology.InstanceKey
	Health Health
	// Channel is the replica's channel from the analysed instance, as last seen.
	Channel *topologyv1.ReplicationChannel
	Lagging bool
}

// Valid reports whether the instance's health verdict is Valid.
func (f *Facts) Valid() bool { return f.Health.Verdict == Valid }

// channel returns the instance's replication channel from its master, as
// last seen.
func (f *Facts) channel() *topologyv1.ReplicationChannel {
	if !f.HasMaster {
		return nil
	}
	return channelFrom(f.Snapshot, f.Master)
}

// Replicating reports whether both threads of the channel run.
func (r ReplicaFacts) Replicating() bool {
	return r.Channel.GetIoThread() == topologyv1.ThreadState_THREAD_STATE_YES &&
		r.Channel.GetSqlThread() == topologyv1.ThreadState_THREAD_STATE_YES
}

// Valid reports whether the replica's health verdict is Valid.
func (r ReplicaFacts) Valid() bool { return r.Health.Verdict == Valid }

// Connecting reports whether the replica says it cannot reach its source.
func (r ReplicaFacts) Connecting() bool {
	return r.Channel.GetIoThread() == topologyv1.ThreadState_THREAD_STATE_CONNECTING
}

// counts summarises the direct replicas. Only valid replicas speak about
// replication: a replica Vigil cannot read says nothing.
type counts struct {
	all, valid, replicating, connecting, lagging, ioUp int
}

func (f *Facts) counts() counts {
	var c counts
	for _, r := range f.Replicas {
		c.all++
		if !r.Valid() {
			continue
		}
		c.valid++
		if r.Replicating() {
			c.replicating++
		}
		if r.Connecting() {
			c.connecting++
		}
		if r.Channel.GetIoThread() == topologyv1.ThreadState_THREAD_STATE_YES {
			c.ioUp++
			if r.Lagging {
				c.lagging++
			}
		}
	}
	return c
}

// buildFacts gathers the facts of every instance of the cluster.
func buildFacts(in Input, cfg Config) []*Facts {
	health := make(map[topology.InstanceKey]Health, len(in.Cluster.Members))
	for _, key := range in.Cluster.Members {
		health[key] = judge(in.Observations(key), in.Now, cfg.ValiditySlack, in.LastGood(key) != nil)
	}
	ring := isRing(in.Graph, in.Cluster.Master)

	members := in.Cluster.Members
	if _, ok := in.Graph.Nodes[in.Cluster.Master]; !ok {
		// A master never observed is no member; it is still analysed.
		members = append([]topology.InstanceKey{in.Cluster.Master}, members...)
	}
	var out []*Facts
	for _, key := range members {
		n := nodeOf(in.Graph, key)
		f := &Facts{
			Key:       key,
			Cluster:   in.Cluster.Name,
			Health:    health[key],
			Snapshot:  in.LastGood(key),
			Downtimed: in.Downtimed(key),
			IsMaster:  key == in.Cluster.Master,
			HasMaster: !n.Master.IsZero(),
			Master:    n.Master,
		}
		f.IsCoMaster = f.IsMaster && ring
		f.IsIntermediate = f.HasMaster && !f.IsMaster && len(n.Replicas) > 0
		if f.HasMaster {
			f.MasterValid = health[n.Master].Verdict == Valid
			f.MasterIsRoot = n.Master == in.Cluster.Master
			f.Errant = errantGTIDs(f.Snapshot, in.LastGood(n.Master), in.Graph, n.Master)
		}
		for _, rk := range n.Replicas {
			snap := in.LastGood(rk)
			r := ReplicaFacts{Key: rk, Health: health[rk], Channel: channelFrom(snap, key)}
			if lag := r.Channel.GetSecondsBehindSource(); r.Channel != nil && r.Channel.SecondsBehindSource != nil {
				// A delayed replica is behind on purpose.
				behind := time.Duration(lag-int64(r.Channel.GetSqlDelay())) * time.Second
				r.Lagging = behind > cfg.LagThreshold
			}
			f.Replicas = append(f.Replicas, r)
		}
		// The lock counts from when the hypothesis started; once confirmed it
		// stays confirmed while the condition holds.
		if _, ok := in.ActiveSince(key, CodeLockedSemiSyncMaster); ok {
			f.SemiSyncLockedFor = cfg.SemiSyncConfirmation
		} else if since, ok := in.ActiveSince(key, CodeLockedSemiSyncMasterHypothesis); ok {
			f.SemiSyncLockedFor = in.Now.Sub(since)
		}
		out = append(out, f)
	}
	return out
}

// nodeOf returns the graph node of key, or for a master that was never
// observed a node listing the instances that name it as their source.
func nodeOf(g *topology.Graph, key topology.InstanceKey) *topology.Node {
	if n, ok := g.Nodes[key]; ok {
		return n
	}
	n := &topology.Node{Key: key}
	for k, other := range g.Nodes {
		if other.Master == key {
			n.Replicas = append(n.Replicas, k)
		}
	}
	topology.SortKeys(n.Replicas)
	return n
}

// channelFrom returns the replica's channel whose source is master, from its
// latest good snapshot; the snapshot of a replica that is not valid is the
// last thing it said.
func channelFrom(snap *topologyv1.Snapshot, master topology.InstanceKey) *topologyv1.ReplicationChannel {
	for _, ch := range snap.GetChannels() {
		if k, err := topology.KeyFromProto(ch.GetSource()); err == nil && k == master {
			return ch
		}
	}
	if chs := snap.GetChannels(); len(chs) > 0 {
		return chs[0]
	}
	return nil
}

// isRing reports whether the root replicates from one of its own replicas
// (a co-master pair).
func isRing(g *topology.Graph, root topology.InstanceKey) bool {
	n, ok := g.Nodes[root]
	if !ok || n.Master.IsZero() {
		return false
	}
	m, ok := g.Nodes[n.Master]
	return ok && m.Master == root
}
