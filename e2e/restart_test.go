package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigil-db/vigil/internal/app"
	"github.com/vigil-db/vigil/pkg/sandbox"
	discoveryv1 "github.com/vigil-db/vigil/proto/vigil/discovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// TestStreamSurvivesRestarts runs discovery and the analyzer as separate
// processes (as in production) and restarts each of them.
func TestStreamSurvivesRestarts(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(2))
	master := topo.Master().Key

	base := testConfig(t)
	base.Discovery.ListenAddr = freePort(t)
	base.Analyzer.DiscoveryAddrs = []string{base.Discovery.ListenAddr}
	base.Gateway.DiscoveryAddr = base.Discovery.ListenAddr

	discoveryCfg := base
	discoveryCfg.Services = []string{app.Discovery}
	discoveryCfg.Discovery.Seeds = []string{master}
	analyzerCfg := base
	analyzerCfg.Services = []string{app.Analyzer, app.Recovery, app.Gateway}

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
