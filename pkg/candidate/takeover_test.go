package candidate

import (
	"errors"
	"testing"

	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

func TestTakeover(t *testing.T) {
	running := func(r *Replica) {
		r.Snapshot.Channels[0].IoThread = topologyv1.ThreadState_THREAD_STATE_YES
		r.Snapshot.Channels[0].SqlThread = topologyv1.ThreadState_THREAD_STATE_YES
	}
	stopped := func(r *Replica) { r.Snapshot.Channels[0].SqlThread = topologyv1.ThreadState_THREAD_STATE_NO }
	older := server(func(s *topologyv1.Server) { s.MajorVersion = "10.6" })
	tests := []struct {
		name       string
		replicas   []Replica
		designated uint16
		want       string
		wantRule   string
	}{
		{"the best home wins over the most data",
			[]Replica{rep(2, "0-1-100", running), rep(3, "0-1-90", running, prefer)}, 0,
			"promote=3 holder=3 refused=[] lost=[]", ""},
		{"the master's data centre wins, then the position",
			[]Replica{rep(2, "0-1-100", running, dc("dc2")), rep(3, "0-1-90", running), rep(4, "0-1-95", running)}, 0,
			"promote=4 holder=4 refused=[] lost=[]", ""},
		{"a replica that does not replicate is not picked",
			[]Replica{rep(2, "0-1-100", running, stopped), rep(3, "0-1-90", running)}, 0,
			"promote=3 holder=3 refused=[2:not-replicating] lost=[]", ""},
		{"the designated replica is taken, unreachable replicas are lost",
			[]Replica{rep(2, "0-1-100", running, prefer), rep(3, "0-1-90", running), rep(4, "0-1-90", running, down)}, 3,
			"promote=3 holder=3 refused=[4:unreachable] lost=[4]", ""},
		{"a replica of a newer major version may not take over",
			[]Replica{rep(2, "0-1-100", running), rep(3, "0-1-90", running, older)}, 2, "", RuleNewerMajor},
		{"designated and delayed", []Replica{rep(2, "0-1-1", running, delayed)}, 2, "", RuleDelayed},
		{"designated without log_slave_updates", []Replica{rep(2, "0-1-1", running, noLSU)}, 2, "", RuleNoLogReplicaUpdate},
		{"designated must_not", []Replica{rep(2, "0-1-1", running, mustNot)}, 2, "", RuleMustNot},
		{"designated with errant GTIDs", []Replica{rep(2, "0-1-1", running, errant)}, 2, "", RuleErrantGTID},
		{"designated not replicating", []Replica{rep(2, "0-1-1", running, stopped)}, 2, "", RuleNotReplicating},
		{"designated not a replica", []Replica{rep(2, "0-1-1", running)}, 9, "", RuleNotReplica},
		{"none can", []Replica{rep(2, "0-1-1", running, mustNot)}, 0, "none refused=[2:promotion-rule-must-not] lost=[]", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var designated = key(tt.designated)
			if tt.designated == 0 {
				designated.Host, designated.Port = "", 0
			}
			c, err := Takeover(Input{Dead: dead, Replicas: tt.replicas}, designated)
			var refused *RefusedError
			if tt.wantRule != "" {
				if !errors.As(err, &refused) || refused.Verdict.Rule != tt.wantRule || refused.Verdict.Key != designated {
					t.Fatalf("Takeover = %v, want %s refused by %s", err, designated, tt.wantRule)
				}
				return
			}
			if got := summary(c, err); got != tt.want {
				t.Errorf("Takeover = %s (%v), want %s", got, err, tt.want)
			}
		})
	}
}

func TestChooseFor(t *testing.T) {
	tests := []struct {
		name       string
		replicas   []Replica
		designated uint16
		want       string
		wantRule   string
	}{
		{"the named replica catches up from the data holder",
			[]Replica{rep(2, "0-1-100"), rep(3, "0-1-90")}, 3, "promote=3 holder=2 refused=[] lost=[]", ""},
		{"the named replica is the data holder",
			[]Replica{rep(2, "0-1-100"), rep(3, "0-1-90")}, 2, "promote=2 holder=2 refused=[] lost=[]", ""},
		{"none named: Choose", []Replica{rep(2, "0-1-100"), rep(3, "0-1-90")}, 0, "promote=2 holder=2 refused=[] lost=[]", ""},
		{"the named replica must be a candidate", []Replica{rep(2, "0-1-100"), rep(3, "0-1-90", mustNot)}, 3, "", RuleMustNot},
		{"the named replica must be a replica", []Replica{rep(2, "0-1-100")}, 7, "", RuleNotReplica},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			designated := key(tt.designated)
			if tt.designated == 0 {
				designated.Host, designated.Port = "", 0
			}
			c, err := ChooseFor(Input{Dead: dead, Replicas: tt.replicas}, designated)
			var refused *RefusedError
			if tt.wantRule != "" {
				if !errors.As(err, &refused) || refused.Verdict.Rule != tt.wantRule {
					t.Fatalf("ChooseFor = %v, want refused by %s", err, tt.wantRule)
				}
				return
			}
			if got := summary(c, err); got != tt.want {
				t.Errorf("ChooseFor = %s (%v), want %s", got, err, tt.want)
			}
		})
	}
}
