// Package view keeps the analyzer's in-memory picture of every instance, as
// fed by the discovery snapshot streams, and the replication graph built
// from it.
package view

import (
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// State holds the latest snapshot of every instance from every source (a
// discovery member's stream). It is safe for concurrent use.
type State struct {
	mu        sync.Mutex
	instances map[topology.InstanceKey]*instance
	graph     *topology.Graph
	version   uint64 // bumped by every change that can move the graph
	built     uint64 // version the graph was built at
}

type instance struct {
	bySource map[string]*topologyv1.Snapshot
	lastGood *topologyv1.Snapshot
}

// NewState returns an empty state.
func NewState() *State {
	return &State{instances: make(map[topology.InstanceKey]*instance), graph: topology.BuildGraph(nil)}
}

// Apply records a snapshot received from source. Snapshots are not changed
// after they are applied.
func (s *State) Apply(source string, snap *topologyv1.Snapshot) {
	key, err := topology.KeyFromProto(snap.GetKey())
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.instances[key]
	if !ok {
		in = &instance{bySource: make(map[string]*topologyv1.Snapshot)}
		s.instances[key] = in
	}
	prev := in.latest()
	in.bySource[source] = snap
	if snap.GetReachable() {
		if in.lastGood == nil || !sameStructure(in.lastGood, snap) {
			s.version++
		}
		in.lastGood = snap
	}
	if prev == nil || prev.GetReachable() != snap.GetReachable() {
		s.version++
	}
}

// Forget drops what source said about key; the instance goes when no source
// knows it any more.
func (s *State) Forget(source string, key topology.InstanceKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forgetLocked(source, key)
}

// Retain drops what source said about every instance not in keep: after a
// re-sync, instances the source no longer has are gone.
func (s *State) Retain(source string, keep map[topology.InstanceKey]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for key, in := range s.instances {
		if _, ok := in.bySource[source]; ok && !keep[key] {
			s.forgetLocked(source, key)
		}
	}
}

func (s *State) forgetLocked(source string, key topology.InstanceKey) {
	in, ok := s.instances[key]
	if !ok {
		return
	}
	delete(in.bySource, source)
	if len(in.bySource) == 0 {
		delete(s.instances, key)
		s.version++
	}
}

// Graph returns the replication graph of the current state, rebuilt only when
// something that places instances changed. The graph must not be modified.
func (s *State) Graph() *topology.Graph {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.built != s.version || s.graph == nil {
		obs := make(map[topology.InstanceKey]topology.Observation, len(s.instances))
		for key, in := range s.instances {
			obs[key] = topology.Observation{Latest: in.latest(), LastGood: in.lastGood}
		}
		s.graph = topology.BuildGraph(obs)
		s.built = s.version
	}
	return s.graph
}

// View is a consistent picture for answering one query: the graph, and the
// current observation of every instance (newer than the graph's when only
// state, not structure, changed since it was built).
type View struct {
	Graph *topology.Graph
	obs   map[topology.InstanceKey]topology.Observation
}

// Observation returns what is currently known of key.
func (v *View) Observation(key topology.InstanceKey) topology.Observation {
	return v.obs[key]
}

// View returns the current picture.
func (s *State) View() *View {
	g := s.Graph()
	s.mu.Lock()
	defer s.mu.Unlock()
	obs := make(map[topology.InstanceKey]topology.Observation, len(s.instances))
	for key, in := range s.instances {
		obs[key] = topology.Observation{Latest: in.latest(), LastGood: in.lastGood}
	}
	return &View{Graph: g, obs: obs}
}

// Len returns the number of known instances.
func (s *State) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.instances)
}

// latest is the snapshot with the newest probe_finished over all sources.
func (in *instance) latest() *topologyv1.Snapshot {
	var best *topologyv1.Snapshot
	for _, snap := range in.bySource {
		if best == nil || snap.GetProbeFinished().AsTime().After(best.GetProbeFinished().AsTime()) {
			best = snap
		}
	}
	return best
}

// sameStructure reports whether two good snapshots place the instance in the
// same spot: same sources, same reported replicas, same classification and
// read-only state (which decides the root of a co-master ring).
func sameStructure(a, b *topologyv1.Snapshot) bool {
	if len(a.GetChannels()) != len(b.GetChannels()) || len(a.GetReplicas()) != len(b.GetReplicas()) {
		return false
	}
	for i := range a.GetChannels() {
		if !proto.Equal(a.GetChannels()[i].GetSource(), b.GetChannels()[i].GetSource()) {
			return false
		}
	}
	for i := range a.GetReplicas() {
		if !proto.Equal(a.GetReplicas()[i].GetKey(), b.GetReplicas()[i].GetKey()) {
			return false
		}
	}
	return proto.Equal(a.GetClassification(), b.GetClassification()) &&
		a.GetServer().GetReadOnly() == b.GetServer().GetReadOnly()
}
