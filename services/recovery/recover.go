package recovery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/vigil-db/vigil/pkg/coord"
	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/topology"
	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
	"github.com/vigil-db/vigil/services/recovery/failover"
	"github.com/vigil-db/vigil/services/recovery/hooks"
)

// Gates that stop a recovery, as recorded in Recovery.gate.
const (
	GateGlobalDisabled = "global-disabled"
	GateFiltered       = "filtered"
	GateDowntimed      = "downtimed"
	GateBlocked        = "blocked"
	GateRecheck        = "recheck"
	GateNoCandidate    = "no-candidate"
)

// automated is Recovery.started_by for recoveries Vigil starts itself.
const automated = "automated"

// handle runs, or declines with a reason, the recovery of one detection:
// lock the cluster, make sure no process handled it already, check the
// gates, re-check the failure on fresh probes, then recover.
func (s *Service) handle(ctx context.Context, d *analyzerv1.Detection) {
	if s.isDone(d.GetId()) {
		return
	}
	failed, err := topology.KeyFromProto(d.GetInstance())
	if err != nil {
		s.log.Error("detection without a valid instance", "detection_id", d.GetId(), "err", err)
		return
	}
	log := s.log.With("cluster", d.GetCluster(), "instance", failed.String(), "analysis", d.GetCode(), "detection_id", d.GetId())

	lockStart := time.Now()
	lock, err := s.lockCluster(ctx, d.GetCluster())
	if err != nil {
		log.Error("cluster lock not taken: recovery not attempted", "err", err)
		return
	}
	defer s.unlock(ctx, lock, log)

	prior, _, err := s.store.ListRecoveries(ctx, store.RecoveryFilter{DetectionID: d.GetId()})
	if err != nil {
		log.Error("recovery history unreadable: recovery not attempted", "err", err)
		return
	}
	lastSkip := ""
	for _, p := range prior {
		switch p.GetOutcome() {
		case recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SKIPPED:
			if lastSkip == "" {
				lastSkip = p.GetGate()
			}
			continue
		case recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_RUNNING:
			// Its process lost the lock we now hold before it finished.
			s.markInterrupted(ctx, p, lock.Token(), log)
			continue
		case recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_ABORTED:
			continue
		}
		s.markDone(d.GetId())
		return // already recovered, failed, or dry-run: once per detection
	}

	rec := s.newRecord(lock, lockStart, automated, d)
	run := failover.NewRun(rec, lock, s.mysql, s.bounds(), s.store.SaveRecovery, log)

	if len(prior) == 0 {
		_ = s.runHooks(ctx, run, hooks.OnFailureDetection)
	}
	if gate, reason := s.gate(ctx, d, failed); gate != "" {
		s.skip(ctx, run, lastSkip, gate, reason, log)
		return
	}
	run.Phase("recheck")
	target, gate, reason := s.recheck(ctx, d, failed)
	if gate != "" {
		s.skip(ctx, run, lastSkip, gate, reason, log)
		return
	}
	if s.cfg.DryRun {
		s.dryRun(ctx, run, target, log)
		s.markDone(d.GetId())
		return
	}
	// From here on the recovery is on record as running, so that if this
	// process dies the next lock holder finds it and says so.
	if err := run.Update(ctx, func(*recoveryv1.Recovery) {}); err != nil {
		log.Error("recovery not recorded: not attempted", "err", err)
		return
	}
	log.Info("recovery started", "recovery_id", rec.GetId(), "fencing_token", lock.Token())
	run.Phase("pre-failover-hooks")
	if err := s.runHooks(ctx, run, hooks.PreFailover); err != nil {
		if ctx.Err() != nil {
			// The process is stopping: the hook was cut short, it did
			// not veto. Whoever takes the lock next starts over.
			_ = run.Finish(ctx, recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_ABORTED, "", s.cfg.Name+" stopped before acting: "+err.Error())
			return
		}
		// A veto is final for this detection: the hook is not asked again
		// on every change of the evidence.
		s.skip(ctx, run, lastSkip, GateHookVeto, "vetoed by a pre-failover hook: "+err.Error(), log)
		s.markDone(d.GetId())
		return
	}
	s.recover(ctx, run, d, target, log)
}

