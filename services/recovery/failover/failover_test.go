package failover

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	gproto "google.golang.org/protobuf/proto"

	"github.com/vigil-db/vigil/pkg/coord"
	"github.com/vigil-db/vigil/pkg/coord/etcd"
	"github.com/vigil-db/vigil/pkg/mysql"
	"github.com/vigil-db/vigil/pkg/topology"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// recordingMySQL records what a recovery does to servers and answers
// probes from fixed snapshots. onCall, if set, runs before each change.
type recordingMySQL struct {
	mu     sync.Mutex
	calls  []string
	snaps  map[topology.InstanceKey]*topologyv1.Snapshot
	onCall func(call string)
	// fail makes the named call fail.
	fail string
}

func (m *recordingMySQL) change(op string, k topology.InstanceKey) error {
	call := op + " " + k.String()
	if m.onCall != nil {
		m.onCall(call)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, call)
	if call == m.fail {
		return errors.New(call + " failed")
	}
	return nil
}

func (m *recordingMySQL) Probe(_ context.Context, k topology.InstanceKey) *topologyv1.Snapshot {
	return m.snaps[k]
}
func (m *recordingMySQL) SetReadOnly(_ context.Context, k topology.InstanceKey, ro bool) error {
	return m.change(fmt.Sprintf("read-only=%v", ro), k)
}
func (m *recordingMySQL) StopReplicationIO(_ context.Context, k topology.InstanceKey) error {
	return m.change("stop-io", k)
}
func (m *recordingMySQL) StopReplication(_ context.Context, k topology.InstanceKey) error {
	return m.change("stop", k)
}
func (m *recordingMySQL) WaitRelayLogApplied(_ context.Context, k topology.InstanceKey, _ time.Duration) error {
	return m.change("wait", k)
}
func (m *recordingMySQL) Promote(_ context.Context, k topology.InstanceKey) error {
	return m.change("promote", k)
}
func (m *recordingMySQL) SetSemiSyncSource(_ context.Context, k topology.InstanceKey, on bool) error {
	return m.change(fmt.Sprintf("semi-sync-source=%v", on), k)
}
func (m *recordingMySQL) ReplicateFrom(_ context.Context, k, src topology.InstanceKey) error {
	return m.change("replicate-from-"+src.String(), k)
}

func (m *recordingMySQL) ExecutedGTIDs(_ context.Context, k topology.InstanceKey) (string, error) {
	return "0-1-10", m.change("read-gtids", k)
}
func (m *recordingMySQL) WaitExecuted(_ context.Context, k topology.InstanceKey, gtids string) error {
	return m.change("wait-executed-"+gtids, k)
}
func (m *recordingMySQL) ReplicateFromAsFormerMaster(_ context.Context, k, src topology.InstanceKey, _ mysql.Credentials) error {
	return m.change("former-master-of-"+src.String(), k)
}

func (m *recordingMySQL) recorded() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.calls)
}

func replicaSnapshot(k topology.InstanceKey, gtid string) *topologyv1.Snapshot {
	return &topologyv1.Snapshot{
		Key: k.Proto(), Reachable: true,
		Server: &topologyv1.Server{Flavor: topologyv1.Flavor_FLAVOR_MARIADB, MajorVersion: "10.11", LogBin: true,
			LogReplicaUpdates: true, BinlogFormat: "ROW", GtidSlavePos: gtid, GtidBinlogPos: gtid, ServerId: uint32(k.Port)},
		Channels: []*topologyv1.ReplicationChannel{{Source: &topologyv1.InstanceKey{Host: "db", Port: 1}}},
	}
}

