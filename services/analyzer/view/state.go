// Package view keeps the analyzer's in-memory picture of every instance, as
// fed by the discovery snapshot streams, and the replication graph built
// from it.
package view

import (
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
	"github.com/vigil-db/vigil/services/analyzer/analysis"
	"github.com/vigil-db/vigil/services/analyzer/feed"
)

// State holds the latest snapshot of every instance from every source (a
// discovery member's stream, which is one observer). It is safe for
// concurrent use.
type State struct {
	mu        sync.Mutex
	instances map[topology.InstanceKey]*instance
	// connected holds the sources whose stream is up and synced, with their
	// poll interval: only they give evidence.
	connected map[string]time.Duration
	// syncedOnce holds the sources whose stream synced at least once.
	syncedOnce map[string]bool
	graph      *topology.Graph
	version    uint64 // bumped by every change that can move the graph
	built      uint64 // version the graph was built at

	// dirty holds the instances changed since the last TakeDirty; changed
	// gets a token when it becomes non-empty.
	dirty   map[topology.InstanceKey]struct{}
	changed chan struct{}

	// aliases are cluster aliases from configuration, by cluster name.
	aliases map[string]string
}

type instance struct {
	bySource map[string]received
	lastGood *topologyv1.Snapshot
}

// received is a snapshot and when it arrived, by the analyzer's clock.
type received struct {
	snap *topologyv1.Snapshot
	at   time.Time
	// released is set when the source stopped observing the instance: its
	// snapshot still places the instance until an owner's arrives, but it
	// is no evidence.
	released bool
}

// NewState returns an empty state. aliases (cluster name to alias, from
// configuration) override the aliases instances report.
func NewState(aliases map[string]string) *State {
	return &State{
		aliases:    aliases,
		instances:  make(map[topology.InstanceKey]*instance),
		connected:  make(map[string]time.Duration),
		syncedOnce: make(map[string]bool),
		graph:      topology.BuildGraph(nil),
		dirty:      make(map[topology.InstanceKey]struct{}),
		changed:    make(chan struct{}, 1),
	}
}

// Apply records a snapshot received from source. Snapshots are not changed
// after they are applied.
func (s *State) Apply(source string, snap *topologyv1.Snapshot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.applyLocked(source, snap, time.Now())
}

func (s *State) applyLocked(source string, snap *topologyv1.Snapshot, now time.Time) {
	key, err := topology.KeyFromProto(snap.GetKey())
	if err != nil {
		return
	}
	in := s.instanceLocked(key)
	for other, r := range in.bySource {
		if r.released {
			delete(in.bySource, other) // an owner speaks now
		}
	}
	in.bySource[source] = received{snap: snap, at: now}
	s.keepIfGoodLocked(in, snap)
	s.markLocked(key)
}

// Release records that source no longer observes key (it was given to
// other members): what it said stops being evidence, and the instance
// keeps its place until an owner's snapshot arrives.
func (s *State) Release(source string, key topology.InstanceKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.instances[key]
	if !ok {
		return
	}
	if r, ok := in.bySource[source]; ok {
		r.released = true
		r.at = time.Now()
		in.bySource[source] = r
		s.markLocked(key)
	}
}

// PruneReleased forgets instances that were released and that no source
// observed since before cutoff: nobody probes them any more.
func (s *State) PruneReleased(cutoff time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for key, in := range s.instances {
		for source, r := range in.bySource {
			if r.released && r.at.Before(cutoff) {
				s.forgetLocked(source, key)
			}
		}
	}
}

// instanceLocked returns the instance of key, adding it when new.
func (s *State) instanceLocked(key topology.InstanceKey) *instance {
	in, ok := s.instances[key]
	if !ok {
		in = &instance{bySource: make(map[string]received)}
		s.instances[key] = in
		s.version++ // a new node; reachability alone never moves one
	}
	return in
}

// keepIfGoodLocked makes snap the instance's last good snapshot if it is a
// good one and not older than the one kept.
func (s *State) keepIfGoodLocked(in *instance, snap *topologyv1.Snapshot) {
	if !topology.IsGood(snap) {
		return
	}
	if in.lastGood != nil && snap.GetProbeFinished().AsTime().Before(in.lastGood.GetProbeFinished().AsTime()) {
		return
	}
	if in.lastGood == nil || !sameStructure(in.lastGood, snap) {
		s.version++
	}
	in.lastGood = snap
}

