// Package candidate chooses the replica to promote when a master dies, and
// says which replicas could not follow it and why. It is pure: what the
// replicas last said goes in; the choice, every replica refused with the rule
// that refused it, and every replica lost with the reason come out.
//
// The rules are ARCHITECTURE §6.1: a candidate has a binary log and logs its
// replicated updates, answers, is not must_not, not delayed, has no
// replication filters unless every replica has them, no errant GTIDs, no
// newer major version and no higher binlog format than the other replicas.
// Among candidates the most advanced executed position wins; ties go to the
// promotion rule, then to the dead master's data centre and environment,
// then to the fewest replicas lost. When the best data holder is not the
// best home for mastership, it is promoted first and hands over to the best
// home once that has caught up from it (two-step promotion).
package candidate

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// Rules that refuse a replica as a candidate, as recorded in the audit.
const (
	RuleUnreachable        = "unreachable"
	RuleNoBinlog           = "no-binary-log"
	RuleNoLogReplicaUpdate = "no-log-slave-updates"
	RuleMustNot            = "promotion-rule-must-not"
	RuleDelayed            = "delayed"
	RuleFilters            = "replication-filters"
	RuleErrantGTID         = "errant-gtid"
	RuleNewerMajor         = "newer-major-version"
	RuleBinlogFormat       = "binlog-format"
	RuleUnknownPosition    = "unknown-position"
)

// ErrNoCandidate is returned when no replica may be promoted.
var ErrNoCandidate = errors.New("no replica can be promoted")

// Replica is what the choice needs to know of one replica of the dead master.
type Replica struct {
	Key topology.InstanceKey
	// Snapshot is its latest good snapshot, taken after its relay log was
	// applied.
	Snapshot *topologyv1.Snapshot
	// Valid is whether Vigil reads it now.
	Valid bool
	// Errant is whether it executed transactions its master never had.
	Errant bool
	// Rule is its promotion rule: the registered one, else its classification.
	Rule topologyv1.PromotionRule
}

// Input is a dead master and its replicas.
type Input struct {
	// Dead is the dead master's last good snapshot (its data centre and
	// environment), or nil.
	Dead     *topologyv1.Snapshot
	Replicas []Replica
	// Live says the master still runs (a planned takeover, or readiness):
	// a candidate must then be replicating from it now, or it may miss
	// what the master has.
	Live bool
}

// Verdict is one replica set aside, with the rule or reason.
type Verdict struct {
	Key    topology.InstanceKey
	Rule   string
	Reason string
}

// Choice is the outcome.
type Choice struct {
	// DataHolder is the candidate with the most data. Promote is the
	// replica that ends up master: DataHolder, or the better home that
	// takes over from it in a two-step promotion.
	DataHolder, Promote topology.InstanceKey
	// Refused lists the replicas that could not be candidates.
	Refused []Verdict
	// Lost lists the replicas that cannot replicate from the new master.
	Lost []Verdict
}

// SetAside says, for the audit, which replicas were refused and lost and
// why: "; refused K: rule (reason)" and "; lost K: reason" for each.
func (c Choice) SetAside() string {
	var b strings.Builder
	for _, v := range c.Refused {
		fmt.Fprintf(&b, "; refused %s: %s (%s)", v.Key, v.Rule, v.Reason)
	}
	for _, v := range c.Lost {
		fmt.Fprintf(&b, "; lost %s: %s", v.Key, v.Reason)
	}
	return b.String()
}

// TwoStep reports whether mastership is handed over from the data holder.
func (c Choice) TwoStep() bool { return c.DataHolder != c.Promote }

// replica is a Replica with what the rules read from its snapshot.
type replica struct {
	Replica
	pos    position
	major  []int
	format int
}

// Choose picks the replica to promote. It returns ErrNoCandidate, with every
// refusal in the Choice, when none may be promoted.
func Choose(in Input) (Choice, error) {
	all := readReplicas(in)
	var choice Choice
	var eligible []replica
	for _, r := range all {
		if rule, reason := refusal(r, all, in.Live); rule != "" {
			choice.Refused = append(choice.Refused, Verdict{Key: r.Key, Rule: rule, Reason: reason})
			continue
		}
		eligible = append(eligible, r)
	}
	if len(eligible) == 0 {
		return choice, ErrNoCandidate
	}

	holder := slices.MaxFunc(eligible, func(a, b replica) int { return compareHolders(a, b, in.Dead, all) })
	home := holder
	for _, r := range eligible {
		// A better home must be able to catch up from the holder.
		if holder.pos.contains(r.pos) && compareHomes(r, home, in.Dead) > 0 {
			home = r
		}
	}
	choice.DataHolder, choice.Promote = holder.Key, home.Key
	choice.Lost = lost(holder, home, all)
	return choice, nil
}

