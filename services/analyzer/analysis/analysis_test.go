package analysis

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

var now = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

var testConfig = Config{
	ValiditySlack:        time.Second,
	LagThreshold:         10 * time.Second,
	SemiSyncConfirmation: 5 * time.Second,
}

// pollInterval is every test observer's; with testConfig's slack the
// validity window is 2s.
const pollInterval = time.Second

// node describes one instance of a test cluster. Names are ports on host "h".
type node struct {
	port   uint16
	source uint16 // 0: replicates from nothing
	// state: "ok" (reachable now), "dead" (refused now), "hung" (no probe
	// for a while), "unknown" (no observer says anything), "toomany"
	// (refused with too many connections), "never" (refused now and never
	// reached), "denied" (access denied to Vigil), "tls" (TLS fails),
	// "noprivilege" (reached, but a missing privilege hid part of it).
	state    string
	io, sql  string // Yes, Connecting, No; default Yes for replicas
	lag      int64
	sqlDelay uint32
	writable *bool // default: masters writable, replicas read-only
	// observers: per-observer states for quorum cases (overrides state).
	observers []string
	mutate    func(*topologyv1.Snapshot)
	// neverGood: no probe ever reached it (state "never" implies it).
	neverGood bool
}

func key(port uint16) topology.InstanceKey { return topology.InstanceKey{Host: "h", Port: port} }

func yes(b bool) *bool { return &b }

func thread(s, def string) topologyv1.ThreadState {
	if s == "" {
		s = def
	}
	return map[string]topologyv1.ThreadState{
		"Yes": topologyv1.ThreadState_THREAD_STATE_YES, "Connecting": topologyv1.ThreadState_THREAD_STATE_CONNECTING,
		"No": topologyv1.ThreadState_THREAD_STATE_NO,
	}[s]
}

func goodSnapshot(n node) *topologyv1.Snapshot {
	readOnly := n.source != 0
	if n.writable != nil {
		readOnly = !*n.writable
	}
	s := &topologyv1.Snapshot{
		Key: key(n.port).Proto(), Reachable: true, ProbeFinished: timestamppb.New(now.Add(-5 * time.Second)),
		Server: &topologyv1.Server{
			ServerId: uint32(n.port), Flavor: topologyv1.Flavor_FLAVOR_MARIADB, MajorVersion: "10.11",
			ReadOnly: readOnly, LogBin: true, LogReplicaUpdates: true, BinlogFormat: "ROW",
		},
	}
	if n.source != 0 {
		lag := n.lag
		s.Channels = []*topologyv1.ReplicationChannel{{
			Source: key(n.source).Proto(), IoThread: thread(n.io, "Yes"), SqlThread: thread(n.sql, "Yes"),
			SecondsBehindSource: &lag, SqlDelay: n.sqlDelay, UsingGtid: "Slave_Pos", AutoPosition: true,
		}}
	}
	if n.mutate != nil {
		n.mutate(s)
	}
	return s
}

// observation returns what one observer in state st said of n.
func observation(n node, observer, st string) (Observation, bool) {
	fresh := now.Add(-100 * time.Millisecond)
	o := Observation{Observer: observer, Snapshot: goodSnapshot(n), Received: fresh, PollInterval: pollInterval}
	failed := func(class topologyv1.ErrorClass, number uint32) *topologyv1.Snapshot {
		return &topologyv1.Snapshot{Key: key(n.port).Proto(), ErrorClass: class, ErrorNumber: number, Error: "connect failed",
			ProbeFinished: timestamppb.New(fresh)}
	}
	switch st {
	case "ok":
	case "hung":
		o.Received = now.Add(-10 * time.Second)
	case "dead", "never":
		o.Snapshot = failed(topologyv1.ErrorClass_ERROR_CLASS_REFUSED, 0)
	case "toomany":
		o.Snapshot = failed(topologyv1.ErrorClass_ERROR_CLASS_TOO_MANY_CONNECTIONS, 1040)
	case "denied":
		o.Snapshot = failed(topologyv1.ErrorClass_ERROR_CLASS_AUTH, 1045)
	case "tls":
		o.Snapshot = failed(topologyv1.ErrorClass_ERROR_CLASS_TLS, 0)
	case "noprivilege":
		o.Snapshot.Partial, o.Snapshot.ErrorClass, o.Snapshot.ErrorNumber = true, topologyv1.ErrorClass_ERROR_CLASS_PRIVILEGE, 1227
		o.Snapshot.Channels = nil
	default:
		return Observation{}, false
	}
	return o, true
}

