package mysql

import (
	"context"
	"testing"

	"github.com/vigil-db/vigil/pkg/sandbox"
)

// BenchmarkProbe probes a streaming replica over a warm pooled connection:
// the steady state of discovery.
func BenchmarkProbe(b *testing.B) {
	topo := sandbox.StartForTest(b, sandbox.MasterWithReplicas(1))
	if err := topo.WaitReplicating(context.Background()); err != nil {
		b.Fatal(err)
	}
	k := instanceKey(b, topo.Instance("r1"))
	p := newTestProber(b, sandboxCredentials)
	if s := p.Probe(context.Background(), k); !s.GetReachable() || s.GetError() != "" {
		b.Fatalf("probe: reachable=%v error=%q", s.GetReachable(), s.GetError())
	}
	b.ReportAllocs()
	for b.Loop() {
		if s := p.Probe(context.Background(), k); s.GetError() != "" {
			b.Fatal(s.GetError())
		}
	}
}
