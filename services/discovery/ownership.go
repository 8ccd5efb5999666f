package discovery

import (
	"context"
	"fmt"
	"time"

	"github.com/vigil-db/vigil/pkg/shard"
	"github.com/vigil-db/vigil/pkg/topology"
)

// heartbeatEvery is how often a member rewrites its registration with the
// number of instances it owns.
const heartbeatEvery = 5 * time.Second

// The known instances and their owners. Every member knows every instance
// (the shared registry in the store, plus what it crawled) and probes only
// those it owns; a member with no coordinator owns everything.

// join registers this member among the discovery members.
func (s *Service) join(ctx context.Context) error {
	if s.coord == nil {
		return nil
	}
	self := shard.Member{ID: s.cfg.MemberID, Domain: s.cfg.Domain}
	reg := shard.Registration{
		Addr:              s.cfg.advertiseAddr(),
		ReplicationFactor: s.cfg.ReplicationFactor,
		PollInterval:      s.cfg.PollInterval,
		LeaseTTL:          s.cfg.MembershipTTL,
	}
	ring, err := shard.Join(ctx, s.coord, self, reg, s.cfg.MembershipTTL)
	if err != nil {
		return fmt.Errorf("discovery: %w", err)
	}
	s.ring = ring
	return nil
}

// isKnown reports whether key is a known instance.
func (s *Service) isKnown(key topology.InstanceKey) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.known[key]
	return ok
}

// ownership returns the current ownership: whether this member probes a key.
func (s *Service) ownership() func(topology.InstanceKey) bool {
	if s.ring == nil {
		return func(topology.InstanceKey) bool { return true }
	}
	owns := s.ring.Ownership(s.cfg.ReplicationFactor)
	return func(k topology.InstanceKey) bool { return owns(k.String()) }
}

// learn adds keys to the known instances and reports the new ones. The new
// ones go to the shared registry so that their owners find them; a key the
// registry refused is retried at the next refresh.
func (s *Service) learn(ctx context.Context, keys []topology.InstanceKey) []topology.InstanceKey {
	var fresh []topology.InstanceKey
	s.mu.Lock()
	for _, k := range keys {
		if _, ok := s.known[k]; !ok {
			s.known[k] = time.Time{}
			fresh = append(fresh, k)
		}
	}
	s.mu.Unlock()
	if len(fresh) > 0 {
		s.register(ctx, fresh)
	}
	return fresh
}

// register writes keys to the shared registry and marks them registered.
func (s *Service) register(ctx context.Context, keys []topology.InstanceKey) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.RegistryRefresh+time.Second)
	defer cancel()
	if err := s.store.RegisterInstances(ctx, keys); err != nil {
		s.log.Warn("registering discovered instances failed, will retry", "count", len(keys), "err", err)
		return
	}
	now := time.Now()
	s.mu.Lock()
	for _, k := range keys {
		if _, ok := s.known[k]; ok {
			s.known[k] = now
		}
	}
	s.mu.Unlock()
}

// reconcile makes the poller watch exactly the known instances this member
// owns now. An instance given up is released: the analyzers hear that this
// member no longer observes it, which is not a failure.
func (s *Service) reconcile() {
	owns := s.ownership()
	s.mu.Lock()
	var take, release []topology.InstanceKey
	for k := range s.known {
		switch watched := s.poller.Has(k); {
		case owns(k) && !watched:
			take = append(take, k)
		case !owns(k) && watched:
			release = append(release, k)
		}
	}
	s.mu.Unlock()
	for _, k := range take {
		s.poller.Add(k)
	}
	for _, k := range release {
		s.release(k)
	}
	if len(take)+len(release) > 0 {
		s.log.Info("instances owned changed", "taken", len(take), "released", len(release), "owned", s.poller.Len())
	}
}

// release stops probing key, which this member no longer owns.
func (s *Service) release(key topology.InstanceKey) {
	if !s.poller.Remove(key) {
		return
	}
	s.stopWatch(key)
	_ = s.prober.Forget(key)
	if last, ok := s.hub.Get(key); ok {
		s.hub.Remove(key, last) // a last word: released, not forgotten
	}
}

// membershipLoop follows the members: ownership is reconciled at every
// change, the registry re-read every RegistryRefresh and the member's
// registration rewritten every heartbeatEvery.
func (s *Service) membershipLoop(ctx context.Context) {
	refresh := time.NewTicker(s.cfg.RegistryRefresh)
	defer refresh.Stop()
	heartbeat := time.NewTicker(heartbeatEvery)
	defer heartbeat.Stop()
	var changed <-chan struct{}
	if s.ring != nil {
		changed = s.ring.Changed()
	}
	for {
		select {
		case <-changed:
			changed = s.ring.Changed()
			s.reconcile()
		case <-refresh.C:
			s.refreshRegistry(ctx)
		case <-heartbeat.C:
			if s.ring != nil {
				hctx, cancel := context.WithTimeout(ctx, heartbeatEvery)
				if err := s.ring.Heartbeat(hctx, s.poller.Len()); err != nil {
					s.log.Debug("membership heartbeat not written", "err", err)
				}
				cancel()
			}
		case <-ctx.Done():
			return
		}
	}
}

// refreshRegistry reads the shared registry: instances other members
// registered become known, instances forgotten elsewhere are forgotten
// here, and registrations that failed are retried.
func (s *Service) refreshRegistry(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.RegistryRefresh+time.Second)
	defer cancel()
	start := time.Now()
	keys, err := s.store.ListInstanceKeys(ctx)
	if err != nil {
		s.log.Warn("reading the instance registry failed", "err", err)
		return
	}
	listed := make(map[topology.InstanceKey]bool, len(keys))
	for _, k := range keys {
		listed[k] = true
	}
	var gone, unregistered []topology.InstanceKey
	s.mu.Lock()
	for k, registered := range s.known {
		switch {
		case listed[k]:
			s.known[k] = start
		case registered.IsZero():
			unregistered = append(unregistered, k)
		case registered.Before(start):
			// Registered before the list was read, and not in it.
			gone = append(gone, k)
		}
	}
	for _, k := range keys {
		s.known[k] = start
	}
	s.mu.Unlock()
	for _, k := range gone {
		s.drop(k)
		s.log.Info("instance forgotten by another member", "instance", k.String())
	}
	if len(unregistered) > 0 {
		s.register(ctx, unregistered)
	}
	s.reconcile()
}