// Sync replaces everything source said with its initial state, at once, and
// marks its stream synced: its snapshots are evidence, judged against its
// poll interval.
func (s *State) Sync(source string, initial feed.Initial) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	keep := make(map[topology.InstanceKey]bool, len(initial.Snapshots))
	for _, snap := range initial.Snapshots {
		if key, err := topology.KeyFromProto(snap.GetKey()); err == nil {
			keep[key] = true
		}
	}
	for key, in := range s.instances {
		if _, ok := in.bySource[source]; ok && !keep[key] {
			s.forgetLocked(source, key)
		}
	}
	for _, good := range initial.LastGood {
		if key, err := topology.KeyFromProto(good.GetKey()); err == nil && keep[key] {
			s.keepIfGoodLocked(s.instanceLocked(key), good)
		}
	}
	for _, snap := range initial.Snapshots {
		s.applyLocked(source, snap, now)
	}
	s.connected[source] = initial.PollInterval
	s.syncedOnce[source] = true
	s.markAllLocked()
	s.notifyLocked() // also when there is nothing to mark: the sync is news
}

// HasSynced reports whether source's stream synced at least once.
func (s *State) HasSynced(source string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.syncedOnce[source]
}

// Notify wakes whoever waits on Changed, with nothing marked: for news
// from outside the state, such as a new source.
func (s *State) Notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notifyLocked()
}

// Disconnected marks source's stream as broken: until it re-syncs, what it
// said is no evidence either way.
func (s *State) Disconnected(source string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.connected[source]; ok {
		delete(s.connected, source)
		s.markAllLocked()
	}
}

// ConnectedSources returns the number of sources whose stream is up and synced.
func (s *State) ConnectedSources() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.connected)
}

// Changed receives a token when instances changed since the last TakeDirty.
func (s *State) Changed() <-chan struct{} { return s.changed }

// TakeDirty returns the instances changed since the last call.
func (s *State) TakeDirty() []topology.InstanceKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]topology.InstanceKey, 0, len(s.dirty))
	for k := range s.dirty {
		keys = append(keys, k)
	}
	clear(s.dirty)
	return keys
}

func (s *State) markLocked(key topology.InstanceKey) {
	s.dirty[key] = struct{}{}
	s.notifyLocked()
}

func (s *State) notifyLocked() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

func (s *State) markAllLocked() {
	for k := range s.instances {
		s.markLocked(k)
	}
}

// Forget drops what source said about key; the instance goes when no source
// knows it any more.
func (s *State) Forget(source string, key topology.InstanceKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forgetLocked(source, key)
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
	s.markLocked(key)
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
		for name, alias := range s.aliases {
			s.graph.SetAlias(name, alias)
		}
		s.built = s.version
	}
	return s.graph
}

// View is a consistent picture for answering one query or analysing: the
// graph, and the current observations of every instance (newer than the
// graph's when only state, not structure, changed since it was built).
type View struct {
	Graph *topology.Graph
	obs   map[topology.InstanceKey]topology.Observation
	// evidence holds, per instance, what each connected source last said.
	evidence map[topology.InstanceKey][]analysis.Observation
}

// Observation returns what is currently known of key.
func (v *View) Observation(key topology.InstanceKey) topology.Observation {
	return v.obs[key]
}

// Evidence returns what every connected source last said about key.
func (v *View) Evidence(key topology.InstanceKey) []analysis.Observation {
	return v.evidence[key]
}

// View returns the current picture of every instance.
func (s *State) View() *View {
	g := s.Graph()
	s.mu.Lock()
	defer s.mu.Unlock()
	v := newView(g, len(s.instances))
	for key, in := range s.instances {
		s.addLocked(v, key, in)
	}
	return v
}

// ViewOf returns the current picture of the given instances only (the graph
// is always whole): what analysing one cluster needs, at a cost that grows
// with the cluster, not the fleet.
func (s *State) ViewOf(keys []topology.InstanceKey) *View {
	g := s.Graph()
	s.mu.Lock()
	defer s.mu.Unlock()
	v := newView(g, len(keys))
	for _, key := range keys {
		if _, added := v.obs[key]; added {
			continue
		}
		if in, ok := s.instances[key]; ok {
			s.addLocked(v, key, in)
		}
	}
	return v
}

func newView(g *topology.Graph, size int) *View {
	return &View{
		Graph:    g,
		obs:      make(map[topology.InstanceKey]topology.Observation, size),
		evidence: make(map[topology.InstanceKey][]analysis.Observation, size),
	}
}

func (s *State) addLocked(v *View, key topology.InstanceKey, in *instance) {
	v.obs[key] = topology.Observation{Latest: in.latest(), LastGood: in.lastGood}
	for source, r := range in.bySource {
		if interval, ok := s.connected[source]; ok && !r.released {
			v.evidence[key] = append(v.evidence[key], analysis.Observation{
				Observer: observerName(source, r.snap), Snapshot: r.snap, Received: r.at, PollInterval: interval,
			})
		}
	}
}

// observerName names an observer by its member id, falling back to the
// address of its stream.
func observerName(source string, snap *topologyv1.Snapshot) string {
	if id := snap.GetObserverId(); id != "" {
		return id
	}
	return source
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
	for _, r := range in.bySource {
		if best == nil || r.snap.GetProbeFinished().AsTime().After(best.GetProbeFinished().AsTime()) {
			best = r.snap
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
