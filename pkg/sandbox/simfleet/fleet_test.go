package simfleet

import (
	"context"
	"testing"
	"time"

	"github.com/vigil-db/vigil/pkg/mysql"
	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

func TestTreesAlternateClusterShapes(t *testing.T) {
	insts := Trees(10)
	if len(insts) != 10 {
		t.Fatalf("%d instances, want 10", len(insts))
	}
	// Cluster 1: master 1 with replicas 2, 3, 4. Cluster 2: master 5 with
	// replicas 6, 7, 8, and 9, 10 under 6.
	if m := insts[0]; m.Master != nil || len(m.Replicas) != 3 {
		t.Errorf("first master: master %v, %d replicas", m.Master, len(m.Replicas))
	}
	if im := insts[5]; im.Master != insts[4] || len(im.Replicas) != 2 || im.Cluster != insts[4].ServerID {
		t.Errorf("intermediate master: master %v, %d replicas, cluster %d", im.Master, len(im.Replicas), im.Cluster)
	}
	seen := map[string]bool{}
	for _, inst := range insts {
		if seen[inst.Host] {
			t.Fatalf("address %s given twice", inst.Host)
		}
		seen[inst.Host] = true
	}
}

// TestProbesReadTheSimulatedTree probes simulated servers with Vigil's own
// prober: each says where it stands in its tree.
func TestProbesReadTheSimulatedTree(t *testing.T) {
	f, err := Start(Trees(10))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := mysql.NewProber(mysql.ProberConfig{Credentials: mysql.Credentials{User: "vigil", Password: "any"},
		ConnectTimeout: time.Second, ReadTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	probe := func(i int) *topologyv1.Snapshot {
		k, err := topology.ParseInstanceKey(f.Instances[i].Key())
		if err != nil {
			t.Fatal(err)
		}
		s := p.Probe(context.Background(), k)
		if !s.GetReachable() || !topology.IsGood(s) {
			t.Fatalf("probe of %s: %v", k, s)
		}
		return s
	}
	master := probe(4)
	if master.GetServer().GetServerId() != 5 || master.GetServer().GetReadOnly() || len(master.GetReplicas()) != 3 ||
		len(master.GetChannels()) != 0 || master.GetServer().GetFlavor() != topologyv1.Flavor_FLAVOR_MARIADB {
		t.Errorf("master snapshot: %v", master)
	}
	im := probe(5)
	ch := im.GetChannels()
	if len(ch) != 1 || ch[0].GetSource().GetHost() != f.Instances[4].Host || ch[0].GetIoThread() != topologyv1.ThreadState_THREAD_STATE_YES ||
		!ch[0].GetAutoPosition() || len(im.GetReplicas()) != 2 || !im.GetServer().GetReadOnly() {
		t.Errorf("intermediate master snapshot: %v", im)
	}
	if f.Queries() == 0 {
		t.Error("no query counted")
	}
}