// recover carries out a recovery whose gates and re-check passed.
func (s *Service) recover(ctx context.Context, run *failover.Run, d *analyzerv1.Detection, target target, log *slog.Logger) {
	var (
		res failover.Result
		err error
	)
	switch {
	case target.intermediate:
		home := s.newHomeFor(ctx, target)
		if !target.designated.IsZero() {
			home = newHome{Source: target.designated, Why: "named by " + run.Record().GetStartedBy()}
		}
		run.Note(ctx, "choose-new-source", home.Source, true, home.Why)
		res, err = run.RecoverDeadIntermediateMaster(ctx, failover.DeadIntermediateMaster{
			Key: target.key, Master: home.Source, Leader: home.Leader, Replicas: target.replicas})
	case !target.coMaster.IsZero():
		res, err = run.RecoverDeadCoMaster(ctx, failover.DeadCoMaster{Key: target.key, CoMaster: target.coMaster, Replicas: target.replicas})
	default:
		res, err = run.RecoverDeadMaster(ctx, failover.DeadMaster{Key: target.key, LastGood: target.lastGood, Replicas: target.replicas,
			Classifications: target.classifications, Designated: target.designated})
	}
	_ = run.Update(ctx, func(r *recoveryv1.Recovery) {
		if !res.Successor.IsZero() {
			r.Successor = res.Successor.Proto()
		}
		r.LostReplicas = nil
		for _, v := range res.Lost {
			r.LostReplicas = append(r.LostReplicas, &recoveryv1.LostReplica{Instance: v.Key.Proto(), Reason: v.Rule + ": " + v.Reason})
		}
	})
	if err == nil && !target.intermediate {
		run.Phase("publish")
		err = s.publishMaster(ctx, run, d.GetCluster(), res.Successor)
	}
	if err == nil {
		s.refresh(ctx, run, res.Successor, target.replicas)
	}
	if res.OldMasterFenced != nil {
		// A frozen old master holds the attempt up to the step timeout;
		// the new master is already writable and published by now.
		run.Phase("old-master-fence")
		<-res.OldMasterFenced
	}
	switch {
	case errors.Is(err, failover.ErrFenced):
		log.Error("recovery aborted: cluster lock lost", "err", err)
		_ = run.Finish(ctx, recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_ABORTED, "", err.Error())
		_ = s.runHooks(ctx, run, hooks.PostUnsuccessfulFailover)
		return
	case err != nil:
		s.markDone(d.GetId())
		log.Error("recovery failed", "err", err)
		_ = run.Finish(ctx, recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_FAILED, "", err.Error())
		_ = s.runHooks(ctx, run, hooks.PostUnsuccessfulFailover)
		return
	}
	s.markDone(d.GetId())
	rec := run.Record()
	s.downtime(ctx, run, target.key, "replaced by "+res.Successor.String()+" in recovery "+rec.GetId())
	for _, v := range res.Lost {
		s.downtime(ctx, run, v.Key, "lost in recovery "+rec.GetId()+": "+v.Reason)
	}
	reason := fmt.Sprintf("%s replaced by %s; %d replica(s) lost", target.key, res.Successor, len(res.Lost))
	if err := run.Finish(ctx, recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SUCCEEDED, "", reason); err != nil {
		log.Error("recovery result not recorded", "err", err)
	}
	log.Info("recovery succeeded", "recovery_id", rec.GetId(), "successor", res.Successor.String(), "lost", len(res.Lost))
	if !target.intermediate {
		s.fenceWhenItWakes(target.key, rec.GetId())
		_ = s.runHooks(ctx, run, hooks.PostMasterFailover)
	} else {
		_ = s.runHooks(ctx, run, hooks.PostIntermediateMasterFailover)
	}
	_ = s.runHooks(ctx, run, hooks.PostFailover)
}

// dryRun records the candidate a recovery would have chosen.
func (s *Service) dryRun(ctx context.Context, run *failover.Run, target target, log *slog.Logger) {
	run.Phase("choose")
	if target.intermediate || !target.coMaster.IsZero() {
		_ = run.Update(ctx, func(r *recoveryv1.Recovery) { r.Successor = target.master.Proto() })
		_ = run.Finish(ctx, recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_DRY_RUN, "", "dry run: would move the replicas under "+target.master.String())
		return
	}
	choice, err := run.Choose(ctx, failover.DeadMaster{Key: target.key, LastGood: target.lastGood, Replicas: target.replicas, Classifications: target.classifications})
	if err != nil {
		_ = run.Finish(ctx, recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_DRY_RUN, GateNoCandidate, "dry run: "+err.Error())
		return
	}
	_ = run.Update(ctx, func(r *recoveryv1.Recovery) {
		r.Successor = choice.Promote.Proto()
		for _, v := range choice.Lost {
			r.LostReplicas = append(r.LostReplicas, &recoveryv1.LostReplica{Instance: v.Key.Proto(), Reason: v.Rule + ": " + v.Reason})
		}
	})
	_ = run.Finish(ctx, recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_DRY_RUN, "", "dry run: would promote "+choice.Promote.String())
	log.Info("dry run: recovery not carried out", "would_promote", choice.Promote.String())
}

// skip records a recovery a gate stopped, unless the same gate already
// stopped this detection's last attempt and nothing (a hook) ran this time.
func (s *Service) skip(ctx context.Context, run *failover.Run, lastSkip, gate, reason string, log *slog.Logger) {
	if gate == lastSkip && len(run.Record().GetSteps()) == 0 {
		return
	}
	log.Info("recovery skipped", "gate", gate, "reason", reason)
	if err := run.Finish(ctx, recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SKIPPED, gate, reason); err != nil {
		log.Error("skipped recovery not recorded", "err", err)
	}
}

