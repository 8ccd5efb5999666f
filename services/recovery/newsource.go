package recovery

import (
	"context"
	"slices"

	"github.com/vigil-db/vigil/pkg/candidate"
	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// newHome is where the replicas of a dead intermediate master go: under
// Source, or, when Leader is set, Leader under Source and the others under
// Leader.
type newHome struct {
	Source, Leader topology.InstanceKey
	Why            string
}

// newHomeFor chooses where the replicas of a dead intermediate master go
// (ARCHITECTURE §6.2), in this order: a sibling in the dead one's data
// centre; regrouped under the best of themselves; another sibling; the
// intermediate master's own master, which has everything it relayed. A
// sibling must answer, replicate from the same master with both threads,
// log what it replicates and have executed everything each moved replica
// has; a regroup leader must log what it replicates, be neither delayed nor
// must_not, and have executed everything the others have.
func (s *Service) newHomeFor(ctx context.Context, t target) newHome {
	fallback := newHome{Source: t.master, Why: "its own master " + t.master.String()}
	_, all, _, err := s.lastSeen(ctx, t.master)
	if err != nil {
		fallback.Why += " (siblings unreadable: " + err.Error() + ")"
		return fallback
	}
	siblings := slices.DeleteFunc(all, func(k topology.InstanceKey) bool { return k == t.key })
	snaps, err := s.probeNow(ctx, append(slices.Clone(siblings), t.replicas...))
	if err != nil {
		fallback.Why += " (siblings and replicas not probed: " + err.Error() + ")"
		return fallback
	}
	sibSnaps, replicas := snaps[:len(siblings)], snaps[len(siblings):]
	dc := t.lastGood.GetClassification().GetDataCenter()
	fit := func(i int) bool { return fitSource(sibSnaps[i], t.master) && holdsAll(sibSnaps[i], replicas) }

	for i, k := range siblings {
		if dc != "" && sibSnaps[i].GetClassification().GetDataCenter() == dc && fit(i) {
			return newHome{Source: k, Why: "sibling " + k.String() + " in data centre " + dc}
		}
	}
	if len(t.replicas) > 1 {
		for i, k := range t.replicas {
			srv := replicas[i].GetServer()
			delayed := channelFrom(replicas[i], t.key).GetSqlDelay() > 0
			mustNot := t.classifications[k].GetPromotionRule() == topologyv1.PromotionRule_PROMOTION_RULE_MUST_NOT
			if topology.IsGood(replicas[i]) && srv.GetLogBin() && srv.GetLogReplicaUpdates() && !delayed && !mustNot &&
				holdsAll(replicas[i], replicas) {
				return newHome{Source: t.master, Leader: k, Why: "regrouped under " + k.String() + ", which has everything the others have, under " + t.master.String()}
			}
		}
	}
	for i, k := range siblings {
		if fit(i) {
			return newHome{Source: k, Why: "sibling " + k.String()}
		}
	}
	return fallback
}

// fitSource reports whether a sibling can take replicas: it answers,
// replicates from master with both threads, and logs what it replicates.
func fitSource(sib *topologyv1.Snapshot, master topology.InstanceKey) bool {
	ch := channelFrom(sib, master)
	srv := sib.GetServer()
	return topology.IsGood(sib) && ch != nil && ch.GetIoThread() == topologyv1.ThreadState_THREAD_STATE_YES &&
		ch.GetSqlThread() == topologyv1.ThreadState_THREAD_STATE_YES && srv.GetLogBin() && srv.GetLogReplicaUpdates()
}

// holdsAll reports whether s executed everything each replica did.
func holdsAll(s *topologyv1.Snapshot, replicas []*topologyv1.Snapshot) bool {
	for _, r := range replicas {
		if !candidate.CaughtUp(s, r) {
			return false
		}
	}
	return true
}
