package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigil-db/vigil/internal/app"
	"github.com/vigil-db/vigil/pkg/process/processtest"
	"github.com/vigil-db/vigil/pkg/sandbox"
	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
	discoveryv1 "github.com/vigil-db/vigil/proto/vigil/discovery/v1"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// TestStreamSurvivesRestarts runs discovery and the analyzer as separate
// processes (as in production) and restarts each of them.
func TestStreamSurvivesRestarts(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(2))
	master := topo.Master().Key

	base, discoveryCfg, analyzerCfg := separateProcesses(t, master)

	parent := t // services started in subtests must outlive them
	disc := startStack(t, discoveryCfg)
	an := startStack(t, analyzerCfg)
	waitForCluster(t, an, master, 3)
	eventuallyStored(t, base.Store, 3)
	// Restarting Vigil is no evidence of anything: no detection at all.
	events := followEvents(t, an)

	t.Run("discovery restarts and resumes from the store", func(t *testing.T) {
		disc.stop()
		restarted := time.Now()
		resumed := base
		resumed.Services = []string{app.Discovery} // no seeds: everything comes from PostgreSQL
		disc = startStack(parent, resumed)
		eventually(t, 10*time.Second, "fresh snapshots of every instance after the restart", func() error {
			for _, inst := range topo.Instances() {
				got := getInstance(t, an, inst.Key).GetSnapshot().GetProbeFinished().AsTime()
				if got.Before(restarted) {
					return fmt.Errorf("%s last probed %s, before the restart", inst.Key, got)
				}
			}
			return nil
		})
	})

	t.Run("analyzer restarts and re-syncs", func(t *testing.T) {
		an.stop()
		if got := events.summary(); got != "none" {
			t.Errorf("detections while discovery restarted: %s", got)
		}
		again := startStack(parent, analyzerCfg)
		events = followEvents(parent, again)
		waitForCluster(t, again, master, 3)
		an = again
		waitPast(time.Now().Add(3 * pollInterval))
		if got := events.summary(); got != "none" {
			t.Errorf("detections after the analyzer restarted: %s", got)
		}
		assertNoRecovery(t, an)
	})

	t.Run("forgotten instance leaves analyzer and store", func(t *testing.T) {
		r2 := topo.Instance("r2")
		if err := r2.Exec(ctxT(t), "STOP SLAVE; RESET SLAVE ALL"); err != nil {
			t.Fatal(err)
		}
		// r2 is no longer a replica of the master, so the crawl will not bring it back.
		eventually(t, 5*time.Second, "master stops reporting r2", func() error {
			m := getInstance(t, an, master)
			if len(m.GetSnapshot().GetReplicas()) != 1 {
				return fmt.Errorf("master reports %d replicas", len(m.GetSnapshot().GetReplicas()))
			}
			return nil
		})
		if _, err := disc.discovery.ForgetInstance(ctxT(t), &discoveryv1.ForgetInstanceRequest{Instance: key(r2.Key)}); err != nil {
			t.Fatalf("ForgetInstance: %v", err)
		}
		eventually(t, 5*time.Second, "analyzer drops r2", func() error {
			_, err := an.topology.GetInstance(ctxT(t), &topologyv1.GetInstanceRequest{Instance: key(r2.Key)})
			if err == nil {
				return fmt.Errorf("%s still known", r2.Key)
			}
			return nil
		})
		eventuallyStored(t, base.Store, 2)
	})
}

// separateProcesses returns the configuration of discovery (seeded with
// seed) and of the other services, to run as separate processes on one
// store, as in production, and what they share.
func separateProcesses(t *testing.T, seed string) (base, discoveryCfg, analyzerCfg app.Config) {
	base = testConfig(t)
	base.Discovery.ListenAddr = freePort(t)
	base.Analyzer.DiscoveryAddrs = []string{base.Discovery.ListenAddr}
	base.Recovery.DiscoveryAddrs = []string{base.Discovery.ListenAddr}
	base.Gateway.DiscoveryAddr = base.Discovery.ListenAddr
	discoveryCfg = base
	discoveryCfg.Services = []string{app.Discovery}
	discoveryCfg.Discovery.Seeds = []string{seed}
	analyzerCfg = base
	analyzerCfg.Services = []string{app.Analyzer, app.Recovery, app.Gateway}
	return base, discoveryCfg, analyzerCfg
}

func eventuallyStored(t *testing.T, dsn string, n int) {
	t.Helper()
	eventually(t, 5*time.Second, fmt.Sprintf("%d instances stored", n), func() error {
		got := len(storedInstances(t, dsn))
		if got != n {
			return fmt.Errorf("%d stored", got)
		}
		return nil
	})
}

