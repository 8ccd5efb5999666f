package candidate

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

func key(port uint16) topology.InstanceKey { return topology.InstanceKey{Host: "db", Port: port} }

var dead = &topologyv1.Snapshot{Key: key(1).Proto(), Classification: &topologyv1.Classification{DataCenter: "dc1", PhysicalEnvironment: "prod"}}

// rep is a MariaDB replica in dc1/prod that executed pos, changed by opts.
func rep(port uint16, pos string, opts ...func(*Replica)) Replica {
	r := Replica{
		Key: key(port), Valid: true, Rule: topologyv1.PromotionRule_PROMOTION_RULE_NEUTRAL,
		Snapshot: &topologyv1.Snapshot{
			Key: key(port).Proto(), Reachable: true,
			Server: &topologyv1.Server{
				Flavor: topologyv1.Flavor_FLAVOR_MARIADB, MajorVersion: "10.11", LogBin: true, LogReplicaUpdates: true,
				BinlogFormat: "ROW", GtidSlavePos: pos, ReadOnly: true,
			},
			Channels:       []*topologyv1.ReplicationChannel{{Source: key(1).Proto()}},
			Classification: &topologyv1.Classification{DataCenter: "dc1", PhysicalEnvironment: "prod"},
		},
	}
	for _, o := range opts {
		o(&r)
	}
	return r
}

func rule(pr topologyv1.PromotionRule) func(*Replica) { return func(r *Replica) { r.Rule = pr } }
func server(f func(*topologyv1.Server)) func(*Replica) {
	return func(r *Replica) { f(r.Snapshot.Server) }
}
func dc(name string) func(*Replica) {
	return func(r *Replica) { r.Snapshot.Classification.DataCenter = name }
}

var (
	prefer    = rule(topologyv1.PromotionRule_PROMOTION_RULE_PREFER)
	preferNot = rule(topologyv1.PromotionRule_PROMOTION_RULE_PREFER_NOT)
	mustNot   = rule(topologyv1.PromotionRule_PROMOTION_RULE_MUST_NOT)
	noLSU     = server(func(s *topologyv1.Server) { s.LogReplicaUpdates = false })
	noBinlog  = server(func(s *topologyv1.Server) { s.LogBin = false })
	delayed   = func(r *Replica) { r.Snapshot.Channels[0].SqlDelay = 3600 }
	filtered  = func(r *Replica) { r.Snapshot.Channels[0].HasFilters = true }
	errant    = func(r *Replica) { r.Errant = true }
	down      = func(r *Replica) { r.Valid = false }
)

// summary renders a choice as "promote=P holder=H refused=[port:rule] lost=[port]".
func summary(c Choice, err error) string {
	var refused, lost []string
	for _, v := range c.Refused {
		refused = append(refused, fmt.Sprintf("%d:%s", v.Key.Port, v.Rule))
	}
	for _, v := range c.Lost {
		lost = append(lost, fmt.Sprint(v.Key.Port))
	}
	slices.Sort(refused)
	slices.Sort(lost)
	head := fmt.Sprintf("promote=%d holder=%d", c.Promote.Port, c.DataHolder.Port)
	if errors.Is(err, ErrNoCandidate) {
		head = "none"
	}
	return fmt.Sprintf("%s refused=[%s] lost=[%s]", head, strings.Join(refused, " "), strings.Join(lost, " "))
}

