package discovery

import (
	"context"
	"time"

	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// candidateLoop reads the registered promotion rules every
// CandidateRefresh until ctx ends.
func (s *Service) candidateLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.CandidateRefresh)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := s.refreshCandidates(ctx)
		switch {
		case err != nil && !failing && ctx.Err() == nil:
			s.log.Warn("registered promotion rules unreadable; keeping the last ones read", "err", err)
		case err == nil && failing:
			s.log.Info("registered promotion rules readable again")
		}
		failing = err != nil
	}
}

// refreshCandidates reads the registrations in force.
func (s *Service) refreshCandidates(ctx context.Context) error {
	list, err := s.store.ListCandidates(ctx, time.Now())
	if err != nil {
		return err
	}
	rules := make(map[topology.InstanceKey]topologyv1.PromotionRule, len(list))
	for _, c := range list {
		rules[c.Key] = c.Rule
	}
	s.mu.Lock()
	s.registered = rules
	s.mu.Unlock()
	return nil
}

// applyCandidate gives a snapshot the promotion rule registered for its
// instance, over the one its classification found: a registration is an
// operator's word for a while.
func (s *Service) applyCandidate(key topology.InstanceKey, snap *topologyv1.Snapshot) {
	s.mu.Lock()
	rule, ok := s.registered[key]
	s.mu.Unlock()
	if !ok || !snap.GetReachable() {
		return
	}
	if snap.Classification == nil {
		snap.Classification = &topologyv1.Classification{}
	}
	snap.Classification.PromotionRule = rule
}
