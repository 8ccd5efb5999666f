package recovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vigil-db/vigil/pkg/candidate"
	"github.com/vigil-db/vigil/pkg/coord"
	"github.com/vigil-db/vigil/pkg/topology"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
	"github.com/vigil-db/vigil/services/recovery/failover"
)

// Operations operators start by hand, as recorded in Recovery.analysis.
const (
	OpGracefulMasterTakeover = "GracefulMasterTakeover"
	OpForceMasterFailover    = "ForceMasterFailover"
	OpForceMasterTakeover    = "ForceMasterTakeover"
)

// Errors of manual operations; the RPC handlers map them to gRPC codes.
var (
	// ErrUnknown wraps a cluster or instance Vigil does not know.
	ErrUnknown = errors.New("unknown to Vigil")
	// ErrLocked is returned when another recovery or operation held the
	// cluster lock for longer than an operation waits.
	ErrLocked = errors.New("the cluster lock is held by another recovery or operation")
)

// RefusedError is a manual operation a rule refused before it changed
// anything; the refusal is on record as RecoveryID, when it got as far as
// the cluster lock.
type RefusedError struct {
	Rule, Reason string
	RecoveryID   string
}

func (e *RefusedError) Error() string {
	if e.RecoveryID == "" {
		return fmt.Sprintf("refused (%s): %s", e.Rule, e.Reason)
	}
	return fmt.Sprintf("refused (%s): %s; recorded as recovery %s", e.Rule, e.Reason, e.RecoveryID)
}

// FailedError is a manual operation that started changing servers and
// did not complete; its record, RecoveryID, has the steps.
type FailedError struct {
	RecoveryID string
	Err        error
}

func (e *FailedError) Error() string {
	return fmt.Sprintf("%v; see recovery %s", e.Err, e.RecoveryID)
}

func (e *FailedError) Unwrap() error { return e.Err }

// Refusal rules of manual operations, besides the candidate rules.
const (
	RuleMasterUnreachable = "master-unreachable"
	RuleNoReplicas        = "no-replicas"
)

// lockWait bounds how long a manual operation waits for the cluster lock.
const lockWait = 10 * time.Second

// clusterRef is a cluster as the analyzer names it and last saw it.
type clusterRef struct {
	name, alias string
	master      topology.InstanceKey
	replicas    []topology.InstanceKey
	// seenMaster and seenReplicas are the analyzer's latest view.
	seenMaster   *topologyv1.Instance
	seenReplicas []*topologyv1.Instance
}

// resolveCluster finds a cluster by name or alias, its master and the
// master's direct replicas, as the analyzers see them.
func (s *Service) resolveCluster(ctx context.Context, cluster string) (clusterRef, error) {
	var errs []error
	for i, c := range s.topology {
		m, err := c.GetMaster(ctx, &topologyv1.GetMasterRequest{Cluster: cluster})
		if status.Code(err) == codes.NotFound {
			return clusterRef{}, fmt.Errorf("cluster %q: %w", cluster, ErrUnknown)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.cfg.AnalyzerAddrs[i], err))
			continue
		}
		ref := clusterRef{name: m.GetMaster().GetCluster(), alias: m.GetMaster().GetClusterAlias(), seenMaster: m.GetMaster()}
		if ref.master, err = topology.KeyFromProto(m.GetMaster().GetKey()); err != nil {
			return clusterRef{}, err
		}
		reps, err := c.ListReplicas(ctx, &topologyv1.ListReplicasRequest{Instance: ref.master.Proto()})
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.cfg.AnalyzerAddrs[i], err))
			continue
		}
		for _, r := range reps.GetReplicas() {
			if k, err := topology.KeyFromProto(r.GetKey()); err == nil {
				ref.replicas = append(ref.replicas, k)
				ref.seenReplicas = append(ref.seenReplicas, r)
			}
		}
		return ref, nil
	}
	return clusterRef{}, fmt.Errorf("no analyzer answered: %w", errors.Join(errs...))
}

// clusterNow is a cluster probed now: the master first, then its replicas.
type clusterNow struct {
	clusterRef
	masterSnap   *topologyv1.Snapshot
	replicaSnaps []*topologyv1.Snapshot
	// reference is the master's snapshot when it answered, else its last
	// good one (nil when none is stored): what replicas are judged against.
	reference *topologyv1.Snapshot
}

// probeCluster probes a cluster's master and replicas now.
func (s *Service) probeCluster(ctx context.Context, ref clusterRef) (clusterNow, error) {
	snaps, err := s.probeNow(ctx, append([]topology.InstanceKey{ref.master}, ref.replicas...))
	if err != nil {
		return clusterNow{}, err
	}
	now := clusterNow{clusterRef: ref, masterSnap: snaps[0], replicaSnaps: snaps[1:], reference: snaps[0]}
	if !topology.IsGood(now.masterSnap) {
		now.reference = nil
		if inst, err := s.store.GetInstance(ctx, ref.master); err == nil {
			now.reference = inst.LastGood
		}
	}
	return now, nil
}

