package e2e

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/vigil-db/vigil/internal/app"
	"github.com/vigil-db/vigil/pkg/coord/backend"
	"github.com/vigil-db/vigil/pkg/grpcx"
	"github.com/vigil-db/vigil/pkg/sandbox"
	"github.com/vigil-db/vigil/pkg/shard"
	discoveryv1 "github.com/vigil-db/vigil/proto/vigil/discovery/v1"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
)

// membersStack runs services in this process on the store dsn, following
// the discovery members registered on the coordinator at url.
func membersStack(t *testing.T, dsn, url string, services ...string) *stack {
	t.Helper()
	cfg := testConfig(t)
	cfg.Store = dsn
	cfg.Services = services
	cfg.Coordinator = url
	cfg.Analyzer.DiscoveryAddrs = nil
	cfg.Recovery.DiscoveryAddrs = nil
	return startStack(t, cfg)
}

// wantOwners returns, per instance, the ids of the r members that should
// observe it when the members live are up.
func wantOwners(keys []string, live []shard.Member, r int) map[string][]string {
	out := map[string][]string{}
	for _, k := range keys {
		var ids []string
		for _, m := range shard.Owners(k, live, r) {
			ids = append(ids, m.ID)
		}
		slices.Sort(ids)
		out[k] = ids
	}
	return out
}

// waitObservers waits until every instance is observed by exactly the
// members want names, and returns how long that took.
func waitObservers(t *testing.T, s *stack, keys []string, want map[string][]string, what string) time.Duration {
	t.Helper()
	start := time.Now()
	eventually(t, 30*time.Second, what, func() error {
		got, err := observersOf(t, s, keys)
		if err != nil {
			return err
		}
		if !maps.EqualFunc(got, want, slices.Equal) {
			return fmt.Errorf("observers %v, want %v", got, want)
		}
		return nil
	})
	return time.Since(start)
}

