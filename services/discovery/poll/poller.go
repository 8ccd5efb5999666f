// Package poll probes every registered instance once per poll interval from a
// bounded pool of workers.
package poll

import (
	"context"
	"sync"
	"time"

	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// Prober probes one server. It always returns a snapshot, also when the
// server could not be reached.
type Prober interface {
	Probe(ctx context.Context, key topology.InstanceKey) *topologyv1.Snapshot
}

// Poller owns the set of watched instances and probes each of them every
// interval. An instance whose previous probe is still running is skipped, so a
// hung server never ties up more than one worker.
type Poller struct {
	interval time.Duration
	workers  int
	prober   Prober
	handle   func(*topologyv1.Snapshot)

	jobs chan topology.InstanceKey

	mu        sync.Mutex
	instances map[topology.InstanceKey]*entry
}

type entry struct {
	inFlight bool
}

// New returns a poller that hands every snapshot to handle. handle is called
// from the worker goroutines.
func New(interval time.Duration, workers int, prober Prober, handle func(*topologyv1.Snapshot)) *Poller {
	return &Poller{
		interval:  interval,
		workers:   workers,
		prober:    prober,
		handle:    handle,
		jobs:      make(chan topology.InstanceKey, workers),
		instances: make(map[topology.InstanceKey]*entry),
	}
}

// Add starts watching key. It reports whether key is new; a new instance is
// probed at the next tick.
func (p *Poller) Add(key topology.InstanceKey) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.instances[key]; ok {
		return false
	}
	p.instances[key] = &entry{}
	return true
}

// Remove stops watching key and reports whether it was watched.
func (p *Poller) Remove(key topology.InstanceKey) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.instances[key]
	delete(p.instances, key)
	return ok
}

// Has reports whether key is watched.
func (p *Poller) Has(key topology.InstanceKey) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.instances[key]
	return ok
}

// Keys returns the watched instances.
func (p *Poller) Keys() []topology.InstanceKey {
	p.mu.Lock()
	defer p.mu.Unlock()
	keys := make([]topology.InstanceKey, 0, len(p.instances))
	for k := range p.instances {
		keys = append(keys, k)
	}
	return keys
}

// Len returns the number of watched instances.
func (p *Poller) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.instances)
}

// Run probes until ctx is done and returns once every worker has exited.
// Newly added instances are picked up within a short tick, not a whole
// interval, so a crawl through a tree takes milliseconds per level.
func (p *Poller) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for range p.workers {
		wg.Go(func() { p.work(ctx) })
	}
	defer wg.Wait()

	due := make(map[topology.InstanceKey]time.Time)
	tick := time.NewTicker(min(p.interval/10, 100*time.Millisecond))
	defer tick.Stop()
	for {
		now := time.Now()
		for _, key := range p.dueKeys(due, now) {
			select {
			case p.jobs <- key:
				due[key] = now.Add(p.interval)
			case <-ctx.Done():
				return nil
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return nil
		}
	}
}

// dueKeys marks as in flight and returns the instances whose next probe is
// due, and forgets the schedule of removed instances.
func (p *Poller) dueKeys(due map[topology.InstanceKey]time.Time, now time.Time) []topology.InstanceKey {
	p.mu.Lock()
	defer p.mu.Unlock()
	for key := range due {
		if _, ok := p.instances[key]; !ok {
			delete(due, key)
		}
	}
	var keys []topology.InstanceKey
	for key, e := range p.instances {
		if e.inFlight || now.Before(due[key]) {
			continue
		}
		e.inFlight = true
		keys = append(keys, key)
	}
	return keys
}

func (p *Poller) work(ctx context.Context) {
	for {
		select {
		case key := <-p.jobs:
			snap := p.prober.Probe(ctx, key)
			p.mu.Lock()
			if e, ok := p.instances[key]; ok {
				e.inFlight = false
			}
			p.mu.Unlock()
			if ctx.Err() != nil {
				return
			}
			p.handle(snap)
		case <-ctx.Done():
			return
		}
	}
}
