package analyzer

import (
	"context"
	"time"

	"github.com/vigil-db/vigil/pkg/topology"
	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
	"github.com/vigil-db/vigil/services/analyzer/analysis"
	"github.com/vigil-db/vigil/services/analyzer/detect"
	"github.com/vigil-db/vigil/services/analyzer/view"
)

// analysisLoop waits until every discovery member has synced, analyses
// everything once and declares the analyzer ready; from then on it analyses
// the clusters of changed instances as soon as their snapshots arrive, and
// every cluster on each safety pass (validity also lapses with time alone: a
// hung probe sends nothing).
func (s *Service) analysisLoop(ctx context.Context) {
	for !s.synced() {
		select {
		case <-s.state.Changed():
		case <-ctx.Done():
			return
		}
	}
	s.analyzeAll(ctx)
	close(s.ready)
	s.log.Info("analyzer ready", "discovery_members", len(s.sources.addrs()), "instances", s.state.Len())

	tick := time.NewTicker(s.cfg.SafetyPassInterval)
	defer tick.Stop()
	for {
		select {
		case <-s.state.Changed():
			s.analyzeChanged(ctx)
		case <-tick.C:
			s.analyzeAll(ctx)
		case <-ctx.Done():
			return
		}
	}
}

// analyzeChanged analyses only the clusters of the instances that changed,
// reading only their instances.
func (s *Service) analyzeChanged(ctx context.Context) {
	dirty := s.state.TakeDirty()
	g := s.state.Graph()
	now := time.Now()
	done := map[string]bool{}
	for _, key := range dirty {
		n, ok := g.Nodes[key]
		if !ok || done[n.Cluster] {
			continue
		}
		done[n.Cluster] = true
		c := g.Clusters[n.Cluster]
		v := s.state.ViewOf(append([]topology.InstanceKey{c.Master}, c.Members...))
		if c = v.Graph.Clusters[n.Cluster]; c != nil { // the graph may have moved on
			s.analyzeCluster(ctx, v, c, now)
		}
	}
}

// releasedKeep is how long an instance released by its member stays
// without any member observing it before it is dropped.
const releasedKeep = 30 * time.Second

func (s *Service) analyzeAll(ctx context.Context) {
	s.state.PruneReleased(time.Now().Add(-releasedKeep))
	s.state.TakeDirty()
	v := s.state.View()
	now := time.Now()
	clusters := make(map[string]bool, len(v.Graph.Clusters))
	instances := make(map[topology.InstanceKey]bool, len(v.Graph.Nodes))
	for name, c := range v.Graph.Clusters {
		clusters[name] = true
		s.analyzeCluster(ctx, v, c, now)
	}
	for key := range v.Graph.Nodes {
		instances[key] = true
	}
	s.publish(s.tracker.Retain(clusters, instances, now))
	s.mu.Lock()
	for name := range s.warnings {
		if !clusters[name] {
			delete(s.warnings, name)
		}
	}
	for name := range s.held {
		if !clusters[name] {
			delete(s.held, name)
		}
	}
	s.mu.Unlock()
}

// analyzeCluster runs the rules over one cluster, records what changed and
// starts the emergency reads its problems call for. A cluster with an
// instance that no connected discovery member has said anything about (its
// member restarts, or has not probed a new instance yet) is left as it was:
// no evidence starts, changes or clears nothing.
func (s *Service) analyzeCluster(ctx context.Context, v *view.View, c *topology.Cluster, now time.Time) {
	for _, key := range append([]topology.InstanceKey{c.Master}, c.Members...) {
		if len(v.Evidence(key)) == 0 {
			s.hold(c.Name, key, now)
			return
		}
	}
	s.mu.Lock()
	delete(s.held, c.Name)
	s.mu.Unlock()
	in := analysis.Input{
		Now:          now,
		Cluster:      c,
		Graph:        v.Graph,
		Observations: v.Evidence,
		LastGood:     func(k topology.InstanceKey) *topologyv1.Snapshot { return v.Observation(k).LastGood },
		Downtimed:    func(k topology.InstanceKey) bool { return s.downtimed(k, now) },
		Ignored:      s.ignored,
		ActiveSince:  s.tracker.ActiveSince,
	}
	problems, warnings := analysis.Analyze(in, s.cfg.analysisConfig())
	s.mu.Lock()
	s.warnings[c.Name] = warnings
	s.mu.Unlock()

	scope := detect.Scope{Cluster: c.Name, Alias: c.Alias, Members: c.Members}
	changes := s.tracker.Update(scope, problems, now)
	s.publish(changes)
	s.emergency(ctx, problems, changes, now)
}

// holdWarning is how long a cluster may go unanalysed for lack of evidence
// before the analyzer says so.
const holdWarning = 30 * time.Second

// hold records that cluster was not analysed because nothing is known of
// key, and warns once when that has lasted holdWarning: its detections are
// frozen meanwhile.
func (s *Service) hold(cluster string, key topology.InstanceKey, now time.Time) {
	s.mu.Lock()
	h, ok := s.held[cluster]
	if !ok {
		h = &heldCluster{since: now}
		s.held[cluster] = h
	}
	warn := !h.warned && now.Sub(h.since) >= holdWarning
	h.warned = h.warned || warn
	s.mu.Unlock()
	if warn {
		s.log.Warn("cluster not analysed: no discovery member says anything about one of its instances; its detections are frozen",
			"cluster", cluster, "instance", key.String(), "since", h.since)
	}
}

// publish sends detection changes to the event streams, the log and the
// store.
func (s *Service) publish(changes []*analyzerv1.Detection) {
	if len(changes) == 0 {
		return
	}
	for _, d := range changes {
		if d.GetState() == analyzerv1.DetectionState_DETECTION_STATE_CLEARED {
			s.events.Remove(d.GetId(), d)
		} else {
			s.events.Set(d.GetId(), d)
		}
		s.log.Info("detection "+stateWord(d.GetState()),
			"analysis", d.GetCode(), "cluster", d.GetCluster(), "instance", keyText(d.GetInstance()),
			"detection_id", d.GetId(), "downtimed", d.GetDowntimed())
	}
	s.mu.Lock()
	s.unsaved = append(s.unsaved, changes...)
	s.mu.Unlock()
}

func (s *Service) ignored(key topology.InstanceKey) bool {
	text := key.String()
	for _, re := range s.ignore {
		if re.MatchString(text) {
			return true
		}
	}
	return false
}

func stateWord(st analyzerv1.DetectionState) string {
	switch st {
	case analyzerv1.DetectionState_DETECTION_STATE_STARTED:
		return "started"
	case analyzerv1.DetectionState_DETECTION_STATE_CHANGED:
		return "changed"
	case analyzerv1.DetectionState_DETECTION_STATE_CLEARED:
		return "cleared"
	}
	return "unknown"
}
