package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-db/vigil/internal/app"
	"github.com/vigil-db/vigil/pkg/sandbox"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
)

// TestRecoveryProcessKilledMidRecovery runs a recovery process as a
// separate vigil process, kills it with SIGKILL while it holds the cluster
// lock (in its pre-failover hook), and checks that another process takes
// the lock once the dead one's lease expires, says what happened to the
// interrupted recovery, and recovers the master.
func TestRecoveryProcessKilledMidRecovery(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "vigil")
	build := exec.Command("go", "build", "-o", bin, "../cmd/vigil")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build vigil: %v\n%s", err, out)
	}

	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(2))
	m := topo.Master()
	cfg := testConfig(t)
	cfg.Discovery.Seeds = []string{m.Key}
	cfg.Services = []string{app.Discovery, app.Analyzer}
	url, _ := etcdNamespace(t)
	cfg.Coordinator = url
	s := startStack(t, cfg)
	waitForCluster(t, s, m.Key, 3)

	marker := filepath.Join(dir, "hook-started")
	config := filepath.Join(dir, "vigil.yaml")
	yaml := fmt.Sprintf(`store: %q
coordinator: %q
recovery:
  listen: 127.0.0.1:0
  name: recovery-killed
  lock_ttl: 2s
  analyzer_addrs: [%q]
  discovery_addrs: [%q]
  hooks:
    pre_failover:
      - argv: ["/bin/sh", "-c", "touch \"$0\"; exec sleep 60", %q]
        timeout: 1m
`, cfg.Store, url, s.app.Addr(app.Analyzer), s.app.Addr(app.Discovery), marker)
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	proc := exec.Command(bin, "--services=recovery", "--config", config)
	proc.Env = append(os.Environ(), "VIGIL_MYSQL_USER="+sandbox.DefaultUser, "VIGIL_MYSQL_PASSWORD="+sandbox.DefaultPassword)
	var out strings.Builder
	proc.Stdout, proc.Stderr = &out, &out
	if err := proc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proc.Process.Kill(); _ = proc.Wait() })

	if err := m.Kill(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the separate process holds the lock, in its hook", func() error {
		if _, err := os.Stat(marker); err != nil {
			return fmt.Errorf("%w; the process said:\n%s", err, out.String())
		}
		return nil
	})
	if err := proc.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = proc.Wait()

	other := cfg
	other.Services = []string{app.Recovery}
	other.Recovery.Name = "recovery-b"
	other.Recovery.AnalyzerAddrs = []string{s.app.Addr(app.Analyzer)}
	other.Recovery.DiscoveryAddrs = []string{s.app.Addr(app.Discovery)}
	b := startStack(t, other)

	done := waitForRecoveryWhere(t, b, "recovery by the other process", 30*time.Second, func(r *recoveryv1.Recovery) bool {
		return r.GetProcess() == "recovery-b" && r.GetOutcome() != recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_RUNNING
	})
	if done.GetOutcome() != recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SUCCEEDED {
		t.Fatalf("recovery by recovery-b: %s (%s); killed process said:\n%s", done.GetOutcome(), done.GetReason(), out.String())
	}
	resp, err := b.recovery.ListRecoveries(ctxT(t), &recoveryv1.ListRecoveriesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetRecoveries()) != 2 {
		t.Fatalf("recoveries = %v, want the interrupted one and recovery-b's", resp.GetRecoveries())
	}
	killed := resp.GetRecoveries()[1]
	if killed.GetProcess() != "recovery-killed" || killed.GetOutcome() != recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_ABORTED ||
		!strings.Contains(killed.GetReason(), "lost the cluster lock before it finished; recovery-b took it over") ||
		killed.GetFencingToken() >= done.GetFencingToken() {
		t.Errorf("interrupted recovery = %v; want recovery-killed's, aborted, taken over with a greater fencing token (%d)", killed, done.GetFencingToken())
	}
}
