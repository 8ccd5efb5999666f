package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigil-db/vigil/pkg/sandbox"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
)

// TestRecoveryCandidateRules kills the master of a master with three
// replicas prepared so that one rule of ARCHITECTURE §6.1 decides which
// replica is promoted, and checks that no row any replica had is lost.
func TestRecoveryCandidateRules(t *testing.T) {
	tests := []struct {
		name string
		// rules are promotion rules by replica name; others are neutral.
		rules map[string]string
		// args are extra mariadbd arguments by replica name.
		args map[string][]string
		// prepare runs on the topology before the last writes.
		prepare func(t *testing.T, topo *sandbox.Topology)
		want    string
		// steps must appear in the audit.
		steps []string
		// delayed replicas are not expected to catch up.
		delayed bool
	}{
		{name: "must_not is never promoted", rules: map[string]string{"r1": "must_not", "r2": "must_not"}, want: "r3"},
		{name: "prefer wins a tie", rules: map[string]string{"r2": "prefer"}, want: "r2"},
		{name: "no log_slave_updates is not promoted",
			args: map[string][]string{"r1": {"--skip-log-slave-updates"}, "r2": {"--skip-log-slave-updates"}}, want: "r3"},
		{name: "delayed replica is not promoted", want: "r3", delayed: true, prepare: func(t *testing.T, topo *sandbox.Topology) {
			for _, name := range []string{"r1", "r2"} {
				mustExec(t, topo.Instance(name), "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=3600; START SLAVE")
			}
		}},
		{name: "the most advanced replica wins", want: "r3", prepare: func(t *testing.T, topo *sandbox.Topology) {
			for _, name := range []string{"r1", "r2"} {
				mustExec(t, topo.Instance(name), "STOP SLAVE SQL_THREAD")
			}
		}},
		{name: "two-step promotion hands over to the preferred replica", rules: map[string]string{"r1": "prefer"},
			want: "r1", steps: []string{"replicate-from-data-holder", "catch-up"},
			prepare: func(t *testing.T, topo *sandbox.Topology) { mustExec(t, topo.Instance("r1"), "STOP SLAVE SQL_THREAD") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := sandbox.MasterWithReplicas(3)
			for i, n := range spec.Instances {
				spec.Instances[i].ExtraArgs = tt.args[n.Name]
			}
			topo := sandbox.StartForTest(t, spec)
			for _, i := range topo.Instances() {
				rule := tt.rules[i.Name]
				if rule == "" {
					rule = "neutral"
				}
				mustExec(t, i, "SET sql_log_bin=0; CREATE DATABASE meta; CREATE TABLE meta.promotion (rule VARCHAR(20)); "+
					"INSERT INTO meta.promotion VALUES ('"+rule+"'); SET sql_log_bin=1")
			}
			m := topo.Master()
			mustExec(t, m, "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY)")
			if err := topo.WaitReplicating(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			if tt.prepare != nil {
				tt.prepare(t, topo)
			}
			for i := range 20 {
				mustExec(t, m, fmt.Sprintf("INSERT INTO app.t VALUES (%d)", i))
			}
			want := topo.Instance(tt.want)
			eventually(t, 10*time.Second, want.String()+" received every write", func() error {
				st, err := want.ReplicaStatus(ctxT(t))
				if err != nil {
					return err
				}
				if pos := queryString(t, m, "SELECT @@gtid_binlog_pos"); st["Gtid_IO_Pos"] != pos {
					return fmt.Errorf("IO position %s, master at %s", st["Gtid_IO_Pos"], pos)
				}
				return nil
			})

			cfg := testConfig(t)
			cfg.Discovery.Seeds = []string{m.Key}
			cfg.Discovery.Classification.PromotionRuleQuery = "SELECT rule FROM meta.promotion"
			s := startStack(t, cfg)
			waitForCluster(t, s, m.Key, 4)
			waitForRules(t, s, topo, tt.rules)
			if err := m.Kill(); err != nil {
				t.Fatal(err)
			}
			rec := waitForRecovery(t, s, m.Key, 30*time.Second)
			if rec.GetOutcome() != recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SUCCEEDED || keyString(rec.GetSuccessor()) != want.Key {
				t.Fatalf("recovery: %s, successor %s, want %s (%s); steps %v", rec.GetOutcome(), keyString(rec.GetSuccessor()), want, rec.GetReason(), rec.GetSteps())
			}
			var names []string
			for _, st := range rec.GetSteps() {
				names = append(names, st.GetName())
			}
			for _, step := range tt.steps {
				if !strings.Contains(strings.Join(names, " "), step) {
					t.Errorf("audit steps %v lack %s", names, step)
				}
			}
			if n := queryString(t, want, "SELECT COUNT(*) FROM app.t"); n != "20" {
				t.Errorf("new master %s has %s rows, want 20", want, n)
			}
			for _, r := range topo.Instances()[1:] {
				if r == want || tt.delayed {
					continue // a delayed replica catches up an hour later
				}
				eventually(t, 10*time.Second, r.String()+" caught up from the new master", func() error {
					if n := queryString(t, r, "SELECT COUNT(*) FROM app.t"); n != "20" {
						return fmt.Errorf("%s rows", n)
					}
					return nil
				})
			}
		})
	}
}

// waitForRules waits until discovery has classified every instance with
// its promotion rule, as the analyzer serves it.
func waitForRules(t *testing.T, s *stack, topo *sandbox.Topology, rules map[string]string) {
	t.Helper()
	for name, rule := range rules {
		key := topo.Instance(name).Key
		eventually(t, 10*time.Second, name+" classified "+rule, func() error {
			got := strings.ToLower(getInstance(t, s, key).GetSnapshot().GetClassification().GetPromotionRule().String())
			if !strings.HasSuffix(got, strings.ToLower(rule)) {
				return fmt.Errorf("promotion rule %s", got)
			}
			return nil
		})
	}
}
