package e2e

import (
	"context"
	"fmt"
	"maps"
	"net"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/vigil-db/vigil/internal/app"
	"github.com/vigil-db/vigil/pkg/sandbox"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
)

// testEtcd is an etcd server of a test's own, which it may stop and start.
type testEtcd struct {
	t          *testing.T
	dir        string
	client     string // host:port
	peer       string
	proc       *exec.Cmd
	log        *lockedWriter
	namespaced string // coordinator URL
}

// startEtcd starts an etcd server on free loopback ports.
func startEtcd(t *testing.T) *testEtcd {
	t.Helper()
	e := &testEtcd{t: t, dir: t.TempDir(), client: freeAddr(t), peer: freeAddr(t)}
	e.namespaced = "etcd://" + e.client + "/outage"
	e.start()
	t.Cleanup(e.stop)
	return e
}

func (e *testEtcd) start() {
	e.t.Helper()
	e.log = &lockedWriter{}
	e.proc = exec.Command("etcd", "--name", "outage", "--data-dir", e.dir,
		"--listen-client-urls", "http://"+e.client, "--advertise-client-urls", "http://"+e.client,
		"--listen-peer-urls", "http://"+e.peer, "--initial-advertise-peer-urls", "http://"+e.peer,
		"--initial-cluster", "outage=http://"+e.peer)
	e.proc.Stdout, e.proc.Stderr = e.log, e.log
	if err := e.proc.Start(); err != nil {
		e.t.Fatalf("start etcd: %v", err)
	}
	client, err := clientv3.New(clientv3.Config{Endpoints: []string{e.client}, DialTimeout: 2 * time.Second})
	if err != nil {
		e.t.Fatal(err)
	}
	defer client.Close()
	eventually(e.t, 20*time.Second, "etcd answers", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := client.Get(ctx, "health")
		return err
	})
}

// stop stops the server; its data stays for the next start.
func (e *testEtcd) stop() {
	if e.proc == nil {
		return
	}
	_ = e.proc.Process.Signal(syscall.SIGTERM)
	_ = e.proc.Wait()
	e.proc = nil
}

// freeAddr returns a loopback address with a port free now.
func freeAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	return lis.Addr().String()
}

// TestEtcdOutage stops etcd for 30 s under two discovery members, an
// analyzer and a recovery service. Discovery keeps probing what each
// member owned, and ownership does not move; a master killed meanwhile is
// detected, but not recovered without the cluster lock; when etcd is back
// the members rejoin without ownership moving, and the recovery runs.
func TestEtcdOutage(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(2))
	m := topo.Master()
	var keys []string
	for _, inst := range topo.Instances() {
		keys = append(keys, inst.Key)
	}
	etcd := startEtcd(t)
	dsn := testConfig(t).Store
	var members []*discoveryMember
	for _, id := range []string{"d1", "d2"} {
		members = append(members, startMember(t, dsn, etcd.namespaced, []string{m.Key}, memberSpec{id: id, domain: "dc-" + id, replicationFactor: 1, membershipTTL: 5 * time.Second}))
	}
	s := membersStack(t, dsn, etcd.namespaced, app.Analyzer, app.Recovery)
	waitForCluster(t, s, m.Key, len(keys))
	var before map[string][]string
	eventually(t, 15*time.Second, "every instance observed by one member", func() error {
		got, err := observersOf(t, s, keys)
		if err != nil {
			return err
		}
		for k, ids := range got {
			if len(ids) != 1 {
				return fmt.Errorf("%s observed by %v", k, ids)
			}
		}
		before = got
		return nil
	})
	events := followEvents(t, s)

	etcd.stop()
	stopped := time.Now()
	// Past the members' 5s membership TTL: their sessions end on their
	// side, and they must keep what they own.
	waitPast(stopped.Add(7 * time.Second))
	if err := m.Kill(); err != nil {
		t.Fatal(err)
	}
	events.waitFor(t, "DeadMaster", m.Key, 10*time.Second)
	for time.Since(stopped) < 30*time.Second {
		got, err := observersOf(t, s, keys)
		if err != nil {
			t.Fatal(err)
		}
		if !maps.EqualFunc(got, before, slices.Equal) {
			t.Fatalf("observers moved while etcd was down: %v, before %v", got, before)
		}
		for _, k := range keys[1:] { // the replicas, still probed by their owner
			inst := getInstance(t, s, k)
			if age := time.Since(inst.GetObservers()[0].GetProbeFinished().AsTime()); age > 4*pollInterval {
				t.Fatalf("%s last probed %s ago while etcd was down", k, age)
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	assertNoRecovery(t, s)
	for _, r := range topo.Instances()[1:] {
		if ro := queryString(t, r, "SELECT @@read_only"); ro != "1" {
			t.Fatalf("%s read_only = %s while etcd was down: recovery acted without its lock", r.Name, ro)
		}
	}

	// etcd back: the members rejoin without anyone seeing them leave, and
	// the recovery runs.
	etcd.start()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, err := observersOf(t, s, keys)
		if err != nil {
			t.Fatal(err)
		}
		if !maps.EqualFunc(got, before, slices.Equal) {
			t.Fatalf("observers moved when etcd came back: %v, before %v", got, before)
		}
		resp, err := s.recovery.ListRecoveries(ctxT(t), &recoveryv1.ListRecoveriesRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if recs := resp.GetRecoveries(); len(recs) > 0 && recs[0].GetOutcome() != recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_RUNNING {
			if recs[0].GetOutcome() != recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SUCCEEDED {
				t.Fatalf("recovery after etcd came back = %s: %s", recs[0].GetOutcome(), recs[0].GetReason())
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no recovery within 60s of etcd coming back")
		}
		time.Sleep(100 * time.Millisecond)
	}
	for i, member := range members {
		if strings.Contains(member.logs(), "panic") {
			t.Errorf("member d%d panicked:\n%s", i+1, member.logs())
		}
	}
}
