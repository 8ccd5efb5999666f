package view

import (
	"slices"
	"strings"

	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// Instance returns the API view of key, or false when key is not known.
func (v *View) Instance(key topology.InstanceKey) (*topologyv1.Instance, bool) {
	n, ok := v.Graph.Nodes[key]
	if !ok {
		return nil, false
	}
	obs := v.Observation(key)
	c := v.Graph.Clusters[n.Cluster]
	inst := &topologyv1.Instance{
		Key:          key.Proto(),
		Cluster:      n.Cluster,
		ClusterAlias: c.Alias,
		Role:         role(n, c),
		Replicating:  Replicating(obs.Latest),
		Reachable:    obs.Latest.GetReachable(),
		Snapshot:     obs.Latest,
	}
	if !n.Master.IsZero() {
		inst.Master = n.Master.Proto()
	}
	for _, o := range v.Evidence(key) {
		inst.Observers = append(inst.Observers, &topologyv1.Observer{
			MemberId:      o.Observer,
			Domain:        o.Snapshot.GetObserverDomain(),
			ProbeFinished: o.Snapshot.GetProbeFinished(),
			Reachable:     o.Snapshot.GetReachable(),
			ErrorClass:    o.Snapshot.GetErrorClass(),
			Error:         o.Snapshot.GetError(),
		})
	}
	slices.SortFunc(inst.Observers, func(a, b *topologyv1.Observer) int { return strings.Compare(a.GetMemberId(), b.GetMemberId()) })
	for _, r := range n.Replicas {
		inst.Replicas = append(inst.Replicas, r.Proto())
	}
	if obs.LastGood != nil {
		inst.LastSeen = obs.LastGood.GetProbeFinished()
		if !obs.Latest.GetReachable() {
			inst.LastGoodSnapshot = obs.LastGood
		}
	}
	return inst, true
}

// ClusterProto returns the API view of a cluster.
func ClusterProto(c *topology.Cluster) *topologyv1.Cluster {
	return &topologyv1.Cluster{
		Name:          c.Name,
		Alias:         c.Alias,
		Domain:        c.Domain,
		Master:        c.Master.Proto(),
		InstanceCount: int32(len(c.Members)),
	}
}

// Tree returns the cluster's instances as a tree rooted at its master.
func (v *View) Tree(c *topology.Cluster) *topologyv1.TopologyNode {
	return v.tree(c.Master, map[topology.InstanceKey]bool{})
}

func (v *View) tree(key topology.InstanceKey, seen map[topology.InstanceKey]bool) *topologyv1.TopologyNode {
	seen[key] = true
	inst, ok := v.Instance(key)
	if !ok {
		// A master that was never observed: only its key is known.
		inst = &topologyv1.Instance{Key: key.Proto(), Cluster: key.String(), Role: topologyv1.Role_ROLE_MASTER}
	}
	node := &topologyv1.TopologyNode{Instance: inst}
	if n, ok := v.Graph.Nodes[key]; ok {
		for _, r := range n.Replicas {
			if !seen[r] { // co-master rings list the root again
				node.Replicas = append(node.Replicas, v.tree(r, seen))
			}
		}
	}
	return node
}

// Replicating reports whether every replication channel runs both threads.
func Replicating(s *topologyv1.Snapshot) bool {
	if !s.GetReachable() || len(s.GetChannels()) == 0 {
		return false
	}
	for _, ch := range s.GetChannels() {
		if ch.GetIoThread() != topologyv1.ThreadState_THREAD_STATE_YES || ch.GetSqlThread() != topologyv1.ThreadState_THREAD_STATE_YES {
			return false
		}
	}
	return true
}

func role(n *topology.Node, c *topology.Cluster) topologyv1.Role {
	switch {
	case n.Key == c.Master || n.Master.IsZero():
		return topologyv1.Role_ROLE_MASTER
	case len(n.Replicas) > 0:
		return topologyv1.Role_ROLE_INTERMEDIATE_MASTER
	default:
		return topologyv1.Role_ROLE_REPLICA
	}
}
