package recovery

import (
	"context"
	"fmt"
	"time"

	"github.com/vigil-db/vigil/pkg/topology"
	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
	"github.com/vigil-db/vigil/services/recovery/failover"
	"github.com/vigil-db/vigil/services/recovery/hooks"
)

// RuleNoFailure refuses a manual recovery of an instance no analyzer
// reports as a recoverable failure.
const RuleNoFailure = "no-recoverable-failure"

// RecoverInstance recovers a failed master or intermediate master now, on
// an operator's word: the global switch, the cluster filters, downtime and
// the anti-flapping block do not stop it; the lock, the re-check on fresh
// probes, dry-run mode and pre-failover hooks do. designated, when not
// zero, is the replica to promote (or the new source of an intermediate
// master's replicas).
func (s *Service) RecoverInstance(ctx context.Context, failed, designated topology.InstanceKey, by string) (*recoveryv1.Recovery, error) {
	d := s.activeDetectionOf(failed)
	if d == nil {
		return nil, &RefusedError{Rule: RuleNoFailure, Reason: fmt.Sprintf(
			"no analyzer reports a recoverable failure of %s now; force-master-failover acts on a master that looks alive", failed)}
	}
	lockStart := time.Now()
	lock, err := s.lockWithin(ctx, d.GetCluster())
	if err != nil {
		return nil, err
	}
	log := s.log.With("cluster", d.GetCluster(), "instance", failed.String(), "analysis", d.GetCode(), "detection_id", d.GetId(), "requested_by", by)
	defer s.unlock(ctx, lock, log)

	rec := s.newRecord(lock, lockStart, by, d)
	op := &operation{run: failover.NewRun(rec, lock, s.mysql, s.bounds(), s.store.SaveRecovery, log), log: log}
	run := op.run
	run.Phase("recheck")
	target, gate, reason := s.recheck(ctx, d, failed)
	if gate != "" {
		return nil, s.refuse(ctx, op, gate, reason)
	}
	target.designated = designated
	if s.cfg.DryRun {
		s.dryRun(ctx, run, target, log)
		return run.Record(), nil
	}
	if err := run.Update(ctx, func(*recoveryv1.Recovery) {}); err != nil {
		return nil, fmt.Errorf("recovery not recorded: not attempted: %w", err)
	}
	run.Phase("pre-failover-hooks")
	if err := s.runHooks(ctx, run, hooks.PreFailover); err != nil {
		return nil, s.refuse(ctx, op, GateHookVeto, "vetoed by a pre-failover hook: "+err.Error())
	}
	s.recover(ctx, run, d, target, log)
	rec = run.Record()
	if rec.GetOutcome() != recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SUCCEEDED {
		return rec, &FailedError{RecoveryID: rec.GetId(), Err: fmt.Errorf("recovery %s: %s", rec.GetOutcome(), rec.GetReason())}
	}
	return rec, nil
}

// activeDetectionOf returns the active recoverable detection of an
// instance, or nil.
func (s *Service) activeDetectionOf(key topology.InstanceKey) *analyzerv1.Detection {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.active {
		if k, err := topology.KeyFromProto(d.GetInstance()); err == nil && k == key {
			return d
		}
	}
	return nil
}