// candidateInput is the cluster's replicas as the candidate rules read
// them, judged against the master as it is now.
func (c clusterNow) candidateInput() candidate.Input {
	in := candidate.Input{Dead: c.reference}
	for i, k := range c.replicas {
		snap := c.replicaSnaps[i]
		in.Replicas = append(in.Replicas, candidate.Replica{
			Key: k, Snapshot: snap, Valid: topology.IsGood(snap),
			Errant: candidate.Errant(snap, c.reference), Rule: snap.GetClassification().GetPromotionRule(),
		})
	}
	return in
}

// classifications are the replicas' classifications as just probed.
func (c clusterNow) classifications() map[topology.InstanceKey]*topologyv1.Classification {
	out := make(map[topology.InstanceKey]*topologyv1.Classification)
	for i, k := range c.replicas {
		out[k] = c.replicaSnaps[i].GetClassification()
	}
	return out
}

// operation is a manual operation under way.
type operation struct {
	run     *failover.Run
	log     *slog.Logger
	release func()
}

// beginOperation takes the cluster lock, waiting at most lockWait, and
// starts the operation's record. Manual operations ignore the
// anti-flapping block, never the lock.
func (s *Service) beginOperation(ctx context.Context, ref clusterRef, op, by string, planned bool) (*operation, error) {
	lockStart := time.Now()
	lock, err := s.lockWithin(ctx, ref.name)
	if err != nil {
		return nil, err
	}
	log := s.log.With("cluster", ref.name, "operation", op, "requested_by", by)
	rec := s.newRecord(lock, lockStart, by, nil)
	rec.Analysis, rec.Cluster, rec.ClusterAlias, rec.FailedInstance, rec.Planned = op, ref.name, ref.alias, ref.master.Proto(), planned
	release := func() { s.unlock(ctx, lock, log) }
	return &operation{run: failover.NewRun(rec, lock, s.mysql, s.bounds(), s.store.SaveRecovery, log), log: log, release: release}, nil
}

// lockWithin takes a cluster's lock for a manual operation, waiting at
// most lockWait; ErrLocked when that was not long enough.
func (s *Service) lockWithin(ctx context.Context, cluster string) (coord.Lock, error) {
	lctx, cancel := context.WithTimeout(ctx, lockWait)
	defer cancel()
	lock, err := s.lockCluster(lctx, cluster)
	switch {
	case err != nil && ctx.Err() == nil && lctx.Err() != nil:
		return nil, fmt.Errorf("cluster %s: %w (waited %s)", cluster, ErrLocked, lockWait)
	case err != nil:
		return nil, fmt.Errorf("cluster %s: lock: %w", cluster, err)
	}
	return lock, nil
}

// unlock releases a cluster lock, even after ctx ended.
func (s *Service) unlock(ctx context.Context, lock coord.Lock, log *slog.Logger) {
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := lock.Unlock(uctx); err != nil {
		log.Warn("cluster lock not released; its lease will expire", "err", err)
	}
}

// refuse records a manual operation a rule refused and returns the error
// that says so.
func (s *Service) refuse(ctx context.Context, op *operation, rule, reason string) error {
	op.log.Info("operation refused", "rule", rule, "reason", reason)
	if err := op.run.Finish(ctx, recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SKIPPED, rule, reason); err != nil {
		op.log.Error("refused operation not recorded", "err", err)
	}
	return &RefusedError{Rule: rule, Reason: reason, RecoveryID: op.run.Record().GetId()}
}

// finishOperation closes the record of an operation that ran, and returns
// the record and the error, if any.
func (s *Service) finishOperation(ctx context.Context, op *operation, err error, success string) (*recoveryv1.Recovery, error) {
	outcome := recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SUCCEEDED
	reason := success
	switch {
	case errors.Is(err, failover.ErrFenced):
		outcome, reason = recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_ABORTED, err.Error()
	case err != nil:
		outcome, reason = recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_FAILED, err.Error()
	}
	if ferr := op.run.Finish(ctx, outcome, "", reason); ferr != nil {
		op.log.Error("operation result not recorded", "err", ferr)
	}
	rec := op.run.Record()
	op.log.Info("operation ended", "recovery_id", rec.GetId(), "outcome", outcome.String(), "reason", reason)
	if err != nil {
		return rec, &FailedError{RecoveryID: rec.GetId(), Err: err}
	}
	return rec, nil
}
