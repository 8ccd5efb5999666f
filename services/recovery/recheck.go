package recovery

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-db/vigil/pkg/topology"
	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// target is a failed instance as the re-check found it.
type target struct {
	key          topology.InstanceKey
	intermediate bool
	// coMaster is the surviving member of a dead co-master's ring; zero
	// unless the failed instance is a co-master.
	coMaster topology.InstanceKey
	// master is an intermediate master's own master.
	master   topology.InstanceKey
	lastGood *topologyv1.Snapshot
	// replicas are its direct replicas that answered the re-check.
	replicas []topology.InstanceKey
	// classifications are the replicas' classifications, as last seen.
	classifications map[topology.InstanceKey]*topologyv1.Classification
	// designated is the replica an operator named: the one to promote, or
	// the new source of a dead intermediate master's replicas.
	designated topology.InstanceKey
}

// recheck probes the failed instance and its replicas again through
// discovery and confirms the failure on those fresh snapshots: the instance
// must not answer, the failure must not be Vigil's own access problem, and
// no replica may still replicate from it. It returns the gate and reason
// when the failure is not confirmed.
func (s *Service) recheck(ctx context.Context, d *analyzerv1.Detection, failed topology.InstanceKey) (target, string, string) {
	t := target{key: failed, intermediate: d.GetSuggestedAction() == analyzerv1.Action_ACTION_RECOVER_INTERMEDIATE_MASTER}
	lastGood, replicas, classifications, err := s.lastSeen(ctx, failed)
	if err != nil {
		return t, GateRecheck, err.Error()
	}
	t.lastGood = lastGood
	coMaster := d.GetSuggestedAction() == analyzerv1.Action_ACTION_RECOVER_CO_MASTER
	if t.intermediate || coMaster {
		src, ok := sourceOf(t.lastGood)
		if !ok {
			return t, GateRecheck, "the failed instance's own master is unknown"
		}
		t.master = src
		if coMaster {
			t.coMaster = src
		}
	}
	t.classifications = classifications
	answers, err := s.probeEvery(ctx, append([]topology.InstanceKey{failed}, replicas...))
	if err != nil {
		return t, GateRecheck, "re-probe failed: " + err.Error()
	}
	// The failed instance by a majority of the members that answered, as
	// the analyzer judges: one member that reaches it, or not, decides
	// nothing alone. The replicas by the best answer: a replica's own word
	// on its replication is the same whoever reads it.
	var good, denied int
	var self *topologyv1.Snapshot
	for _, a := range answers {
		switch {
		case topology.IsGood(a[0]):
			good++
		case topology.IsAccessProblem(a[0].GetErrorClass()):
			denied++
			self = a[0]
		}
	}
	switch n := len(answers); {
	case 2*good > n:
		return t, GateRecheck, fmt.Sprintf("failure gone: %s answers again (to %d of %d discovery members)", failed, good, n)
	case 2*(good+denied) > n && denied > 0:
		return t, GateRecheck, "Vigil cannot log in to " + failed.String() + " (" + self.GetError() + "): not a failure of the server"
	}
	snaps := make([]*topologyv1.Snapshot, len(answers[0]))
	for i := range snaps {
		for _, a := range answers {
			if better(a[i], snaps[i]) {
				snaps[i] = a[i]
			}
		}
	}
	var replicating, silent []string
	for i, k := range replicas {
		snap := snaps[i+1]
		if !topology.IsGood(snap) {
			silent = append(silent, k.String())
			continue
		}
		ch := channelFrom(snap, failed)
		if ch == nil {
			continue // moved elsewhere since the store was written
		}
		if ch.GetIoThread() == topologyv1.ThreadState_THREAD_STATE_YES {
			replicating = append(replicating, k.String())
			continue
		}
		if k != t.coMaster {
			t.replicas = append(t.replicas, k)
		}
	}
	if !t.coMaster.IsZero() && !slices.Contains(replicas, t.coMaster) {
		return t, GateRecheck, "the other co-master " + t.coMaster.String() + " does not replicate from " + failed.String()
	}
	switch {
	case len(replicating) > 0:
		return t, GateRecheck, fmt.Sprintf("replicas still replicate from %s: %s", failed, strings.Join(replicating, ", "))
	case len(t.replicas) == 0 && t.coMaster.IsZero():
		return t, GateRecheck, fmt.Sprintf("no replica of %s answers (%s)", failed, strings.Join(silent, ", "))
	}
	return t, "", ""
}

