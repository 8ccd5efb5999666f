package mysql

import (
	"context"
	"testing"
	"time"

	"github.com/vigil-db/vigil/pkg/sandbox"
	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

func TestRestartReplicationIO(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(1))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p, err := NewProber(ProberConfig{Credentials: Credentials{User: sandbox.DefaultUser, Password: sandbox.DefaultPassword}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	replica, _ := topology.ParseInstanceKey(topo.Instance("r1").Key)
	master, _ := topology.ParseInstanceKey(topo.Master().Key)

	if err := p.RestartReplicationIO(ctx, replica); err != nil {
		t.Fatalf("restart on a healthy replica: %v", err)
	}
	if err := topo.Master().Kill(); err != nil {
		t.Fatal(err)
	}
	if err := p.RestartReplicationIO(ctx, replica); err != nil {
		t.Fatalf("restart with the master dead: %v", err)
	}
	// With its source gone the IO thread cannot come back: it says so at once.
	snap := p.Probe(ctx, replica)
	if io := snap.GetChannels()[0].GetIoThread(); io != topologyv1.ThreadState_THREAD_STATE_CONNECTING {
		t.Errorf("IO thread after restart against a dead master = %s, want CONNECTING", io)
	}
	if err := p.RestartReplicationIO(ctx, master); err == nil {
		t.Error("restart on a dead server reported success")
	}
}