// etcdLock takes a lock on the test etcd and returns it with a function
// that revokes its session's lease behind its back, as a partition would.
func etcdLock(t *testing.T) (coord.Lock, func()) {
	t.Helper()
	client, err := clientv3.New(clientv3.Config{Endpoints: []string{"127.0.0.1:2379"}, DialTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	c := etcd.New(client, "failover-test-"+hex.EncodeToString(b))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := c.NewSession(ctx, 10*time.Second)
	if err != nil {
		t.Fatalf("etcd at 127.0.0.1:2379 (run scripts/deps.sh): %v", err)
	}
	t.Cleanup(func() { s.Close() })
	l, err := s.Lock(ctx, "clusters/db:1")
	if err != nil {
		t.Fatal(err)
	}
	revoke := func() {
		lease := s.(interface{ Lease() clientv3.LeaseID }).Lease()
		if _, err := client.Revoke(context.Background(), lease); err != nil {
			t.Errorf("revoke: %v", err)
		}
	}
	return l, revoke
}

func newTestRun(t *testing.T, lock coord.Lock, m MySQL) (*Run, func() *recoveryv1.Recovery) {
	var (
		mu    sync.Mutex
		saved *recoveryv1.Recovery
	)
	save := func(_ context.Context, r *recoveryv1.Recovery) error {
		mu.Lock()
		defer mu.Unlock()
		saved = protoClone(r)
		return nil
	}
	run := NewRun(&recoveryv1.Recovery{Id: "r"}, lock, m, Bounds{Step: time.Second, RelayLog: time.Second, CatchUp: time.Second}, save, slog.New(slog.DiscardHandler))
	return run, func() *recoveryv1.Recovery { mu.Lock(); defer mu.Unlock(); return saved }
}

// TestLostLockStopsEveryChange revokes the recovery's etcd session while the
// replica applies its relay log: no further change reaches any server, and
// the audit says why.
func TestLostLockStopsEveryChange(t *testing.T) {
	lock, revoke := etcdLock(t)
	dead := topology.InstanceKey{Host: "db", Port: 1}
	r1 := topology.InstanceKey{Host: "db", Port: 2}
	m := &recordingMySQL{snaps: map[topology.InstanceKey]*topologyv1.Snapshot{r1: replicaSnapshot(r1, "0-1-10")}}
	m.onCall = func(call string) {
		if call == "wait "+r1.String() {
			revoke()
		}
	}
	run, saved := newTestRun(t, lock, m)

	res, err := run.RecoverDeadMaster(context.Background(), DeadMaster{Key: dead, Replicas: []topology.InstanceKey{r1}})
	<-res.OldMasterFenced
	if !errors.Is(err, ErrFenced) {
		t.Fatalf("RecoverDeadMaster = %v, want ErrFenced", err)
	}
	// The old master's fence runs alongside and may or may not have
	// checked the lock before the lease went.
	got, _ := withoutFence(m.recorded(), dead)
	if want := []string{"stop-io db:2", "wait db:2"}; !slices.Equal(got, want) {
		t.Errorf("changes = %q, want only %q", got, want)
	}
	refused := slices.IndexFunc(saved().GetSteps(), func(st *recoveryv1.RecoveryStep) bool {
		return st.GetName() == "promote" && !st.GetOk() && st.GetMessage() == "not done: the cluster lock is lost (lock lost)"
	})
	if refused < 0 {
		t.Errorf("audit steps = %v, want promote not done for the lost lock", saved().GetSteps())
	}
}

// TestDeadMasterOrder checks the order of a dead master recovery: fence,
// stop every IO thread, wait for relay logs, promote the most advanced
// replica, then repoint the others.
func TestDeadMasterOrder(t *testing.T) {
	lock, _ := etcdLock(t)
	dead := topology.InstanceKey{Host: "db", Port: 1}
	r1, r2 := topology.InstanceKey{Host: "db", Port: 2}, topology.InstanceKey{Host: "db", Port: 3}
	m := &recordingMySQL{snaps: map[topology.InstanceKey]*topologyv1.Snapshot{
		r1: replicaSnapshot(r1, "0-1-10"), r2: replicaSnapshot(r2, "0-1-12"),
	}}
	run, saved := newTestRun(t, lock, m)
	res, err := run.RecoverDeadMaster(context.Background(), DeadMaster{Key: dead, Replicas: []topology.InstanceKey{r1, r2}})
	<-res.OldMasterFenced
	if err != nil || res.Successor != r2 {
		t.Fatalf("RecoverDeadMaster = %+v, %v; want r2 promoted", res, err)
	}
	got, fenced := withoutFence(m.recorded(), dead)
	if !fenced {
		t.Errorf("changes = %q, want the old master fenced", m.recorded())
	}
	phases := [][]string{
		{"stop-io db:2", "stop-io db:3"},
		{"wait db:2", "wait db:3"},
		{"promote db:3"},
		{"replicate-from-db:3 db:2"},
	}
	checkPhases(t, got, phases)
	var names []string
	for _, st := range saved().GetSteps() {
		names = append(names, st.GetName())
	}
	if !slices.Contains(names, "choose-candidate") {
		t.Errorf("audit steps %q lack the candidate choice", names)
	}
}

func protoClone(r *recoveryv1.Recovery) *recoveryv1.Recovery { return gproto.CloneOf(r) }

// TestDeadCoMasterPromotesTheSurvivor checks that the surviving co-master
// stops taking anything from the dead one before it is promoted, and that
// the dead one's replicas move under it.
func TestDeadCoMasterPromotesTheSurvivor(t *testing.T) {
	lock, _ := etcdLock(t)
	dead := topology.InstanceKey{Host: "db", Port: 1}
	survivor, r2 := topology.InstanceKey{Host: "db", Port: 2}, topology.InstanceKey{Host: "db", Port: 3}
	m := &recordingMySQL{}
	run, _ := newTestRun(t, lock, m)
	res, err := run.RecoverDeadCoMaster(context.Background(), DeadCoMaster{Key: dead, CoMaster: survivor, Replicas: []topology.InstanceKey{r2}})
	<-res.OldMasterFenced
	if err != nil || res.Successor != survivor {
		t.Fatalf("RecoverDeadCoMaster = %+v, %v; want the survivor", res, err)
	}
	got, fenced := withoutFence(m.recorded(), dead)
	if !fenced {
		t.Errorf("changes = %q, want the old master fenced", m.recorded())
	}
	phases := [][]string{
		{"stop-io db:2", "stop-io db:3"},
		{"wait db:2", "wait db:3"},
		{"promote db:2"},
		{"replicate-from-db:2 db:3"},
	}
	checkPhases(t, got, phases)
}

// checkPhases checks that got is phases in order; the changes within one
// phase run in parallel and may come in any order.
func checkPhases(t *testing.T, got []string, phases [][]string) {
	t.Helper()
	i := 0
	for _, phase := range phases {
		if i+len(phase) > len(got) {
			t.Fatalf("changes = %q, want phases %q", got, phases)
		}
		part := slices.Clone(got[i : i+len(phase)])
		slices.Sort(part)
		if !slices.Equal(part, phase) {
			t.Fatalf("changes = %q, want phases %q", got, phases)
		}
		i += len(phase)
	}
	if i != len(got) {
		t.Fatalf("changes = %q, want only phases %q", got, phases)
	}
}

// withoutFence removes the old master's fence from the changes (it runs
// alongside the others, in no fixed place) and says whether it was there.
func withoutFence(got []string, dead topology.InstanceKey) ([]string, bool) {
	fence := "read-only=true " + dead.String()
	n := len(got)
	got = slices.DeleteFunc(got, func(c string) bool { return c == fence })
	return got, len(got) < n
}