// TestShardedDiscoveryThreeMembers runs three discovery processes with a
// replication factor of 2: every instance is probed by exactly its two
// owners; a member killed with SIGKILL has its instances re-owned once its
// lease expires; restarted, it rejoins and ownership settles without
// flapping.
func TestShardedDiscoveryThreeMembers(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(3))
	var keys []string
	for _, inst := range topo.Instances() {
		keys = append(keys, inst.Key)
	}
	url, _ := etcdNamespace(t)
	dsn := testConfig(t).Store
	members := []shard.Member{{ID: "d1", Domain: "dc1"}, {ID: "d2", Domain: "dc2"}, {ID: "d3", Domain: "dc3"}}
	procs := map[string]*discoveryMember{}
	for _, m := range members {
		procs[m.ID] = startMember(t, dsn, url, []string{topo.Master().Key}, memberSpec{id: m.ID, domain: m.Domain, replicationFactor: 2})
	}
	s := membersStack(t, dsn, url, app.Analyzer)
	waitForCluster(t, s, topo.Master().Key, len(keys))
	waitObservers(t, s, keys, wantOwners(keys, members, 2), "every instance observed by its two owners")
	checkListMembers(t, url, members, 2*len(keys))

	procs["d1"].kill()
	took := waitObservers(t, s, keys, wantOwners(keys, members[1:], 2), "d1's instances re-owned by d2 and d3")
	t.Logf("instances re-owned %s after d1 was killed (membership TTL 2s, poll %s)", took.Round(time.Millisecond), pollInterval)

	procs["d1"].start()
	took = waitObservers(t, s, keys, wantOwners(keys, members, 2), "d1 rejoined and owns its share again")
	t.Logf("ownership settled %s after d1 restarted", took.Round(time.Millisecond))
	// Settled means settled: no flapping for a while.
	deadline := time.Now().Add(10 * pollInterval)
	for time.Now().Before(deadline) {
		got, err := observersOf(t, s, keys)
		if err != nil {
			t.Fatal(err)
		}
		if want := wantOwners(keys, members, 2); !maps.EqualFunc(got, want, slices.Equal) {
			t.Fatalf("ownership moved after it settled: %v, want %v\nd1 said:\n%s", got, want, procs["d1"].logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkListMembers asks a member for the members: every one listed with
// its domain and address, owning owned instances in all.
func checkListMembers(t *testing.T, url string, want []shard.Member, owned int) {
	t.Helper()
	c, err := backend.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel() // before the coordinator closes
	view := shard.Follow(ctx, c)
	eventually(t, 10*time.Second, "members registered", func() error {
		if got := len(view.List()); got != len(want) {
			return fmt.Errorf("%d members", got)
		}
		return nil
	})
	conn, err := grpcx.Dial(view.List()[0].Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := discoveryv1.NewDiscoveryServiceClient(conn)
	// Owned counts of the others come with their heartbeats.
	eventually(t, 15*time.Second, "ListMembers lists every member and the instances they own", func() error {
		resp, err := client.ListMembers(ctxT(t), &discoveryv1.ListMembersRequest{})
		if err != nil {
			return err
		}
		if !resp.GetCoordinated() || len(resp.GetMembers()) != len(want) {
			return fmt.Errorf("coordinated %v, members %v", resp.GetCoordinated(), resp.GetMembers())
		}
		total := 0
		for i, m := range resp.GetMembers() {
			if m.GetMemberId() != want[i].ID || m.GetDomain() != want[i].Domain || m.GetAddr() == "" ||
				m.GetReplicationFactor() != 2 || m.GetLeaseTtl().AsDuration() != 2*time.Second || m.GetJoined() == nil {
				return fmt.Errorf("member %d = %v, want %v", i, m, want[i])
			}
			total += int(m.GetOwnedInstances())
		}
		if total != owned {
			return fmt.Errorf("%d instances owned in all, want %d: %v", total, owned, resp.GetMembers())
		}
		return nil
	})
}

// TestQuorumOfObservers runs three discovery members with a replication
// factor of 3, each probing from its own address, and a master they reach
// through a proxy that cuts clients off by address. The replicas reach the
// master through the proxy too. One observer cut off, with the replicas,
// is no DeadMaster and no recovery; two of three give the verdict, the
// event names the observers, and the recovery runs. Two analyzers reach
// the same verdicts.
func TestQuorumOfObservers(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(2))
	m := topo.Master()
	proxy := startSourceProxy(t, m.Key)
	replicateThrough(t, topo, proxy.Addr())
	url, _ := etcdNamespace(t)
	dsn := testConfig(t).Store
	seeds := []string{topo.Instance("r1").Key} // the crawl finds the master at the proxy
	sources := map[string]string{"d1": "127.0.0.11", "d2": "127.0.0.12", "d3": "127.0.0.13"}
	for _, id := range []string{"d1", "d2", "d3"} {
		startMember(t, dsn, url, seeds, memberSpec{id: id, domain: "dc-" + id, sourceAddr: sources[id], replicationFactor: 3})
	}
	s := membersStack(t, dsn, url, app.Analyzer, app.Recovery)
	keys := []string{proxy.Addr(), topo.Instance("r1").Key, topo.Instance("r2").Key}
	waitForCluster(t, s, proxy.Addr(), 3)
	all := []string{"d1", "d2", "d3"}
	waitObservers(t, s, keys, map[string][]string{keys[0]: all, keys[1]: all, keys[2]: all}, "three observers of every instance")
	events := followEvents(t, s)
	// A second analyzer, following the same members, reaches the same verdicts.
	other := membersStack(t, dsn, url, app.Analyzer)
	waitObservers(t, other, keys, map[string][]string{keys[0]: all, keys[1]: all, keys[2]: all}, "three observers of every instance, for the second analyzer")
	otherEvents := followEvents(t, other)

	// One observer and the replicas cut off from the master.
	proxy.CutFrom("127.0.0.1", sources["d3"])
	eventually(t, 10*time.Second, "d3 alone sees the master unreachable, the replicas lost it", func() error {
		inst := getInstance(t, s, keys[0])
		for _, o := range inst.GetObservers() {
			if o.GetReachable() != (o.GetMemberId() != "d3") {
				return fmt.Errorf("observers %v", inst.GetObservers())
			}
		}
		for _, r := range keys[1:] {
			if getInstance(t, s, r).GetReplicating() {
				return fmt.Errorf("%s still replicates", r)
			}
		}
		return nil
	})
	waitPast(time.Now().Add(4 * pollInterval))
	events.assertNone(t, recoveryCodes...)
	otherEvents.assertNone(t, recoveryCodes...)
	assertNoRecovery(t, s)

	// A second observer cut off: a majority saw the master fail.
	proxy.CutFrom(sources["d2"])
	d, _ := events.waitFor(t, "DeadMaster", proxy.Addr(), 10*time.Second)
	otherEvents.waitFor(t, "DeadMaster", proxy.Addr(), 10*time.Second)
	var named []string
	for _, e := range d.GetEvidence() {
		if keyString(e.GetInstance()) == proxy.Addr() {
			named = append(named, e.GetObserverId())
		}
	}
	for _, id := range all {
		if !slices.Contains(named, id) {
			t.Errorf("DeadMaster evidence names %v, want every observer (%s missing)", named, id)
		}
	}
	rec := waitForRecovery(t, s, proxy.Addr(), 30*time.Second)
	if rec.GetOutcome() != recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SUCCEEDED {
		t.Fatalf("recovery = %s: %s", rec.GetOutcome(), rec.GetReason())
	}
}
