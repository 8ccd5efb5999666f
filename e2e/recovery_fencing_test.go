package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/vigil-db/vigil/pkg/sandbox"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
	"github.com/vigil-db/vigil/services/recovery/hooks"
)

// TestLostLockMakesNoFurtherChange revokes the etcd lease of the recovery
// that holds the cluster lock while its pre-failover hook runs: the
// recovery stops before its first change to a server and says why, and
// every server is as it was.
func TestLostLockMakesNoFurtherChange(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(2))
	m := topo.Master()
	dir := t.TempDir()
	marker := filepath.Join(dir, "hook-ran")
	cfg := testConfig(t)
	cfg.Discovery.Seeds = []string{m.Key}
	url, ns := etcdNamespace(t)
	cfg.Coordinator = url
	// The first run waits for the lease to go; any later attempt is
	// vetoed, so that nothing but the fenced recovery could touch a server.
	cfg.Recovery.Hooks.PreFailover = []hooks.Hook{{Argv: []string{"/bin/sh", "-c",
		`if [ -e "$0" ]; then exit 1; fi; touch "$0"; sleep 2`, marker}, Timeout: 10 * time.Second}}
	s := startStack(t, cfg)
	waitForCluster(t, s, m.Key, 3)

	client, err := clientv3.New(clientv3.Config{Endpoints: []string{"127.0.0.1:2379"}, DialTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()

	if err := m.Kill(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the pre-failover hook runs under the lock", func() error {
		_, err := os.Stat(marker)
		return err
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	locks, err := client.Get(ctx, "/vigil/"+ns+"/clusters/", clientv3.WithPrefix())
	if err != nil || len(locks.Kvs) == 0 {
		t.Fatalf("cluster lock keys: %v, %v", locks, err)
	}
	for _, kv := range locks.Kvs {
		if _, err := client.Revoke(ctx, clientv3.LeaseID(kv.Lease)); err != nil {
			t.Fatalf("revoke the lease of %s: %v", kv.Key, err)
		}
	}

	aborted := waitForRecoveryWhere(t, s, "the recovery aborted", 20*time.Second, func(r *recoveryv1.Recovery) bool {
		return r.GetOutcome() == recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_ABORTED
	})
	refused := 0
	for _, st := range aborted.GetSteps() {
		if strings.HasPrefix(st.GetName(), "hook-") {
			continue
		}
		if st.GetOk() || !strings.Contains(st.GetMessage(), "the cluster lock is lost") {
			t.Errorf("step after the lease was revoked: %v", st)
		}
		refused++
	}
	if refused == 0 {
		t.Errorf("no step recorded as refused for the lost lock: %v", aborted.GetSteps())
	}

	for _, r := range topo.Instances()[1:] {
		st, err := r.ReplicaStatus(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		if st["Master_Port"] != strconv.Itoa(m.Port) || st["Slave_IO_Running"] == "No" || queryString(t, r, "SELECT @@read_only") != "1" {
			t.Errorf("%s changed after the lock was lost: source port %s, IO %s, read_only %s",
				r, st["Master_Port"], st["Slave_IO_Running"], queryString(t, r, "SELECT @@read_only"))
		}
	}
}