func TestChoose(t *testing.T) {
	const uuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
	mysql := func(port uint16, set string) Replica {
		return rep(port, "", server(func(s *topologyv1.Server) {
			s.Flavor, s.MajorVersion, s.GtidMode, s.GtidExecuted = topologyv1.Flavor_FLAVOR_MYSQL, "8.4", "ON", set
		}))
	}
	tests := []struct {
		name     string
		replicas []Replica
		want     string
	}{
		{"the most advanced replica wins",
			[]Replica{rep(2, "0-1-90"), rep(3, "0-1-100"), rep(4, "0-1-95")},
			"promote=3 holder=3 refused=[] lost=[]"},
		{"must_not is never promoted, and a replica ahead of every candidate is lost",
			[]Replica{rep(2, "0-1-100", mustNot), rep(3, "0-1-90")},
			"promote=3 holder=3 refused=[2:promotion-rule-must-not] lost=[2]"},
		{"no log_slave_updates: not promoted",
			[]Replica{rep(2, "0-1-100", noLSU), rep(3, "0-1-100")},
			"promote=3 holder=3 refused=[2:no-log-slave-updates] lost=[]"},
		{"no binary log: not promoted",
			[]Replica{rep(2, "0-1-100", noBinlog), rep(3, "0-1-100")},
			"promote=3 holder=3 refused=[2:no-binary-log] lost=[]"},
		{"a delayed replica is not promoted",
			[]Replica{rep(2, "0-1-100", delayed), rep(3, "0-1-100")},
			"promote=3 holder=3 refused=[2:delayed] lost=[]"},
		{"filters only some replicas have: not promoted",
			[]Replica{rep(2, "0-1-100", filtered), rep(3, "0-1-100")},
			"promote=3 holder=3 refused=[2:replication-filters] lost=[]"},
		{"filters every replica has: allowed",
			[]Replica{rep(2, "0-1-100", filtered), rep(3, "0-1-90", filtered)},
			"promote=2 holder=2 refused=[] lost=[]"},
		{"errant GTIDs: never promoted",
			[]Replica{rep(2, "0-1-100", errant), rep(3, "0-1-100")},
			"promote=3 holder=3 refused=[2:errant-gtid] lost=[]"},
		{"a newer major version is not promoted over older replicas",
			[]Replica{rep(2, "0-1-100", server(func(s *topologyv1.Server) { s.MajorVersion = "11.4" })), rep(3, "0-1-100")},
			"promote=3 holder=3 refused=[2:newer-major-version] lost=[]"},
		{"a binlog format above another replica's is not promoted",
			[]Replica{rep(2, "0-1-100"), rep(3, "0-1-100", server(func(s *topologyv1.Server) { s.BinlogFormat = "STATEMENT" }))},
			"promote=3 holder=3 refused=[2:binlog-format] lost=[]"},
		{"a prefer replica wins a tie",
			[]Replica{rep(2, "0-1-100"), rep(3, "0-1-100", prefer)},
			"promote=3 holder=3 refused=[] lost=[]"},
		{"the dead master's data centre wins a tie",
			[]Replica{rep(2, "0-1-100", dc("dc2")), rep(3, "0-1-100")},
			"promote=3 holder=3 refused=[] lost=[]"},
		{"data beats preference: a prefer replica behind is not the data holder",
			[]Replica{rep(2, "0-1-100"), rep(3, "0-1-90", prefer)},
			"promote=3 holder=2 refused=[] lost=[]"},
		{"two-step: the data holder in another data centre hands over",
			[]Replica{rep(2, "0-1-100", dc("dc2")), rep(3, "0-1-95")},
			"promote=3 holder=2 refused=[] lost=[]"},
		{"two-step: a prefer_not data holder hands over",
			[]Replica{rep(2, "0-1-100", preferNot), rep(3, "0-1-95"), rep(4, "0-1-90")},
			"promote=3 holder=2 refused=[] lost=[]"},
		{"an unreachable replica is lost",
			[]Replica{rep(2, "0-1-100"), rep(3, "0-1-100", down)},
			"promote=2 holder=2 refused=[3:unreachable] lost=[3]"},
		{"diverged replicas: the one with more wins, the other is lost",
			[]Replica{rep(2, "0-1-100,1-2-5"), rep(3, "0-1-101")},
			"promote=2 holder=2 refused=[] lost=[3]"},
		{"MySQL GTID sets",
			[]Replica{mysql(2, uuid+":1-90"), mysql(3, uuid+":1-100")},
			"promote=3 holder=3 refused=[] lost=[]"},
		{"MySQL without GTID: position unknown",
			[]Replica{mysql(2, ""), rep(3, "", server(func(s *topologyv1.Server) {
				s.Flavor, s.MajorVersion, s.GtidMode = topologyv1.Flavor_FLAVOR_MYSQL, "8.4", "OFF"
			}))},
			"promote=2 holder=2 refused=[3:unknown-position] lost=[3]"},
		{"no candidate at all",
			[]Replica{rep(2, "0-1-100", mustNot), rep(3, "0-1-100", noLSU)},
			"none refused=[2:promotion-rule-must-not 3:no-log-slave-updates] lost=[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := summary(Choose(Input{Dead: dead, Replicas: tt.replicas})); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}
