package discovery

import (
	"context"
	"sync"

	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// liveness holds the liveness watches (ARCHITECTURE §2): one connection to
// every server with replicas this member probes, kept busy so that a crash
// or a shutdown is seen the moment the connection drops, and the server
// probed at once. The watch never decides anything itself: the probe it
// triggers goes to the analyzer like any other, which re-reads the
// replicas and judges.
type liveness struct {
	mu  sync.Mutex
	ctx context.Context // Run's; nil before Run and after it ended
	wg  sync.WaitGroup
	// watches holds the watch of each instance, by a token of its own so
	// that an ending watch removes only itself.
	watches map[topology.InstanceKey]*watch
}

type watch struct{ cancel context.CancelFunc }

// start lets watches run until ctx ends; wait waits for them.
func (l *liveness) start(ctx context.Context) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ctx, l.watches = ctx, make(map[topology.InstanceKey]*watch)
}

func (l *liveness) wait() {
	l.mu.Lock()
	l.ctx = nil
	l.mu.Unlock()
	l.wg.Wait()
}

// watchLiveness starts or stops the watch of an instance from its latest
// snapshot: a reachable server with replicas is watched.
func (s *Service) watchLiveness(key topology.InstanceKey, snap *topologyv1.Snapshot) {
	if !s.cfg.LivenessWatch {
		return
	}
	want := snap.GetReachable() && len(snap.GetReplicas()) > 0
	l := &s.live
	l.mu.Lock()
	defer l.mu.Unlock()
	w, on := l.watches[key]
	switch {
	case want && !on && l.ctx != nil:
		ctx, cancel := context.WithCancel(l.ctx)
		w = &watch{cancel: cancel}
		l.watches[key] = w
		l.wg.Go(func() { s.hold(ctx, key, w) })
	case !want && on:
		w.cancel()
		delete(l.watches, key)
	}
}

// stopWatch ends the watch of a forgotten instance.
func (s *Service) stopWatch(key topology.InstanceKey) {
	l := &s.live
	l.mu.Lock()
	defer l.mu.Unlock()
	if w, on := l.watches[key]; on {
		w.cancel()
		delete(l.watches, key)
	}
}

// hold keeps the watch of one instance until it breaks, then probes the
// instance at once. The next reachable snapshot of it starts a new watch.
func (s *Service) hold(ctx context.Context, key topology.InstanceKey, w *watch) {
	err := s.prober.Hold(ctx, key)
	stopped := ctx.Err() != nil
	s.live.mu.Lock()
	if s.live.watches[key] == w {
		delete(s.live.watches, key)
	}
	s.live.mu.Unlock()
	w.cancel()
	if stopped || !s.poller.Has(key) {
		return
	}
	s.log.Info("liveness watch broke: probing at once", "instance", key.String(), "err", err)
	// The pooled connections broke with the watch's: the probe connects
	// afresh, and a refused connection then says what happened.
	_ = s.prober.Forget(key)
	s.handle(s.prober.Probe(context.WithoutCancel(ctx), key))
}
