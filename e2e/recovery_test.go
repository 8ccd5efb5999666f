package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/vigil-db/vigil/internal/app"
	"github.com/vigil-db/vigil/pkg/coord/etcd"
	"github.com/vigil-db/vigil/pkg/sandbox"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
	"github.com/vigil-db/vigil/services/recovery"
)

// etcdNamespace returns a coordinator URL on the test etcd with a
// namespace of the test's own.
func etcdNamespace(t *testing.T) (url, namespace string) {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	namespace = "e2e-" + hex.EncodeToString(b)
	return "etcd://127.0.0.1:2379/" + namespace, namespace
}

// recoveryStack runs every service on a sandbox topology with the
// coordinator on the test etcd, and returns the etcd namespace.
func recoveryStack(t *testing.T, topo *sandbox.Topology) (*stack, string) {
	t.Helper()
	cfg := testConfig(t)
	cfg.Discovery.Seeds = []string{topo.Master().Key}
	url, ns := etcdNamespace(t)
	cfg.Coordinator = url
	s := startStack(t, cfg)
	waitForCluster(t, s, topo.Master().Key, len(topo.Instances()))
	return s, ns
}

// waitForRecovery waits until the recovery of a failed instance has ended,
// and returns it with its steps.
func waitForRecovery(t *testing.T, s *stack, failed string, within time.Duration) *recoveryv1.Recovery {
	t.Helper()
	return waitForRecoveryWhere(t, s, "recovery of "+failed+" ended", within, func(r *recoveryv1.Recovery) bool {
		return keyString(r.GetFailedInstance()) == failed && r.GetOutcome() != recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_RUNNING
	})
}

