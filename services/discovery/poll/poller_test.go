package poll

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// countingProber counts probes per instance and blocks on hung instances.
type countingProber struct {
	mu     sync.Mutex
	probes map[topology.InstanceKey]int
	hung   map[topology.InstanceKey]bool
}

func (c *countingProber) Probe(ctx context.Context, key topology.InstanceKey) *topologyv1.Snapshot {
	c.mu.Lock()
	c.probes[key]++
	hung := c.hung[key]
	c.mu.Unlock()
	if hung {
		<-ctx.Done()
	}
	return &topologyv1.Snapshot{Key: key.Proto()}
}

func (c *countingProber) count(key topology.InstanceKey) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.probes[key]
}

func TestPollerProbesEveryIntervalAndSkipsHungProbes(t *testing.T) {
	ok := topology.InstanceKey{Host: "h", Port: 1}
	hung := topology.InstanceKey{Host: "h", Port: 2}
	prober := &countingProber{probes: map[topology.InstanceKey]int{}, hung: map[topology.InstanceKey]bool{hung: true}}
	var handled sync.Map
	p := New(20*time.Millisecond, 4, prober, func(s *topologyv1.Snapshot) { handled.Store(s.GetKey().GetPort(), true) })
	p.Add(ok)
	p.Add(hung)
	if p.Add(ok) {
		t.Error("Add of a watched instance reported new")
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()

	deadline := time.Now().Add(5 * time.Second)
	for prober.count(ok) < 5 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d probes of a healthy instance", prober.count(ok))
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := prober.count(hung); n != 1 {
		t.Errorf("hung instance probed %d times while its first probe hangs, want 1", n)
	}
	if !p.Remove(ok) || p.Remove(ok) {
		t.Error("Remove did not report watched state")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	if _, seen := handled.Load(uint32(1)); !seen {
		t.Error("healthy snapshots were not handed on")
	}
}