// ChooseFor is Choose with the replica to promote named by an operator
// (when not zero): it must be a candidate, or a *RefusedError names the
// rule. When another candidate has more data, the named one first catches
// up from it (two-step promotion); when the named one has transactions the
// others lack, it is promoted directly and they are lost.
func ChooseFor(in Input, designated topology.InstanceKey) (Choice, error) {
	choice, err := Choose(in)
	if designated.IsZero() {
		return choice, err
	}
	for _, v := range choice.Refused {
		if v.Key == designated {
			return choice, &RefusedError{Verdict: v}
		}
	}
	all := readReplicas(in)
	var named *replica
	for i := range all {
		if all[i].Key == designated {
			named = &all[i]
		}
	}
	if named == nil {
		return choice, &RefusedError{Verdict: Verdict{Key: designated, Rule: RuleNotReplica, Reason: "it is not a direct replica of the failed master"}}
	}
	holder := *named
	if i := slices.IndexFunc(all, func(r replica) bool { return r.Key == choice.DataHolder }); i >= 0 && all[i].pos.contains(named.pos) {
		holder = all[i]
	}
	choice.DataHolder, choice.Promote = holder.Key, named.Key
	choice.Lost = lost(holder, *named, all)
	return choice, nil
}

// readReplicas reads what the rules need from each replica's snapshot.
func readReplicas(in Input) []replica {
	var all []replica
	for _, r := range in.Replicas {
		all = append(all, replica{Replica: r, pos: positionOf(r.Snapshot),
			major: majorOf(r.Snapshot), format: formatRank(r.Snapshot.GetServer().GetBinlogFormat())})
	}
	return all
}

// refusal returns the first rule that keeps r from being a candidate; live
// says its master still runs.
func refusal(r replica, all []replica, live bool) (rule, reason string) {
	s := r.Snapshot.GetServer()
	ch := channel(r.Snapshot)
	switch {
	case !r.Valid || r.Snapshot == nil:
		return RuleUnreachable, "Vigil cannot read it"
	case r.pos.unknown():
		return RuleUnknownPosition, "it reports no executed GTID position"
	case !s.GetLogBin():
		return RuleNoBinlog, "log_bin is off: its replicas would have nothing to read"
	case !s.GetLogReplicaUpdates():
		return RuleNoLogReplicaUpdate, "log_slave_updates is off: replicated transactions are not in its binary log"
	case r.Rule == topologyv1.PromotionRule_PROMOTION_RULE_MUST_NOT:
		return RuleMustNot, "its promotion rule is must_not"
	case ch.GetSqlDelay() > 0:
		return RuleDelayed, fmt.Sprintf("it applies transactions %ds late on purpose", ch.GetSqlDelay())
	case ch.GetHasFilters() && !allFiltered(all):
		return RuleFilters, "it has replication filters that other replicas do not have"
	case r.Errant:
		return RuleErrantGTID, "it executed transactions its master never had"
	case live && !replicating(r.Snapshot):
		return RuleNotReplicating, "its replication threads are not both running, so it may miss what the master has"
	}
	for _, o := range all {
		if o.Key == r.Key || !o.Valid {
			continue
		}
		if compareVersions(r.major, o.major) > 0 {
			return RuleNewerMajor, fmt.Sprintf("major version %s is newer than %s on %s", s.GetMajorVersion(), o.Snapshot.GetServer().GetMajorVersion(), o.Key)
		}
		if r.format > o.format && o.format > 0 {
			return RuleBinlogFormat, fmt.Sprintf("binlog format %s is above %s on %s", s.GetBinlogFormat(), o.Snapshot.GetServer().GetBinlogFormat(), o.Key)
		}
	}
	return "", ""
}

// compareHolders orders candidates by data first (more is better), then by
// how good a home they are, then by the replicas they would lose (fewer is
// better), then by key for a stable choice.
func compareHolders(a, b replica, dead *topologyv1.Snapshot, all []replica) int {
	if c := a.pos.compare(b.pos); c != 0 {
		return c
	}
	if c := compareHomes(a, b, dead); c != 0 {
		return c
	}
	if c := cmp.Compare(len(lost(b, b, all)), len(lost(a, a, all))); c != 0 {
		return c
	}
	return topology.CompareKeys(b.Key, a.Key)
}

