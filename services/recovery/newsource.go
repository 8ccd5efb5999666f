package recovery

import (
	"context"

	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
	"github.com/vigil-db/vigil/services/recovery/candidate"
)

// newSourceFor chooses where the replicas of a dead intermediate master go
// (ARCHITECTURE §6.2): a sibling in the dead one's data centre, that
// replicates from the same master, logs what it replicates, and has
// executed everything each moved replica has; else the intermediate
// master's own master, which has everything it relayed. It says why.
func (s *Service) newSourceFor(ctx context.Context, t target) (topology.InstanceKey, string) {
	dc := t.lastGood.GetClassification().GetDataCenter()
	if dc == "" {
		return t.master, "no data centre known for " + t.key.String() + ": its own master"
	}
	all, err := s.store.ListInstances(ctx)
	if err != nil {
		return t.master, "siblings unreadable (" + err.Error() + "): its own master"
	}
	var siblings []topology.InstanceKey
	for _, inst := range all {
		if src, ok := sourceOf(inst.Snapshot); ok && src == t.master && inst.Key != t.key &&
			inst.LastGood.GetClassification().GetDataCenter() == dc {
			siblings = append(siblings, inst.Key)
		}
	}
	if len(siblings) == 0 {
		return t.master, "no sibling in data centre " + dc + ": its own master"
	}
	snaps, err := s.probeNow(ctx, append(siblings, t.replicas...))
	if err != nil {
		return t.master, "siblings not probed (" + err.Error() + "): its own master"
	}
	replicas := snaps[len(siblings):]
	for i, k := range siblings {
		if sib := snaps[i]; fitSource(sib, t.master) && holdsAll(sib, replicas) {
			return k, "sibling " + k.String() + " in data centre " + dc
		}
	}
	return t.master, "no sibling in data centre " + dc + " replicates, logs its updates and has all the replicas have: its own master"
}

// fitSource reports whether a sibling can take replicas: it answers,
// replicates from master with both threads, and logs what it replicates.
func fitSource(sib *topologyv1.Snapshot, master topology.InstanceKey) bool {
	ch := channelFrom(sib, master)
	srv := sib.GetServer()
	return topology.IsGood(sib) && ch != nil && ch.GetIoThread() == topologyv1.ThreadState_THREAD_STATE_YES &&
		ch.GetSqlThread() == topologyv1.ThreadState_THREAD_STATE_YES && srv.GetLogBin() && srv.GetLogReplicaUpdates()
}

// holdsAll reports whether sib executed everything each replica did.
func holdsAll(sib *topologyv1.Snapshot, replicas []*topologyv1.Snapshot) bool {
	for _, r := range replicas {
		if !candidate.CaughtUp(sib, r) {
			return false
		}
	}
	return true
}
