package analyzer

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/topology"
	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
)

// persistClusters writes the cluster list whenever it changed, once the
// analyzer is ready: before, the list is incomplete.
func (s *Service) persistClusters(ctx context.Context) {
	select {
	case <-s.ready:
	case <-ctx.Done():
		return
	}
	tick := time.NewTicker(s.cfg.PersistInterval)
	defer tick.Stop()
	var written []store.Cluster
	for {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
		clusters := storeClusters(s.state.Graph())
		if slices.EqualFunc(clusters, written, sameCluster) {
			continue
		}
		if err := s.store.ReplaceClusters(ctx, clusters); err != nil {
			s.log.Warn("saving clusters failed, will retry", "err", err)
			continue
		}
		written = clusters
	}
}

// loadDetections makes the detections that were active when the analyzer
// last stopped active again, so that finding them again keeps their ids and
// says nothing new, and not finding them clears them.
func (s *Service) loadDetections(ctx context.Context) error {
	var active []*analyzerv1.Detection
	f := store.DetectionFilter{ActiveOnly: true, PageSize: store.MaxPageSize}
	for {
		page, next, err := s.store.ListDetections(ctx, f)
		if err != nil {
			return fmt.Errorf("load active detections: %w", err)
		}
		active = append(active, page...)
		if next == "" {
			break
		}
		f.PageToken = next
	}
	s.tracker.Load(active)
	for _, d := range active {
		s.events.Set(d.GetId(), d)
	}
	if len(active) > 0 {
		s.log.Info("active detections loaded", "count", len(active))
	}
	return nil
}

// persistDetections writes detection changes in batches, and what is left on
// shutdown.
func (s *Service) persistDetections(ctx context.Context) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			s.flushDetections(ctx)
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			s.flushDetections(final)
			cancel()
			return
		}
	}
}

// maxUnsaved bounds the detection changes kept while the store is down.
const maxUnsaved = 100000

func (s *Service) flushDetections(ctx context.Context) {
	s.mu.Lock()
	batch := s.unsaved
	s.unsaved = nil
	s.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	// Only the last change of each detection needs writing.
	last := make(map[string]*analyzerv1.Detection, len(batch))
	var order []string
	for _, d := range batch {
		if _, ok := last[d.GetId()]; !ok {
			order = append(order, d.GetId())
		}
		last[d.GetId()] = d
	}
	ds := make([]*analyzerv1.Detection, 0, len(order))
	for _, id := range order {
		ds = append(ds, last[id])
	}
	if err := s.store.SaveDetections(ctx, ds); err != nil {
		s.log.Warn("saving detections failed, will retry", "count", len(ds), "err", err)
		s.mu.Lock()
		s.unsaved = append(ds, s.unsaved...)
		if n := len(s.unsaved); n > maxUnsaved {
			s.unsaved = s.unsaved[n-maxUnsaved:]
		}
		s.mu.Unlock()
	}
}

// refreshDowntimes reads the downtimes in force from the store, so the
// analysis can flag downtimed instances.
func (s *Service) refreshDowntimes(ctx context.Context) {
	tick := time.NewTicker(s.cfg.DowntimeRefresh)
	defer tick.Stop()
	for {
		if ds, err := s.store.ListDowntimes(ctx, time.Now()); err == nil {
			m := make(map[topology.InstanceKey]time.Time, len(ds))
			for _, d := range ds {
				m[d.Key] = d.EndsAt
			}
			s.downtimes.Store(&m)
		} else if ctx.Err() == nil {
			s.log.Warn("reading downtimes failed", "err", err)
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
}

func (s *Service) downtimed(key topology.InstanceKey, now time.Time) bool {
	until, ok := (*s.downtimes.Load())[key]
	return ok && now.Before(until)
}

func storeClusters(g *topology.Graph) []store.Cluster {
	out := make([]store.Cluster, 0, len(g.Clusters))
	for _, c := range g.Clusters {
		out = append(out, store.Cluster{Name: c.Name, Alias: c.Alias, Domain: c.Domain, Master: c.Master, Members: c.Members})
	}
	slices.SortFunc(out, func(a, b store.Cluster) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out
}

func sameCluster(a, b store.Cluster) bool {
	return a.Name == b.Name && a.Alias == b.Alias && a.Domain == b.Domain && a.Master == b.Master && slices.Equal(a.Members, b.Members)
}