// TestRestartsChangeNoVerdict runs discovery and the analyzer as separate
// processes and restarts discovery, the analyzer and both, each twice: on a
// healthy topology no detection starts; during a dead master its detection
// keeps its id and code and no subscriber hears of any change. An analyzer
// that cannot sync answers 503 rather than an empty (healthy) analysis.
func TestRestartsChangeNoVerdict(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(2))
	master := topo.Master().Key

	base, discoveryCfg, analyzerCfg := separateProcesses(t, master)
	// The recovery service restarts with the analyzer. In dry run it
	// records the one recovery it would run and changes nothing, so the
	// failure stays for the analyzer to keep judging.
	analyzerCfg.Recovery.DryRun = true

	disc := startStack(t, discoveryCfg)
	an := startStack(t, analyzerCfg)
	waitForCluster(t, an, master, 3)
	eventuallyStored(t, base.Store, 3)
	discoveryCfg.Discovery.Seeds = nil // from now on everything comes from PostgreSQL
	logs := []*eventLog{followEvents(t, an)}

	// restart restarts the named services; when both restart, the analyzer
	// comes back first and must say it is not ready until discovery does.
	restart := func(t *testing.T, discovery, analyzer bool) {
		if analyzer {
			an.stop()
		}
		if discovery {
			disc.stop()
		}
		if analyzer && discovery {
			an = startStackUnready(t, analyzerCfg, sandboxCreds.User, sandboxCreds.Password)
			if code, body := rest(t, an, "GET", "/api/v1/analysis", ""); code != 503 {
				t.Errorf("GET /api/v1/analysis before the analyzer synced = %d %v, want 503", code, body)
			}
			if code, body := rest(t, an, "GET", "/readyz", ""); code != 503 {
				t.Errorf("GET /readyz before the analyzer synced = %d %v, want 503", code, body)
			}
		}
		if discovery {
			disc = startStack(t, discoveryCfg)
		}
		switch {
		case analyzer && discovery:
			processtest.WaitServing(t, an.app.Addr(app.Analyzer))
		case analyzer:
			an = startStack(t, analyzerCfg)
		}
		if analyzer {
			logs = append(logs, followEvents(t, an))
		}
		restarted := time.Now()
		eventually(t, 10*time.Second, "fresh snapshots of every instance after the restart", func() error {
			for _, inst := range topo.Instances() {
				got := getInstance(t, an, inst.Key).GetSnapshot().GetProbeFinished().AsTime()
				if got.Before(restarted) {
					return fmt.Errorf("%s last probed %s, before the restart", inst.Key, got)
				}
			}
			return nil
		})
		waitPast(time.Now().Add(2 * pollInterval))
	}
	kinds := []struct {
		name                string
		discovery, analyzer bool
	}{
		{"discovery", true, false}, {"analyzer", false, true}, {"both", true, true},
		{"discovery again", true, false}, {"analyzer again", false, true}, {"both again", true, true},
	}

	for _, k := range kinds {
		restart(t, k.discovery, k.analyzer)
		for _, l := range logs {
			if got := l.summary(); got != "none" {
				t.Fatalf("healthy topology, after restarting %s: detections %s", k.name, got)
			}
		}
	}

	if err := topo.Master().Kill(); err != nil {
		t.Fatal(err)
	}
	dead, at := logs[len(logs)-1].waitFor(t, "DeadMaster", master, 5*time.Second)
	eventually(t, 5*time.Second, "the detection stored", func() error {
		resp, err := an.analyzer.ListDetections(ctxT(t), &analyzerv1.ListDetectionsRequest{})
		if err != nil {
			return err
		}
		var active []string
		for _, d := range resp.GetDetections() {
			if d.GetClearedAt() == nil {
				active = append(active, d.GetId())
			}
		}
		if len(active) != 1 || active[0] != dead.GetId() {
			return fmt.Errorf("active detections in the store: %v", active)
		}
		return nil
	})
	// The replicas' IO errors show up in the evidence within a poll or two;
	// from then on the detection stays as it is, and so must it through
	// every restart.
	waitPast(at.Add(3 * pollInterval))
	logs = []*eventLog{followEvents(t, an)}

	for _, k := range kinds {
		restart(t, k.discovery, k.analyzer)
		for i, l := range logs {
			l.mu.Lock()
			for _, e := range l.events {
				if e.det.GetId() != dead.GetId() || e.det.GetCode() != "DeadMaster" || e.det.GetState() == analyzerv1.DetectionState_DETECTION_STATE_CLEARED {
					t.Errorf("after restarting %s, subscriber %d heard %s %s %s (id %s); want only the active DeadMaster %s",
						k.name, i, e.det.GetState(), e.det.GetCode(), keyString(e.det.GetInstance()), e.det.GetId(), dead.GetId())
				}
			}
			if len(l.events) != 1 {
				t.Errorf("after restarting %s, subscriber %d heard %d events (%s), want the one DeadMaster", k.name, i, len(l.events), l.summaryLocked())
			}
			l.mu.Unlock()
		}
		resp, err := an.analyzer.GetReplicationAnalysis(ctxT(t), &analyzerv1.GetReplicationAnalysisRequest{})
		if err != nil || len(resp.GetDetections()) != 1 || resp.GetDetections()[0].GetId() != dead.GetId() {
			t.Fatalf("analysis after restarting %s = %v, %v; want the DeadMaster %s only", k.name, resp.GetDetections(), err, dead.GetId())
		}
		// However often the recovery service restarts, one failure gets
		// one recovery.
		recs, err := an.recovery.ListRecoveries(ctxT(t), &recoveryv1.ListRecoveriesRequest{})
		if err != nil || len(recs.GetRecoveries()) != 1 || recs.GetRecoveries()[0].GetDetectionId() != dead.GetId() ||
			recs.GetRecoveries()[0].GetOutcome() != recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_DRY_RUN {
			t.Fatalf("recoveries after restarting %s = %v, %v; want the one dry run for %s", k.name, recs.GetRecoveries(), err, dead.GetId())
		}
	}
}