// compareHomes orders replicas as a home for mastership: promotion rule
// first, then the dead master's data centre, then its environment.
func compareHomes(a, b replica, dead *topologyv1.Snapshot) int {
	return cmp.Or(
		cmp.Compare(ruleRank(a.Rule), ruleRank(b.Rule)),
		cmp.Compare(sameDC(a.Snapshot, dead), sameDC(b.Snapshot, dead)),
		cmp.Compare(sameEnv(a.Snapshot, dead), sameEnv(b.Snapshot, dead)),
	)
}

// lost lists the replicas that cannot replicate from master once it has
// caught up from holder.
func lost(holder, master replica, all []replica) []Verdict {
	var out []Verdict
	for _, r := range all {
		if r.Key == master.Key {
			continue
		}
		var reason string
		switch {
		case !r.Valid || r.Snapshot == nil:
			reason = "unreachable"
		case r.pos.unknown() || !holder.pos.contains(r.pos):
			reason = "it executed transactions the new master does not have"
		case compareVersions(master.major, r.major) > 0:
			reason = "its major version is older than the new master's"
		}
		if reason != "" {
			out = append(out, Verdict{Key: r.Key, Reason: reason})
		}
	}
	return out
}

func channel(s *topologyv1.Snapshot) *topologyv1.ReplicationChannel {
	if chs := s.GetChannels(); len(chs) > 0 {
		return chs[0]
	}
	return nil
}

func allFiltered(all []replica) bool {
	for _, r := range all {
		if r.Valid && !channel(r.Snapshot).GetHasFilters() {
			return false
		}
	}
	return true
}

func ruleRank(r topologyv1.PromotionRule) int {
	switch r {
	case topologyv1.PromotionRule_PROMOTION_RULE_MUST:
		return 4
	case topologyv1.PromotionRule_PROMOTION_RULE_PREFER:
		return 3
	case topologyv1.PromotionRule_PROMOTION_RULE_PREFER_NOT:
		return 1
	case topologyv1.PromotionRule_PROMOTION_RULE_MUST_NOT:
		return 0
	}
	return 2 // neutral, or not set
}

func sameDC(s, dead *topologyv1.Snapshot) int {
	dc := dead.GetClassification().GetDataCenter()
	return boolRank(dc != "" && s.GetClassification().GetDataCenter() == dc)
}

func sameEnv(s, dead *topologyv1.Snapshot) int {
	env := dead.GetClassification().GetPhysicalEnvironment()
	return boolRank(env != "" && s.GetClassification().GetPhysicalEnvironment() == env)
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// formatRank orders binlog formats: STATEMENT < MIXED < ROW; 0 when unknown.
func formatRank(f string) int {
	return map[string]int{"STATEMENT": 1, "MIXED": 2, "ROW": 3}[strings.ToUpper(f)]
}

// majorOf parses a major version such as "10.11" or "8.0".
func majorOf(s *topologyv1.Snapshot) []int {
	var out []int
	for _, part := range strings.Split(s.GetServer().GetMajorVersion(), ".") {
		n, err := strconv.Atoi(part)
		if err != nil {
			return nil
		}
		out = append(out, n)
	}
	return out
}

// compareVersions compares two parsed major versions; an unknown one
// compares equal to anything.
func compareVersions(a, b []int) int {
	if a == nil || b == nil {
		return 0
	}
	return slices.Compare(a, b)
}

// Errant reports whether replica executed transactions of its own that its
// master, as last seen, did not have.
func Errant(replica, master *topologyv1.Snapshot) bool {
	rs, ms := replica.GetServer(), master.GetServer()
	if rs == nil || ms == nil {
		return false // nothing known to compare
	}
	if rs.GetFlavor() == topologyv1.Flavor_FLAVOR_MARIADB {
		rp, err1 := topology.ParseMariaDBGTIDPos(rs.GetGtidBinlogPos())
		mp, err2 := topology.ParseMariaDBGTIDPos(ms.GetGtidBinlogPos())
		return err1 == nil && err2 == nil && len(topology.MariaDBErrant(rp, mp, rs.GetServerId())) > 0
	}
	re, err1 := topology.ParseGTIDSet(rs.GetGtidExecuted())
	me, err2 := topology.ParseGTIDSet(ms.GetGtidExecuted())
	return err1 == nil && err2 == nil && !topology.ErrantGTIDs(re, me, []string{ms.GetServerUuid()}).IsEmpty()
}