// markInterrupted closes the record of a recovery whose process lost the
// cluster lock before it finished.
func (s *Service) markInterrupted(ctx context.Context, p *recoveryv1.Recovery, token int64, log *slog.Logger) {
	full, err := s.store.GetRecovery(ctx, p.GetId())
	if err != nil {
		log.Warn("interrupted recovery unreadable", "recovery_id", p.GetId(), "err", err)
		return
	}
	full.Outcome = recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_ABORTED
	full.Reason = fmt.Sprintf("process %s lost the cluster lock before it finished; %s took it over with fencing token %d", full.GetProcess(), s.cfg.Name, token)
	full.EndedAt = timestamppb.Now()
	if err := s.store.SaveRecovery(ctx, full); err != nil {
		log.Warn("interrupted recovery not closed", "recovery_id", p.GetId(), "err", err)
	}
}

// masterRecord is the value published under masters/<cluster>.
type masterRecord struct {
	Host         string    `json:"host"`
	Port         uint16    `json:"port"`
	RecoveryID   string    `json:"recovery_id"`
	FencingToken int64     `json:"fencing_token"`
	At           time.Time `json:"at"`
}

// MasterKey is the coordinator key under which the current master of a
// cluster is published.
func MasterKey(cluster string) string { return "masters/" + cluster }

// publishMaster writes the new master under the cluster lock.
func (s *Service) publishMaster(ctx context.Context, run *failover.Run, cluster string, master topology.InstanceKey) error {
	rec := run.Record()
	value, err := json.Marshal(masterRecord{Host: master.Host, Port: master.Port, RecoveryID: rec.GetId(), FencingToken: rec.GetFencingToken(), At: time.Now().UTC()})
	if err != nil {
		return err
	}
	err = run.Lock.Put(ctx, MasterKey(cluster), value)
	run.Note(ctx, "publish-master", master, err == nil, errText(err, "key "+MasterKey(cluster)))
	if errors.Is(err, coord.ErrLockLost) {
		return fmt.Errorf("publish %s: %w", master, failover.ErrFenced)
	}
	return err
}

// downtime puts an instance in downtime for the block period, so that it is
// not recovered again while operators look at it.
func (s *Service) downtime(ctx context.Context, run *failover.Run, key topology.InstanceKey, reason string) {
	now := time.Now().UTC()
	d := store.Downtime{Key: key, Owner: s.cfg.Name, Reason: reason, StartedAt: now, EndsAt: now.Add(max(s.cfg.BlockPeriod, time.Minute))}
	err := s.store.BeginDowntime(ctx, d)
	run.Note(ctx, "downtime", key, err == nil, errText(err, reason))
}

// refresh has discovery probe the new topology at once, so that the
// analyzer judges the next failure on the tree as it now is, not as it was
// before the recovery.
func (s *Service) refresh(ctx context.Context, run *failover.Run, successor topology.InstanceKey, replicas []topology.InstanceKey) {
	keys := append([]topology.InstanceKey{successor}, replicas...)
	_, err := s.probeNow(ctx, keys)
	run.Note(ctx, "refresh-topology", successor, err == nil, errText(err, fmt.Sprintf("%d instances probed again", len(keys))))
}

func (s *Service) bounds() failover.Bounds {
	return failover.Bounds{Step: s.cfg.StepTimeout, RelayLog: s.cfg.RelayLogTimeout, CatchUp: s.cfg.CatchUpTimeout}
}

// lockCluster takes the cluster's lock through the current session,
// starting a new session when there is none or the last one was lost.
func (s *Service) lockCluster(ctx context.Context, cluster string) (coord.Lock, error) {
	s.sessionMu.Lock()
	sess := s.session
	if sess != nil {
		select {
		case <-sess.Done():
			sess = nil
		default:
		}
	}
	if sess == nil {
		var err error
		sess, err = s.coord.NewSession(ctx, s.cfg.LockTTL)
		if err != nil {
			s.sessionMu.Unlock()
			return nil, fmt.Errorf("new coordination session: %w", err)
		}
		s.session = sess
	}
	s.sessionMu.Unlock()
	return sess.Lock(ctx, "clusters/"+cluster)
}

// newRecord starts the record of a recovery or operation that took lock,
// having asked for it at lockStart, for the detection d (nil for a planned
// or forced operation).
func (s *Service) newRecord(lock coord.Lock, lockStart time.Time, by string, d *analyzerv1.Detection) *recoveryv1.Recovery {
	now := time.Now()
	return &recoveryv1.Recovery{
		Id: newID(), DetectionId: d.GetId(), Analysis: d.GetCode(),
		Cluster: d.GetCluster(), ClusterAlias: d.GetClusterAlias(), FailedInstance: d.GetInstance(),
		FencingToken: lock.Token(), StartedBy: by, Process: s.cfg.Name,
		Outcome:   recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_RUNNING,
		StartedAt: timestamppb.New(now),
		Phases:    []*recoveryv1.RecoveryPhase{{Name: "lock", Took: durationpb.New(now.Sub(lockStart))}},
	}
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return time.Now().UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b)
}

// errText is err's text, or ok when err is nil.
func errText(err error, ok string) string {
	if err != nil {
		return err.Error()
	}
	return ok
}