// waitForRecoveryWhere waits until the newest recovery for which match is
// true exists, and returns it with its steps.
func waitForRecoveryWhere(t *testing.T, s *stack, what string, within time.Duration, match func(*recoveryv1.Recovery) bool) *recoveryv1.Recovery {
	t.Helper()
	var found *recoveryv1.Recovery
	eventually(t, within, what, func() error {
		resp, err := s.recovery.ListRecoveries(ctxT(t), &recoveryv1.ListRecoveriesRequest{})
		if err != nil {
			return err
		}
		for _, r := range resp.GetRecoveries() {
			if match(r) {
				found = r
				return nil
			}
		}
		return fmt.Errorf("recoveries: %v", resp.GetRecoveries())
	})
	resp, err := s.recovery.GetRecovery(ctxT(t), &recoveryv1.GetRecoveryRequest{Id: found.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetRecovery()
}

// waitForFencing waits until a recovery's audit says that the master it
// replaced was fenced when it answered again.
func waitForFencing(t *testing.T, s *stack, id string) {
	t.Helper()
	eventually(t, 5*time.Second, "fencing in the audit", func() error {
		resp, err := s.recovery.GetRecovery(ctxT(t), &recoveryv1.GetRecoveryRequest{Id: id})
		if err != nil {
			return err
		}
		for _, st := range resp.GetRecovery().GetSteps() {
			if st.GetName() == "fence-woken-master" && st.GetOk() {
				return nil
			}
		}
		return fmt.Errorf("steps: %v", resp.GetRecovery().GetSteps())
	})
}

// queryString runs a one-value query on a sandbox instance.
func queryString(t *testing.T, i *sandbox.Instance, query string) string {
	t.Helper()
	var v string
	if err := i.AdminDB().QueryRowContext(ctxT(t), query).Scan(&v); err != nil {
		t.Fatalf("%s on %s: %v", query, i, err)
	}
	return v
}

// instanceByKey returns the sandbox instance listening at key.
func instanceByKey(t *testing.T, topo *sandbox.Topology, key string) *sandbox.Instance {
	t.Helper()
	i := topo.InstanceAt(key)
	if i == nil {
		t.Fatalf("no sandbox instance at %s", key)
	}
	return i
}

func TestRecoverKilledMaster(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(3))
	s, ns := recoveryStack(t, topo)
	m := topo.Master()
	mustExec(t, m, "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY)")
	for i := range 100 {
		mustExec(t, m, fmt.Sprintf("INSERT INTO app.t VALUES (%d)", i))
	}
	if err := topo.WaitReplicating(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	// These may or may not reach a replica before the kill: replication is
	// asynchronous. Whatever reached any replica must be on the new master.
	for i := 100; i < 150; i++ {
		mustExec(t, m, fmt.Sprintf("INSERT INTO app.t VALUES (%d)", i))
	}
	if err := m.Kill(); err != nil {
		t.Fatal(err)
	}

	rec := waitForRecovery(t, s, m.Key, 20*time.Second)
	if rec.GetOutcome() != recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SUCCEEDED {
		t.Fatalf("recovery %s: %s (%s), steps %v", rec.GetId(), rec.GetOutcome(), rec.GetReason(), rec.GetSteps())
	}
	if rec.GetFencingToken() <= 0 || rec.GetStartedBy() != "automated" || len(rec.GetLostReplicas()) != 0 {
		t.Errorf("recovery: token %d, started by %q, lost %v", rec.GetFencingToken(), rec.GetStartedBy(), rec.GetLostReplicas())
	}
	newMaster := instanceByKey(t, topo, keyString(rec.GetSuccessor()))
	if ro := queryString(t, newMaster, "SELECT @@read_only"); ro != "0" {
		t.Errorf("new master %s read_only = %s", newMaster, ro)
	}
	rows, err := strconv.Atoi(queryString(t, newMaster, "SELECT COUNT(*) FROM app.t"))
	if err != nil || rows < 100 {
		t.Errorf("new master has %d rows (%v), want at least the 100 every replica had", rows, err)
	}
	// A replica that had a row the new master lacks would end up with
	// more rows than it, or stop replicating.
	mustExec(t, newMaster, "INSERT INTO app.t VALUES (1000)")
	want := strconv.Itoa(rows + 1)
	for _, r := range topo.Instances() {
		if r == m || r == newMaster {
			continue
		}
		eventually(t, 10*time.Second, r.String()+" replicates from the new master", func() error {
			st, err := r.ReplicaStatus(ctxT(t))
			if err != nil {
				return err
			}
			if st["Master_Port"] != strconv.Itoa(newMaster.Port) || st["Slave_IO_Running"] != "Yes" || st["Slave_SQL_Running"] != "Yes" {
				return fmt.Errorf("source port %s, IO %s, SQL %s", st["Master_Port"], st["Slave_IO_Running"], st["Slave_SQL_Running"])
			}
			if n := queryString(t, r, "SELECT COUNT(*) FROM app.t"); n != want {
				return fmt.Errorf("%s rows, want the new master's %s", n, want)
			}
			return nil
		})
	}

	downtimes, err := s.recovery.ListDowntimes(ctxT(t), &recoveryv1.ListDowntimesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(downtimes.GetDowntimes()) != 1 || keyString(downtimes.GetDowntimes()[0].GetInstance()) != m.Key {
		t.Errorf("downtimes = %v, want the old master only", downtimes.GetDowntimes())
	}

	c, err := etcd.Dial([]string{"http://127.0.0.1:2379"}, ns)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	value, ok, err := c.Get(ctxT(t), recovery.MasterKey(m.Key))
	if err != nil || !ok {
		t.Fatalf("published master: %v, found %v", err, ok)
	}
	var published struct {
		Host string
		Port int
	}
	if err := json.Unmarshal(value, &published); err != nil || published.Port != newMaster.Port {
		t.Errorf("published master = %s (%v), want port %d", value, err, newMaster.Port)
	}
	t.Logf("recovery phases: %v", rec.GetPhases())

	// The audit over REST, and its errors.
	code, body := rest(t, s, "GET", "/api/v1/recoveries/"+rec.GetId(), "")
	if steps, _ := body["recovery"].(map[string]any)["steps"].([]any); code != 200 || len(steps) == 0 {
		t.Errorf("GET recovery = %d %v, want 200 with steps", code, body)
	}
	if code, body := rest(t, s, "GET", "/api/v1/recoveries?cluster="+m.Key, ""); code != 200 || len(body["recoveries"].([]any)) != 1 {
		t.Errorf("GET recoveries = %d %v, want the one recovery", code, body)
	}
	if code, _ := rest(t, s, "GET", "/api/v1/recoveries/no-such-id", ""); code != 404 {
		t.Errorf("GET unknown recovery = %d, want 404", code)
	}
	if code, body := rest(t, s, "POST", "/api/v1/recoveries:acknowledge", `{"cluster":"`+m.Key+`"}`); code != 400 {
		t.Errorf("acknowledge without a comment = %d %v, want 400", code, body)
	}
	if code, body := rest(t, s, "GET", "/api/v1/recoveries:blocked", ""); code != 200 || len(body["clusters"].([]any)) != 1 {
		t.Errorf("GET blocked = %d %v, want the recovered cluster", code, body)
	}
}

func TestRecoverFrozenMasterAndFenceItWhenItWakes(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(2))
	s, _ := recoveryStack(t, topo)
	m := topo.Master()
	t.Cleanup(func() { _ = m.Thaw() })
	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	rec := waitForRecovery(t, s, m.Key, 20*time.Second)
	if rec.GetOutcome() != recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SUCCEEDED {
		t.Fatalf("recovery %s: %s (%s), steps %v", rec.GetId(), rec.GetOutcome(), rec.GetReason(), rec.GetSteps())
	}
	t.Logf("recovery phases: %v", rec.GetPhases())
	woke := time.Now()
	if err := m.Thaw(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "woken master read-only", func() error {
		if ro := queryString(t, m, "SELECT @@read_only"); ro != "1" {
			return fmt.Errorf("read_only = %s", ro)
		}
		return nil
	})
	t.Logf("woken master read-only %s after SIGCONT (upper bound: includes this test's polling)", time.Since(woke).Round(time.Millisecond))
	waitForFencing(t, s, rec.GetId())
	if hosts := queryString(t, m, "SELECT COUNT(*) FROM information_schema.processlist WHERE command LIKE 'Binlog Dump%'"); hosts != "0" {
		t.Errorf("%s replicas still replicate from the woken master", hosts)
	}
}

func mustExec(t *testing.T, i *sandbox.Instance, query string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := i.Exec(ctx, query); err != nil {
		t.Fatal(err)
	}
}

// assertNoRecovery fails the test if the recovery service recorded any
// recovery, taken or declined: the failure seen was not one to act on.
func assertNoRecovery(t *testing.T, s *stack) {
	t.Helper()
	resp, err := s.recovery.ListRecoveries(ctxT(t), &recoveryv1.ListRecoveriesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetRecoveries()) > 0 {
		t.Errorf("recoveries recorded: %v", resp.GetRecoveries())
	}
}

// TestWokenMasterFencedAfterARecoveryRestart freezes the master, lets it be
// replaced, restarts the recovery service, then resumes the old master: the
// restarted service still makes it read-only.
func TestWokenMasterFencedAfterARecoveryRestart(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(2))
	m := topo.Master()
	t.Cleanup(func() { _ = m.Thaw() })
	cfg := testConfig(t)
	cfg.Discovery.Seeds = []string{m.Key}
	cfg.Services = []string{app.Discovery, app.Analyzer}
	s := startStack(t, cfg)
	waitForCluster(t, s, m.Key, 3)
	recoveryCfg := cfg
	recoveryCfg.Services = []string{app.Recovery}
	recoveryCfg.Recovery.AnalyzerAddrs = []string{s.app.Addr(app.Analyzer)}
	recoveryCfg.Recovery.DiscoveryAddrs = []string{s.app.Addr(app.Discovery)}
	first := startStack(t, recoveryCfg)

	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	rec := waitForRecovery(t, first, m.Key, 20*time.Second)
	if rec.GetOutcome() != recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SUCCEEDED {
		t.Fatalf("recovery: %s (%s)", rec.GetOutcome(), rec.GetReason())
	}
	first.stop()
	again := startStack(t, recoveryCfg)
	eventually(t, 10*time.Second, "the restarted service watches the replaced master", func() error {
		if len(again.logs.lines("watching a replaced master again", m.Key)) == 0 {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	if err := m.Thaw(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "woken master read-only", func() error {
		if ro := queryString(t, m, "SELECT @@read_only"); ro != "1" {
			return fmt.Errorf("read_only = %s", ro)
		}
		return nil
	})
	waitForFencing(t, again, rec.GetId())
}