// lastSeen returns what Vigil last knew of a failed instance: its last
// good snapshot, its direct replicas and their classifications. The
// analyzers' view comes first: it is current, while discovery writes the
// store in batches and a failure right after an instance was discovered
// may not be stored yet.
func (s *Service) lastSeen(ctx context.Context, failed topology.InstanceKey) (*topologyv1.Snapshot, []topology.InstanceKey, map[topology.InstanceKey]*topologyv1.Classification, error) {
	for _, c := range s.topology {
		inst, err := c.GetInstance(ctx, &topologyv1.GetInstanceRequest{Instance: failed.Proto()})
		if err != nil {
			continue
		}
		reps, err := c.ListReplicas(ctx, &topologyv1.ListReplicasRequest{Instance: failed.Proto()})
		if err != nil {
			continue
		}
		lastGood := inst.GetInstance().GetLastGoodSnapshot()
		if lastGood == nil && topology.IsGood(inst.GetInstance().GetSnapshot()) {
			lastGood = inst.GetInstance().GetSnapshot()
		}
		var keys []topology.InstanceKey
		classifications := make(map[topology.InstanceKey]*topologyv1.Classification)
		for _, r := range reps.GetReplicas() {
			k, err := topology.KeyFromProto(r.GetKey())
			if err != nil {
				continue
			}
			keys = append(keys, k)
			classifications[k] = r.GetSnapshot().GetClassification()
			if last := r.GetLastGoodSnapshot(); last != nil {
				classifications[k] = last.GetClassification()
			}
		}
		return lastGood, keys, classifications, nil
	}
	inst, err := s.store.GetInstance(ctx, failed)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("failed instance unreadable from the analyzers and the store: %w", err)
	}
	replicas, classifications, err := s.replicasOf(ctx, failed)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("replicas unreadable from the store: %w", err)
	}
	return inst.LastGood, replicas, classifications, nil
}

// replicasOf lists the stored instances whose latest or last good snapshot
// replicates from key, and their classifications as last seen.
func (s *Service) replicasOf(ctx context.Context, key topology.InstanceKey) ([]topology.InstanceKey, map[topology.InstanceKey]*topologyv1.Classification, error) {
	all, err := s.store.ListInstances(ctx)
	if err != nil {
		return nil, nil, err
	}
	var out []topology.InstanceKey
	classifications := make(map[topology.InstanceKey]*topologyv1.Classification)
	for _, inst := range all {
		src, ok := sourceOf(inst.Snapshot)
		if !ok || src != key {
			src, ok = sourceOf(inst.LastGood)
		}
		if ok && src == key {
			out = append(out, inst.Key)
			classifications[inst.Key] = inst.LastGood.GetClassification()
		}
	}
	return out, classifications, nil
}

// sourceOf returns the source of a snapshot's default channel.
func sourceOf(s *topologyv1.Snapshot) (topology.InstanceKey, bool) {
	for _, ch := range s.GetChannels() {
		if ch.GetName() == "" && ch.GetSource() != nil {
			k, err := topology.KeyFromProto(ch.GetSource())
			return k, err == nil
		}
	}
	return topology.InstanceKey{}, false
}

// channelFrom returns a snapshot's channel from source, or nil.
func channelFrom(s *topologyv1.Snapshot, source topology.InstanceKey) *topologyv1.ReplicationChannel {
	for _, ch := range s.GetChannels() {
		if k, err := topology.KeyFromProto(ch.GetSource()); err == nil && k == source {
			return ch
		}
	}
	return nil
}
