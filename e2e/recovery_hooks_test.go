package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-db/vigil/pkg/sandbox"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
	"github.com/vigil-db/vigil/services/recovery/hooks"
)

// writeContextHook is a hook that saves its standard input and then its
// VIGIL_* environment under dir (the env file appears whole, last), then
// exits with code.
func writeContextHook(dir string, code int) hooks.Hook {
	return hooks.Hook{Argv: []string{"/bin/sh", "-c", `cat > "$1"; env | grep ^VIGIL_ > "$0.tmp"; mv "$0.tmp" "$0"; exit ` + strconv.Itoa(code),
		filepath.Join(dir, "env"), filepath.Join(dir, "stdin.json")}, Timeout: 5 * time.Second}
}

func TestPreFailoverHookVetoes(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(2))
	m := topo.Master()
	dir := t.TempDir()
	evil := "orders; touch " + filepath.Join(dir, "pwned") + " $(touch " + filepath.Join(dir, "pwned2") + ")"
	cfg := testConfig(t)
	cfg.Discovery.Seeds = []string{m.Key}
	cfg.Analyzer.ClusterAliases = map[string]string{m.Key: evil}
	cfg.Recovery.Hooks.PreFailover = []hooks.Hook{writeContextHook(dir, 1)}
	s := startStack(t, cfg)
	waitForCluster(t, s, m.Key, 3)
	if err := m.Kill(); err != nil {
		t.Fatal(err)
	}
	rec := waitForRecovery(t, s, m.Key, 20*time.Second)
	if rec.GetOutcome() != recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SKIPPED || rec.GetGate() != "hook-veto" {
		t.Fatalf("recovery: %s gate %q (%s); want vetoed", rec.GetOutcome(), rec.GetGate(), rec.GetReason())
	}
	var hookStep *recoveryv1.RecoveryStep
	for _, st := range rec.GetSteps() {
		if st.GetName() == "hook-pre-failover" {
			hookStep = st
		}
	}
	if hookStep == nil || hookStep.GetOk() || !strings.Contains(hookStep.GetMessage(), "exit status 1") {
		t.Errorf("hook step = %v, want a failed pre-failover hook", hookStep)
	}
	if e := waitForExplanation(t, s, m.Key, rec.GetDetectionId(), recoveryv1.Verdict_VERDICT_VETOED); e.GetHook() != writeContextHook(dir, 1).Argv[0] {
		t.Errorf("explanation of the veto: hook %q, want %q (%v)", e.GetHook(), writeContextHook(dir, 1).Argv[0], e)
	}

	env, err := os.ReadFile(filepath.Join(dir, "env"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"VIGIL_FAILURE_TYPE=DeadMaster", "VIGIL_FAILED_PORT=" + strconv.Itoa(m.Port),
		"VIGIL_CLUSTER_ALIAS=" + evil, "VIGIL_RECOVERY_ID=" + rec.GetId(), "VIGIL_HOOK_POINT=pre-failover"} {
		if !strings.Contains(string(env), want+"\n") {
			t.Errorf("hook environment lacks %q:\n%s", want, env)
		}
	}
	raw, err := os.ReadFile(filepath.Join(dir, "stdin.json"))
	if err != nil {
		t.Fatal(err)
	}
	var stdin hooks.Context
	if err := json.Unmarshal(raw, &stdin); err != nil || stdin.ClusterAlias != evil || int(stdin.FailedPort) != m.Port {
		t.Errorf("hook stdin = %s (%v)", raw, err)
	}
	for _, f := range []string{"pwned", "pwned2"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s exists: the cluster alias was run as a command", f)
		}
	}
	for _, r := range topo.Instances()[1:] {
		st, err := r.ReplicaStatus(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		if st["Master_Port"] != strconv.Itoa(m.Port) || st["Slave_IO_Running"] == "No" {
			t.Errorf("%s changed after a veto: source port %s, IO %s", r, st["Master_Port"], st["Slave_IO_Running"])
		}
	}
}

func TestPostFailoverHookSeesTheSuccessor(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(2))
	m := topo.Master()
	dir := t.TempDir()
	cfg := testConfig(t)
	cfg.Discovery.Seeds = []string{m.Key}
	cfg.Recovery.Hooks.PostFailover = []hooks.Hook{writeContextHook(dir, 0)}
	s := startStack(t, cfg)
	waitForCluster(t, s, m.Key, 3)
	if err := m.Kill(); err != nil {
		t.Fatal(err)
	}
	rec := waitForRecovery(t, s, m.Key, 20*time.Second)
	if rec.GetOutcome() != recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SUCCEEDED {
		t.Fatalf("recovery: %s (%s)", rec.GetOutcome(), rec.GetReason())
	}
	var env []byte
	eventually(t, 10*time.Second, "post-failover hook ran", func() error {
		var err error
		env, err = os.ReadFile(filepath.Join(dir, "env"))
		return err
	})
	for _, want := range []string{"VIGIL_SUCCESSOR_PORT=" + strconv.Itoa(int(rec.GetSuccessor().GetPort())),
		"VIGIL_OUTCOME=RECOVERY_OUTCOME_SUCCEEDED", "VIGIL_HOOK_POINT=post-failover"} {
		if !strings.Contains(string(env), want+"\n") {
			t.Errorf("hook environment lacks %q:\n%s", want, env)
		}
	}
}
