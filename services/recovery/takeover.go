package recovery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-db/vigil/pkg/candidate"
	"github.com/vigil-db/vigil/pkg/topology"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
	"github.com/vigil-db/vigil/services/recovery/failover"
	"github.com/vigil-db/vigil/services/recovery/hooks"
)

// GracefulMasterTakeover hands a live cluster's mastership to designated,
// or to the best replica when designated is zero (ARCHITECTURE §6.3). It
// returns a *RefusedError, with nothing changed, when the replica may not
// take over or a pre-graceful-takeover hook vetoes.
func (s *Service) GracefulMasterTakeover(ctx context.Context, cluster string, designated topology.InstanceKey, by string) (*recoveryv1.Recovery, error) {
	ref, err := s.resolveCluster(ctx, cluster)
	if err != nil {
		return nil, err
	}
	op, err := s.beginOperation(ctx, ref, OpGracefulMasterTakeover, by, true)
	if err != nil {
		return nil, err
	}
	defer op.release()
	return s.masterTakeover(ctx, op, ref, designated)
}

// masterTakeover runs a graceful takeover under the cluster lock.
func (s *Service) masterTakeover(ctx context.Context, op *operation, ref clusterRef, designated topology.InstanceKey) (*recoveryv1.Recovery, error) {
	run := op.run
	run.Phase("check")
	now, err := s.probeCluster(ctx, ref)
	if err != nil {
		return nil, s.refuse(ctx, op, GateRecheck, "the cluster could not be probed before any change: "+err.Error())
	}
	if !topology.IsGood(now.masterSnap) {
		return nil, s.refuse(ctx, op, RuleMasterUnreachable, fmt.Sprintf("master %s does not answer (%s): use recover or force-master-failover", ref.master, now.masterSnap.GetError()))
	}
	if len(ref.replicas) == 0 {
		return nil, s.refuse(ctx, op, RuleNoReplicas, "master "+ref.master.String()+" has no replicas")
	}
	choice, err := candidate.Takeover(now.candidateInput(), designated)
	run.Note(ctx, "choose-successor", choice.Promote, err == nil, describeTakeover(choice, err))
	var refused *candidate.RefusedError
	switch {
	case errors.As(err, &refused):
		return nil, s.refuse(ctx, op, refused.Verdict.Rule, refused.Error())
	case err != nil:
		return nil, s.refuse(ctx, op, GateNoCandidate, describeTakeover(choice, err))
	}
	_ = run.Update(ctx, func(r *recoveryv1.Recovery) { r.Successor = choice.Promote.Proto() })

	run.Phase("pre-graceful-takeover-hooks")
	if err := s.runHooks(ctx, run, hooks.PreGracefulTakeover); err != nil {
		return nil, s.refuse(ctx, op, GateHookVeto, "vetoed by a pre-graceful-takeover hook: "+err.Error())
	}
	var others []topology.InstanceKey
	for _, k := range ref.replicas {
		if k != choice.Promote {
			others = append(others, k)
		}
	}
	res, err := run.MasterTakeover(ctx, failover.Takeover{
		Master: ref.master, Successor: choice.Promote, Replicas: others,
		SemiSync:    now.masterSnap.GetServer().GetSemiSync().GetSourceEnabled(),
		Replication: s.cfg.Replication,
	})
	_ = run.Update(ctx, func(r *recoveryv1.Recovery) {
		for _, k := range res.Lost {
			r.LostReplicas = append(r.LostReplicas, &recoveryv1.LostReplica{Instance: k.Proto(), Reason: "could not be moved under " + choice.Promote.String()})
		}
	})
	if err == nil {
		run.Phase("publish")
		err = s.publishMaster(ctx, run, ref.name, choice.Promote)
	}
	if err == nil {
		s.refresh(ctx, run, choice.Promote, append([]topology.InstanceKey{ref.master}, others...))
	}
	rec, err := s.finishOperation(ctx, op, err, fmt.Sprintf("%s handed over to %s; writes refused for %s; %d replica(s) lost",
		ref.master, choice.Promote, res.WriteUnavailable.Round(time.Millisecond), len(res.Lost)))
	if err == nil {
		_ = s.runHooks(ctx, run, hooks.PostGracefulTakeover)
	}
	return rec, err
}

// describeTakeover is the audit text of a takeover's successor choice.
func describeTakeover(c candidate.Choice, err error) string {
	if err != nil {
		return err.Error() + c.SetAside()
	}
	return "hand over to " + c.Promote.String() + c.SetAside()
}