type scenario struct {
	nodes    []node
	active   map[string]time.Duration // "port/code" -> active for this long
	downtime []uint16
	ignore   []uint16
	cfg      *Config
}

func (sc scenario) run() ([]Problem, []Warning) {
	obs := map[topology.InstanceKey][]Observation{}
	lastGood := map[topology.InstanceKey]*topologyv1.Snapshot{}
	graphObs := map[topology.InstanceKey]topology.Observation{}
	for _, n := range sc.nodes {
		states := n.observers
		if states == nil {
			states = []string{n.state}
		}
		for i, st := range states {
			if o, ok := observation(n, fmt.Sprintf("d%d", i+1), st); ok {
				obs[key(n.port)] = append(obs[key(n.port)], o)
			}
		}
		if n.state == "never" || n.neverGood {
			o, _ := observation(n, "d1", n.state)
			graphObs[key(n.port)] = topology.Observation{Latest: o.Snapshot}
			continue
		}
		lastGood[key(n.port)] = goodSnapshot(n)
		graphObs[key(n.port)] = topology.Observation{Latest: lastGood[key(n.port)], LastGood: lastGood[key(n.port)]}
	}
	g := topology.BuildGraph(graphObs)
	if len(g.Clusters) != 1 {
		panic(fmt.Sprintf("scenario has %d clusters", len(g.Clusters)))
	}
	var c *topology.Cluster
	for _, cl := range g.Clusters {
		c = cl
	}
	cfg := testConfig
	if sc.cfg != nil {
		cfg = *sc.cfg
	}
	in := Input{
		Now: now, Cluster: c, Graph: g,
		Observations: func(k topology.InstanceKey) []Observation { return obs[k] },
		LastGood:     func(k topology.InstanceKey) *topologyv1.Snapshot { return lastGood[k] },
		Downtimed:    func(k topology.InstanceKey) bool { return slices.Contains(sc.downtime, k.Port) },
		Ignored:      func(k topology.InstanceKey) bool { return slices.Contains(sc.ignore, k.Port) },
		ActiveSince: func(k topology.InstanceKey, code string) (time.Time, bool) {
			d, ok := sc.active[fmt.Sprintf("%d/%s", k.Port, code)]
			return now.Add(-d), ok
		},
	}
	return Analyze(in, cfg)
}

// codes renders problems as sorted "port:Code" strings.
func codes(ps []Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, fmt.Sprintf("%d:%s", p.Instance.Port, p.Code))
	}
	slices.Sort(out)
	return out
}

var (
	master   = node{port: 1, state: "ok"}
	replica2 = node{port: 2, source: 1, state: "ok"}
	replica3 = node{port: 3, source: 1, state: "ok"}
)

func with(n node, f func(*node)) node { f(&n); return n }

func connecting(n node) node { n.io = "Connecting"; return n }
func stopped(n node) node    { n.io, n.sql = "No", "No"; return n }
func state(n node, s string) node {
	n.state = s
	return n
}

