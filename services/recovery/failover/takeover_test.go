package failover

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-db/vigil/pkg/mysql"
	"github.com/vigil-db/vigil/pkg/topology"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
)

// TestMasterTakeoverOrder checks the order of a planned takeover: the master
// read-only, its position read, the successor caught up and promoted, the
// other replicas moved, the former master replicating from the successor.
func TestMasterTakeoverOrder(t *testing.T) {
	lock, _ := etcdLock(t)
	master := topology.InstanceKey{Host: "db", Port: 1}
	succ, r3 := topology.InstanceKey{Host: "db", Port: 2}, topology.InstanceKey{Host: "db", Port: 3}
	m := &recordingMySQL{}
	run, saved := newTestRun(t, lock, m)
	res, err := run.MasterTakeover(context.Background(), Takeover{Master: master, Successor: succ, Replicas: []topology.InstanceKey{r3},
		Replication: &mysql.Credentials{User: "repl"}})
	if err != nil || len(res.Lost) != 0 {
		t.Fatalf("MasterTakeover = %+v, %v", res, err)
	}
	want := []string{"read-only=true db:1", "read-gtids db:1", "wait-executed-0-1-10 db:2", "promote db:2",
		"replicate-from-db:2 db:3", "former-master-of-db:2 db:1"}
	if got := m.recorded(); !slices.Equal(got, want) {
		t.Errorf("changes = %q\nwant      %q", got, want)
	}
	if i := slices.IndexFunc(saved().GetSteps(), func(s *recoveryv1.RecoveryStep) bool { return s.GetName() == "write-unavailable" }); i < 0 {
		t.Errorf("audit lacks the write unavailability: %v", saved().GetSteps())
	}
}

// TestMasterTakeoverUndoesReadOnly checks that a successor that cannot
// catch up leaves the master writable again and nothing else changed.
func TestMasterTakeoverUndoesReadOnly(t *testing.T) {
	lock, _ := etcdLock(t)
	master := topology.InstanceKey{Host: "db", Port: 1}
	succ, r3 := topology.InstanceKey{Host: "db", Port: 2}, topology.InstanceKey{Host: "db", Port: 3}
	m := &recordingMySQL{fail: "wait-executed-0-1-10 db:2"}
	run, _ := newTestRun(t, lock, m)
	_, err := run.MasterTakeover(context.Background(), Takeover{Master: master, Successor: succ, Replicas: []topology.InstanceKey{r3}})
	if err == nil || !strings.Contains(err.Error(), "db:1 is writable again") {
		t.Fatalf("MasterTakeover = %v, want the failure and the master writable again", err)
	}
	want := []string{"read-only=true db:1", "read-gtids db:1", "wait-executed-0-1-10 db:2", "read-only=false db:1"}
	if got := m.recorded(); !slices.Equal(got, want) {
		t.Errorf("changes = %q\nwant      %q", got, want)
	}
}
