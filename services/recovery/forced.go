package recovery

import (
	"context"
	"errors"
	"fmt"

	"github.com/vigil-db/vigil/pkg/candidate"
	"github.com/vigil-db/vigil/pkg/topology"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
	"github.com/vigil-db/vigil/services/recovery/failover"
)

// ForceMasterFailover fails a cluster's master over now, whether or not it
// answers, leaving it as it is: the best replica is promoted, as for a dead
// master, and the others repointed.
func (s *Service) ForceMasterFailover(ctx context.Context, cluster, by string) (*recoveryv1.Recovery, error) {
	return s.forceFailover(ctx, cluster, topology.InstanceKey{}, OpForceMasterFailover, by)
}

// ForceMasterTakeover promotes designated now, leaving the master as it is.
func (s *Service) ForceMasterTakeover(ctx context.Context, cluster string, designated topology.InstanceKey, by string) (*recoveryv1.Recovery, error) {
	return s.forceFailover(ctx, cluster, designated, OpForceMasterTakeover, by)
}

func (s *Service) forceFailover(ctx context.Context, cluster string, designated topology.InstanceKey, name, by string) (*recoveryv1.Recovery, error) {
	ref, err := s.resolveCluster(ctx, cluster)
	if err != nil {
		return nil, err
	}
	op, err := s.beginOperation(ctx, ref, name, by, false)
	if err != nil {
		return nil, err
	}
	defer op.release()
	run := op.run
	run.Phase("check")
	if len(ref.replicas) == 0 {
		return nil, s.refuse(ctx, op, RuleNoReplicas, "master "+ref.master.String()+" has no replicas")
	}
	now, err := s.probeCluster(ctx, ref)
	if err != nil {
		return nil, s.refuse(ctx, op, GateRecheck, "the cluster could not be probed before any change: "+err.Error())
	}
	// Refuse a replica that may not be promoted before anything changes;
	// the choice is made again once the relay logs are applied.
	if _, err := candidate.ChooseFor(now.candidateInput(), designated); err != nil {
		var refused *candidate.RefusedError
		if errors.As(err, &refused) {
			return nil, s.refuse(ctx, op, refused.Verdict.Rule, refused.Error())
		}
		return nil, s.refuse(ctx, op, GateNoCandidate, err.Error())
	}
	_ = run.Update(ctx, func(*recoveryv1.Recovery) {})
	res, err := run.RecoverDeadMaster(ctx, failover.DeadMaster{
		Key: ref.master, LastGood: now.reference, Replicas: ref.replicas,
		Classifications: now.classifications(), Designated: designated, LeaveOldMaster: true,
	})
	_ = run.Update(ctx, func(r *recoveryv1.Recovery) {
		if !res.Successor.IsZero() {
			r.Successor = res.Successor.Proto()
		}
		for _, v := range res.Lost {
			r.LostReplicas = append(r.LostReplicas, &recoveryv1.LostReplica{Instance: v.Key.Proto(), Reason: v.Rule + ": " + v.Reason})
		}
	})
	if err == nil {
		run.Phase("publish")
		err = s.publishMaster(ctx, run, ref.name, res.Successor)
	}
	if err == nil {
		s.refresh(ctx, run, res.Successor, ref.replicas)
	}
	return s.finishOperation(ctx, op, err, fmt.Sprintf("%s promoted; %s left as it is; %d replica(s) lost", res.Successor, ref.master, len(res.Lost)))
}