// TestDecisionTable is the analysis catalogue as a table: cluster in, codes out.
func TestDecisionTable(t *testing.T) {
	im := node{port: 4, source: 1, state: "ok"}   // intermediate master under 1
	imR5 := node{port: 5, source: 4, state: "ok"} // replicas of the intermediate master
	imR6 := node{port: 6, source: 4, state: "ok"}
	coA := node{port: 1, source: 2, state: "ok", writable: yes(true)}
	coB := node{port: 2, source: 1, state: "ok"}
	semi := func(enabled, status bool, clients, wait uint32) func(*topologyv1.Snapshot) {
		return func(s *topologyv1.Snapshot) {
			s.Server.SemiSync = &topologyv1.SemiSync{SourceEnabled: enabled, SourceStatus: status, SourceClients: clients, SourceWaitForReplicaCount: wait}
		}
	}

	tests := []struct {
		name string
		sc   scenario
		want []string
	}{
		{"healthy master with two replicas", scenario{nodes: []node{master, replica2, replica3}}, nil},
		{"DeadMaster: refused, every replica connecting",
			scenario{nodes: []node{state(master, "dead"), connecting(replica2), connecting(replica3)}},
			[]string{"1:DeadMaster"}},
		{"DeadMaster: hung master, replicas gave up on it",
			scenario{nodes: []node{state(master, "hung"), connecting(replica2), connecting(replica3)}},
			[]string{"1:DeadMaster"}},
		{"DeadMasterAndSomeReplicas: a replica of the dead master is dead too",
			scenario{nodes: []node{state(master, "dead"), connecting(replica2), state(replica3, "dead")}},
			[]string{"1:DeadMasterAndSomeReplicas"}},
		{"DeadMasterAndReplicas",
			scenario{nodes: []node{state(master, "dead"), state(replica2, "dead"), state(replica3, "dead")}},
			[]string{"1:DeadMasterAndReplicas"}},
		{"DeadMasterWithoutReplicas", scenario{nodes: []node{state(master, "dead")}},
			[]string{"1:DeadMasterWithoutReplicas"}},
		{"UnreachableMaster: a replica still replicates",
			scenario{nodes: []node{state(master, "dead"), replica2, connecting(replica3)}},
			[]string{"1:UnreachableMaster"}},
		{"UnreachableMaster: frozen master, replicas have not noticed yet",
			scenario{nodes: []node{state(master, "hung"), replica2, replica3}},
			[]string{"1:UnreachableMaster"}},
		{"UnreachableMaster, not DeadMaster: too many connections",
			scenario{nodes: []node{state(master, "toomany"), replica2, replica3}},
			[]string{"1:UnreachableMaster"}},
		{"UnreachableMasterWithLaggingReplicas",
			scenario{nodes: []node{state(master, "hung"), with(replica2, func(n *node) { n.lag = 120 }), with(replica3, func(n *node) { n.lag = 90 })}},
			[]string{"1:UnreachableMasterWithLaggingReplicas"}},
		{"delayed replica is not lagging",
			scenario{nodes: []node{state(master, "hung"), with(replica2, func(n *node) { n.lag, n.sqlDelay = 3600, 3600 })}},
			[]string{"1:UnreachableMaster"}},
		{"MasterSingleReplicaNotReplicating", scenario{nodes: []node{master, stopped(replica2)}},
			[]string{"1:MasterSingleReplicaNotReplicating", "2:ReplicationStopped"}},
		{"MasterSingleReplicaDead", scenario{nodes: []node{master, state(replica2, "dead")}},
			[]string{"1:MasterSingleReplicaDead", "2:DeadReplica"}},
		{"AllMasterReplicasNotReplicating, never DeadMaster", scenario{nodes: []node{master, stopped(replica2), stopped(replica3)}},
			[]string{"1:AllMasterReplicasNotReplicating", "2:ReplicationStopped", "3:ReplicationStopped"}},
		{"AllMasterReplicasNotReplicatingOrDead", scenario{nodes: []node{master, stopped(replica2), state(replica3, "dead")}},
			[]string{"1:AllMasterReplicasNotReplicatingOrDead", "2:ReplicationStopped", "3:DeadReplica"}},
		{"DeadIntermediateMaster",
			scenario{nodes: []node{master, state(im, "dead"), connecting(imR5), connecting(imR6)}},
			[]string{"1:MasterSingleReplicaDead", "4:DeadIntermediateMaster"}},
		{"DeadIntermediateMasterAndSomeReplicas",
			scenario{nodes: []node{master, replica2, state(im, "dead"), connecting(imR5), state(imR6, "dead")}},
			[]string{"4:DeadIntermediateMasterAndSomeReplicas"}},
		{"DeadIntermediateMasterWithSingleReplicaFailingToConnect",
			scenario{nodes: []node{master, replica2, state(im, "dead"), connecting(imR5)}},
			[]string{"4:DeadIntermediateMasterWithSingleReplicaFailingToConnect"}},
		{"DeadIntermediateMasterAndReplicas",
			scenario{nodes: []node{master, replica2, state(im, "dead"), state(imR5, "dead"), state(imR6, "dead")}},
			[]string{"4:DeadIntermediateMasterAndReplicas"}},
		{"UnreachableIntermediateMaster",
			scenario{nodes: []node{master, replica2, state(im, "dead"), imR5, connecting(imR6)}},
			[]string{"4:UnreachableIntermediateMaster"}},
		{"UnreachableIntermediateMasterWithLaggingReplicas",
			scenario{nodes: []node{master, replica2, state(im, "hung"), with(imR5, func(n *node) { n.lag = 100 })}},
			[]string{"4:UnreachableIntermediateMasterWithLaggingReplicas"}},
		{"AllIntermediateMasterReplicasFailingToConnectOrDead",
			scenario{nodes: []node{master, replica2, im, connecting(imR5), state(imR6, "dead")}},
			[]string{"4:AllIntermediateMasterReplicasFailingToConnectOrDead", "6:DeadReplica"}},
		{"DeadCoMaster", scenario{nodes: []node{state(coA, "dead"), connecting(coB)}},
			[]string{"1:DeadCoMaster"}},
		{"DeadCoMasterAndSomeReplicas", scenario{nodes: []node{state(coA, "dead"), connecting(coB), state(replica3, "dead")}},
			[]string{"1:DeadCoMasterAndSomeReplicas"}},
		{"UnreachableCoMaster", scenario{nodes: []node{state(coA, "dead"), coB}},
			[]string{"1:UnreachableCoMaster"}},
		{"NoPrimaryReachable: a ring where nobody is writable",
			scenario{nodes: []node{with(coA, func(n *node) { n.writable = yes(false) }), coB}},
			[]string{"1:NoPrimaryReachable"}},
		{"FirstTierReplicaFailingToConnectToMaster", scenario{nodes: []node{master, connecting(replica2), replica3}},
			[]string{"2:FirstTierReplicaFailingToConnectToMaster"}},
		{"LockedSemiSyncMasterHypothesis",
			scenario{nodes: []node{with(master, func(n *node) { n.mutate = semi(true, true, 0, 1) }), replica2}},
			[]string{"1:LockedSemiSyncMasterHypothesis"}},
		{"LockedSemiSyncMaster after the confirmation time",
			scenario{nodes: []node{with(master, func(n *node) { n.mutate = semi(true, true, 0, 1) }), replica2},
				active: map[string]time.Duration{"1/LockedSemiSyncMasterHypothesis": 6 * time.Second}},
			[]string{"1:LockedSemiSyncMaster"}},
		{"a confirmed lock stays confirmed",
			scenario{nodes: []node{with(master, func(n *node) { n.mutate = semi(true, true, 0, 1) }), replica2},
				active: map[string]time.Duration{"1/LockedSemiSyncMaster": time.Second}},
			[]string{"1:LockedSemiSyncMaster"}},
		{"hypothesis not yet confirmed",
			scenario{nodes: []node{with(master, func(n *node) { n.mutate = semi(true, true, 0, 1) }), replica2},
				active: map[string]time.Duration{"1/LockedSemiSyncMasterHypothesis": 2 * time.Second}},
			[]string{"1:LockedSemiSyncMasterHypothesis"}},
		{"MasterWithTooManySemiSyncReplicas",
			scenario{nodes: []node{with(master, func(n *node) { n.mutate = semi(true, true, 2, 1) }), replica2, replica3},
				cfg: &Config{ValiditySlack: time.Second, LagThreshold: 10 * time.Second, EnforceExactSemiSync: true}},
			[]string{"1:MasterWithTooManySemiSyncReplicas"}},
		{"too many semi-sync replicas is fine unless enforced",
			scenario{nodes: []node{with(master, func(n *node) { n.mutate = semi(true, true, 2, 1) }), replica2, replica3}},
			nil},
		{"ReadOnlyMaster", scenario{nodes: []node{with(master, func(n *node) { n.writable = yes(false) }), replica2}},
			[]string{"1:ReadOnlyMaster"}},
		{"ReplicaIsWritable", scenario{nodes: []node{master, with(replica2, func(n *node) { n.writable = yes(true) })}},
			[]string{"2:ReplicaIsWritable"}},
		{"ErrantGTIDOnReplica",
			scenario{nodes: []node{
				with(master, func(n *node) { n.mutate = func(s *topologyv1.Snapshot) { s.Server.GtidBinlogPos = "0-1-10" } }),
				with(replica2, func(n *node) { n.mutate = func(s *topologyv1.Snapshot) { s.Server.GtidBinlogPos = "0-2-11" } }),
			}},
			[]string{"2:ErrantGTIDOnReplica"}},
		{"replica merely behind has no errant GTID",
			scenario{nodes: []node{
				with(master, func(n *node) { n.mutate = func(s *topologyv1.Snapshot) { s.Server.GtidBinlogPos = "0-1-10" } }),
				with(replica2, func(n *node) { n.mutate = func(s *topologyv1.Snapshot) { s.Server.GtidBinlogPos = "0-1-8" } }),
			}},
			nil},
		{"ClusterHasNoMaster: replicas name a master never reached",
			scenario{nodes: []node{{port: 9, state: "never"}, connecting(with(replica2, func(n *node) { n.source = 9 })),
				connecting(with(replica3, func(n *node) { n.source = 9 }))}},
			[]string{"9:ClusterHasNoMaster"}},
		{"replicas name a master nobody has probed yet: nothing decided",
			scenario{nodes: []node{with(replica2, func(n *node) { n.source = 9 }), with(replica3, func(n *node) { n.source = 9 })}},
			nil},

		// Vigil's own access problems and addresses never reached are
		// reported as what they are, never as a dead or unreachable server.
		{"AccessDenied: wrong password on a healthy master",
			scenario{nodes: []node{state(master, "denied"), replica2, replica3}},
			[]string{"1:AccessDenied"}},
		{"AccessDenied: wrong password on a lone master, not DeadMasterWithoutReplicas",
			scenario{nodes: []node{state(master, "denied")}},
			[]string{"1:AccessDenied"}},
		{"AccessDenied on the master while its replicas cannot connect: still no DeadMaster",
			scenario{nodes: []node{state(master, "denied"), connecting(replica2), connecting(replica3)}},
			[]string{"1:AccessDenied"}},
		{"AccessDenied: TLS fails",
			scenario{nodes: []node{master, state(replica2, "tls"), replica3}},
			[]string{"2:AccessDenied"}},
		{"AccessDenied: a missing privilege hides a replica's replication",
			scenario{nodes: []node{master, state(replica2, "noprivilege"), replica3}},
			[]string{"2:AccessDenied"}},
		{"a lone replica Vigil cannot read is not MasterSingleReplicaDead",
			scenario{nodes: []node{master, state(replica2, "denied")}},
			[]string{"2:AccessDenied"}},
		{"one observer refused on access, two read the master: healthy",
			scenario{nodes: []node{with(master, func(n *node) { n.observers = []string{"denied", "ok", "ok"} }), replica2}},
			nil},
		{"a replica Vigil cannot read neither makes nor stops a dead master's verdict",
			scenario{nodes: []node{state(master, "dead"), state(replica2, "denied"), connecting(replica3)}},
			[]string{"1:DeadMasterAndSomeReplicas", "2:AccessDenied"}},
		{"a master refusing Vigil for lack of connections since before Vigil started is there: UnreachableMaster",
			scenario{nodes: []node{with(master, func(n *node) { n.state, n.neverGood = "toomany", true }), replica2, replica3}},
			[]string{"1:UnreachableMaster"}},
		{"NeverReached: a mistyped seed, not DeadMasterWithoutReplicas",
			scenario{nodes: []node{{port: 1, state: "never"}}},
			[]string{"1:NeverReached"}},
		{"NeverReached: a replica its master reports at an address that never answers",
			scenario{nodes: []node{with(master, func(n *node) {
				n.mutate = func(s *topologyv1.Snapshot) { s.Replicas = []*topologyv1.ReplicaRef{{Key: key(7).Proto()}} }
			}), {port: 7, state: "never"}}},
			[]string{"7:NeverReached"}},

		// Replica-level problems under a master that answers.
		{"ReplicationStopped: STOP SLAVE on one replica",
			scenario{nodes: []node{master, replica2, stopped(replica3)}},
			[]string{"3:ReplicationStopped"}},
		{"ReplicationStopped: only the SQL thread",
			scenario{nodes: []node{master, replica2, with(replica3, func(n *node) { n.sql = "No" })}},
			[]string{"3:ReplicationStopped"}},
		{"ReplicationStopped on an intermediate master",
			scenario{nodes: []node{master, replica2, stopped(im), imR5}},
			[]string{"4:ReplicationStopped"}},
		{"BrokenReplication: SQL thread stopped on an error",
			scenario{nodes: []node{master, replica2, with(replica3, func(n *node) {
				n.sql = "No"
				n.mutate = func(s *topologyv1.Snapshot) {
					s.Channels[0].LastSqlErrno, s.Channels[0].LastSqlError = 1950, "An attempt was made to binlog GTID 0-1-9"
				}
			})}},
			[]string{"3:BrokenReplication"}},
		{"BrokenReplication: IO thread stopped on an error",
			scenario{nodes: []node{master, replica2, with(replica3, func(n *node) {
				n.io = "No"
				n.mutate = func(s *topologyv1.Snapshot) {
					s.Channels[0].LastIoErrno, s.Channels[0].LastIoError = 1236, "binlog purged"
				}
			})}},
			[]string{"3:BrokenReplication"}},
		{"DeadReplica: one replica of several is down",
			scenario{nodes: []node{master, replica2, state(replica3, "dead")}},
			[]string{"3:DeadReplica"}},
		{"a hung replica under a healthy master is a DeadReplica",
			scenario{nodes: []node{master, replica2, state(replica3, "hung")}},
			[]string{"3:DeadReplica"}},

		// Quorum: with several observers, one that cannot reach the master
		// is not enough.
		{"one of three observers cut off from the master: healthy",
			scenario{nodes: []node{with(master, func(n *node) { n.observers = []string{"dead", "ok", "ok"} }), replica2, replica3}},
			nil},
		{"one of three observers cut off, replicas connecting: still no DeadMaster",
			scenario{nodes: []node{with(master, func(n *node) { n.observers = []string{"dead", "ok", "ok"} }), connecting(replica2), connecting(replica3)}},
			[]string{"1:AllMasterReplicasNotReplicating", "2:FirstTierReplicaFailingToConnectToMaster", "3:FirstTierReplicaFailingToConnectToMaster"}},
		{"two of three observers agree the master is dead",
			scenario{nodes: []node{with(master, func(n *node) { n.observers = []string{"dead", "dead", "ok"} }), connecting(replica2), connecting(replica3)}},
			[]string{"1:DeadMaster"}},
		{"observers split one to one: not a majority",
			scenario{nodes: []node{with(master, func(n *node) { n.observers = []string{"dead", "ok"} }), connecting(replica2)}},
			[]string{"1:MasterSingleReplicaNotReplicating", "2:FirstTierReplicaFailingToConnectToMaster"}},

		// No evidence is not evidence of failure.
		{"nobody observes the master: nothing decided",
			scenario{nodes: []node{state(master, "unknown"), connecting(replica2), connecting(replica3)}},
			nil},
		{"replica only reported by its master, never probed: nothing decided about it",
			scenario{nodes: []node{with(master, func(n *node) {
				n.mutate = func(s *topologyv1.Snapshot) {
					s.Replicas = []*topologyv1.ReplicaRef{{Key: key(7).Proto()}}
				}
			})}},
			nil},
		{"ignored master is not analysed",
			scenario{nodes: []node{state(master, "dead"), connecting(replica2)}, ignore: []uint16{1}},
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problems, _ := tt.sc.run()
			if got := codes(problems); !slices.Equal(got, tt.want) {
				t.Errorf("codes = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDowntimedInstanceIsFlagged(t *testing.T) {
	problems, _ := scenario{nodes: []node{state(master, "dead"), connecting(replica2)}, downtime: []uint16{1}}.run()
	if len(problems) != 1 || problems[0].Code != CodeDeadMaster || !problems[0].Downtimed {
		t.Fatalf("problems = %+v, want one downtimed DeadMaster", problems)
	}
}

func TestEvidenceNamesEveryWitness(t *testing.T) {
	problems, _ := scenario{nodes: []node{state(master, "dead"), connecting(replica2), connecting(replica3)}}.run()
	var text []string
	for _, e := range problems[0].Evidence {
		text = append(text, fmt.Sprintf("%d %s", e.Instance.Port, e.Statement))
	}
	joined := strings.Join(text, "\n")
	for _, want := range []string{"1 unreachable (refused)", "2 replica IO Connecting, SQL Yes", "3 replica IO Connecting"} {
		if !strings.Contains(joined, want) {
			t.Errorf("evidence lacks %q:\n%s", want, joined)
		}
	}
	if got := problems[0].Replicas; len(got) != 2 {
		t.Errorf("replicas for emergency reads = %v", got)
	}
}

func TestStructureWarnings(t *testing.T) {
	tests := []struct {
		name  string
		nodes []node
		want  []string
	}{
		{"healthy", []node{master, replica2, replica3}, nil},
		{"NoPromotableReplica", []node{master, with(replica2, func(n *node) {
			n.mutate = func(s *topologyv1.Snapshot) { s.Server.LogReplicaUpdates = false }
		})}, []string{WarnNoPromotableReplica}},
		{"MixedBinlogFormats", []node{master, with(replica2, func(n *node) {
			n.mutate = func(s *topologyv1.Snapshot) { s.Server.BinlogFormat = "STATEMENT" }
		})}, []string{WarnMixedBinlogFormats}},
		{"MixedMajorVersions: the older replica would be promoted, the newer one follows", []node{master, replica2, with(replica3, func(n *node) {
			n.mutate = func(s *topologyv1.Snapshot) { s.Server.MajorVersion = "11.4" }
		})}, []string{WarnMixedMajorVersions}},
		{"NoPromotableReplica: must_not everywhere", []node{master, with(replica2, func(n *node) {
			n.mutate = func(s *topologyv1.Snapshot) {
				s.Classification = &topologyv1.Classification{PromotionRule: topologyv1.PromotionRule_PROMOTION_RULE_MUST_NOT}
			}
		})}, []string{WarnNoPromotableReplica}},
		{"RecoveryWouldLoseReplicas: an unreachable replica", []node{master, replica2, state(replica3, "dead")}, []string{WarnRecoveryWouldLoseReplicas}},
		{"DifferentGTIDModes", []node{master, replica2, with(replica3, func(n *node) {
			n.mutate = func(s *topologyv1.Snapshot) { s.Channels[0].UsingGtid, s.Channels[0].AutoPosition = "No", false }
		})}, []string{WarnDifferentGTIDModes}},
		{"ErrantGTID", []node{
			with(master, func(n *node) { n.mutate = func(s *topologyv1.Snapshot) { s.Server.GtidBinlogPos = "0-1-10" } }),
			with(replica2, func(n *node) { n.mutate = func(s *topologyv1.Snapshot) { s.Server.GtidBinlogPos = "0-2-11" } }),
		}, []string{WarnErrantGTID, WarnNoPromotableReplica}},
		{"WritableReplicas", []node{master, with(replica2, func(n *node) { n.writable = yes(true) })}, []string{WarnWritableReplicas}},
		{"SemiSyncFellBackToAsync", []node{with(master, func(n *node) {
			n.mutate = func(s *topologyv1.Snapshot) { s.Server.SemiSync = &topologyv1.SemiSync{SourceEnabled: true} }
		}), replica2}, []string{WarnSemiSyncFellBackToAsync}},
		{"a filtered replica is no candidate but follows", []node{master, replica2, with(replica3, func(n *node) {
			n.mutate = func(s *topologyv1.Snapshot) { s.Channels[0].HasFilters = true }
		})}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, warnings := scenario{nodes: tt.nodes}.run()
			var got []string
			for _, w := range warnings {
				got = append(got, w.Code)
			}
			slices.Sort(got)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("warnings = %v, want %v", got, want)
			}
		})
	}
}

func TestBrokenReplicationCarriesTheError(t *testing.T) {
	problems, _ := scenario{nodes: []node{master, replica2, with(replica3, func(n *node) {
		n.sql = "No"
		n.mutate = func(s *topologyv1.Snapshot) {
			s.Channels[0].LastSqlErrno, s.Channels[0].LastSqlError = 1950, "An attempt was made to binlog GTID 0-1-9"
		}
	})}}.run()
	if len(problems) != 1 || !strings.Contains(problems[0].Description, "SQL thread stopped on error 1950: An attempt was made") {
		t.Fatalf("problems = %+v, want one BrokenReplication naming error 1950 and its message", problems)
	}
}
