package failover

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vigil-db/vigil/pkg/candidate"
	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// pollInterval is how often a wait re-reads a server.
const pollInterval = 10 * time.Millisecond

// DeadMaster is a master that died, and its direct replicas.
type DeadMaster struct {
	Key topology.InstanceKey
	// LastGood is its last good snapshot (data centre, GTID position), or nil.
	LastGood *topologyv1.Snapshot
	Replicas []topology.InstanceKey
	// Classifications are the replicas' data centre, environment and
	// promotion rule, as discovery last classified them; Vigil's own
	// probes during a recovery do not run the classification queries.
	Classifications map[topology.InstanceKey]*topologyv1.Classification
	// Designated, when not zero, is the replica an operator named for
	// promotion.
	Designated topology.InstanceKey
	// LeaveOldMaster leaves the old master as it is: a forced failover
	// away from a master that still answers.
	LeaveOldMaster bool
}

// Result is what a recovery changed.
type Result struct {
	// OldMasterFenced, when not nil, is closed once the attempt to make
	// the old master read-only has ended; it runs alongside the recovery,
	// and the caller waits for it before it is done.
	OldMasterFenced <-chan struct{}
	// Successor is the new master, or the new source of the moved replicas.
	Successor topology.InstanceKey
	// Lost are the replicas left detached, with why.
	Lost []candidate.Verdict
	// Choice is the candidate choice of a dead master recovery.
	Choice candidate.Choice
}

// Choose reads the replicas and chooses the candidate without changing
// anything: what a dry run records.
func (r *Run) Choose(ctx context.Context, dead DeadMaster) (candidate.Choice, error) {
	return candidate.ChooseFor(r.candidateInput(ctx, dead), dead.Designated)
}

// RecoverDeadMaster promotes the best replica of a dead master and points
// the others at it (ARCHITECTURE §6.1): fence the old master as far as it
// answers, stop every replica's IO thread so that a master that wakes up
// cannot feed them, let them apply their relay logs, choose, catch the
// preferred replica up from the data holder in a two-step promotion,
// promote, then repoint the others in parallel. Replicas that cannot follow
// are detached (replication stopped, source kept) and listed as lost.
func (r *Run) RecoverDeadMaster(ctx context.Context, dead DeadMaster) (Result, error) {
	r.Phase("fence")
	var res Result
	if !dead.LeaveOldMaster {
		res.OldMasterFenced = r.fenceOldMaster(ctx, dead.Key)
	}
	errs := parallel(dead.Replicas, func(k topology.InstanceKey) error {
		return r.Change(ctx, "stop-replication-io", k, func(ctx context.Context) error { return r.MySQL.StopReplicationIO(ctx, k) })
	})
	if err := fenced(errs); err != nil {
		return res, err
	}

	r.Phase("relay-logs")
	errs = parallel(dead.Replicas, func(k topology.InstanceKey) error {
		// A delayed replica applies its relay log on purpose late: it is
		// never a candidate, and waiting for it would only delay the rest.
		if ch := defaultChannel(r.MySQL.Probe(ctx, k)); ch.GetSqlDelay() > 0 {
			r.Note(ctx, "apply-relay-log", k, true, fmt.Sprintf("not waited for: delayed by %ds", ch.GetSqlDelay()))
			return nil
		}
		return r.change(ctx, "apply-relay-log", k, r.Bounds.RelayLog, func(ctx context.Context) error {
			return r.MySQL.WaitRelayLogApplied(ctx, k, pollInterval)
		})
	})
	if err := fenced(errs); err != nil {
		return res, err
	}

	r.Phase("choose")
	choice, err := r.Choose(ctx, dead)
	r.Note(ctx, "choose-candidate", choice.Promote, err == nil, describeChoice(choice, err))
	if err != nil {
		res.Choice = choice
		return res, err
	}
	res.Successor, res.Lost, res.Choice = choice.Promote, slices.Clone(choice.Lost), choice
	if choice.TwoStep() {
		r.Phase("catch-up")
		if err := r.catchUp(ctx, choice.Promote, choice.DataHolder); err != nil {
			if errors.Is(err, ErrFenced) {
				return res, err
			}
			// The preferred home could not catch up: promote the data
			// holder itself, which loses nothing.
			r.Note(ctx, "two-step-abandoned", choice.Promote, false, "promoting the data holder instead: "+err.Error())
			res.Successor = choice.DataHolder
		}
	}

	r.Phase("promote")
	if err := r.Change(ctx, "promote", res.Successor, func(ctx context.Context) error {
		return r.MySQL.Promote(ctx, res.Successor)
	}); err != nil {
		return res, fmt.Errorf("promote %s: %w", res.Successor, err)
	}
	if dead.LastGood.GetServer().GetSemiSync().GetSourceEnabled() {
		// The cluster acknowledged writes semi-synchronously: so does the
		// new master. A failure here loses no data; it is recorded.
		if err := r.Change(ctx, "enable-semi-sync-source", res.Successor, func(ctx context.Context) error {
			return r.MySQL.SetSemiSyncSource(ctx, res.Successor, true)
		}); errors.Is(err, ErrFenced) {
			return res, err
		}
	}

	r.Phase("repoint")
	lost := make(map[topology.InstanceKey]bool)
	for _, v := range res.Lost {
		lost[v.Key] = true
	}
	var others []topology.InstanceKey
	for _, k := range dead.Replicas {
		if k != res.Successor && !lost[k] {
			others = append(others, k)
		}
	}
	errs = parallel(others, func(k topology.InstanceKey) error {
		return r.Change(ctx, "repoint", k, func(ctx context.Context) error { return r.MySQL.ReplicateFrom(ctx, k, res.Successor) })
	})
	if err := fenced(errs); err != nil {
		return res, err
	}
	for _, k := range others {
		if errs[k] != nil {
			res.Lost = append(res.Lost, candidate.Verdict{Key: k, Rule: "repoint-failed", Reason: errs[k].Error()})
			lost[k] = true
		}
	}
	var detach []topology.InstanceKey
	for _, v := range res.Lost {
		detach = append(detach, v.Key)
	}
	errs = parallel(detach, func(k topology.InstanceKey) error {
		return r.Change(ctx, "detach-lost-replica", k, func(ctx context.Context) error { return r.MySQL.StopReplication(ctx, k) })
	})
	return res, fenced(errs)
}

// catchUp points home at holder and waits until it executed everything
// holder did, then stops its replication so it can be promoted.
func (r *Run) catchUp(ctx context.Context, home, holder topology.InstanceKey) error {
	if err := r.Change(ctx, "replicate-from-data-holder", home, func(ctx context.Context) error {
		return r.MySQL.ReplicateFrom(ctx, home, holder)
	}); err != nil {
		return err
	}
	err := r.change(ctx, "catch-up", home, r.Bounds.CatchUp, func(ctx context.Context) error {
		want := r.MySQL.Probe(ctx, holder)
		for {
			if candidate.CaughtUp(r.MySQL.Probe(ctx, home), want) {
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s has not executed everything %s has: %w", home, holder, ctx.Err())
			case <-time.After(pollInterval):
			}
		}
	})
	if err != nil {
		return err
	}
	return r.Change(ctx, "stop-replication", home, func(ctx context.Context) error { return r.MySQL.StopReplication(ctx, home) })
}

// candidateInput reads every replica for the candidate choice.
func (r *Run) candidateInput(ctx context.Context, dead DeadMaster) candidate.Input {
	in := candidate.Input{Dead: dead.LastGood}
	snaps := make([]*topologyv1.Snapshot, len(dead.Replicas))
	parallel(dead.Replicas, func(k topology.InstanceKey) error {
		snaps[slices.Index(dead.Replicas, k)] = r.MySQL.Probe(ctx, k)
		return nil
	})
	for i, k := range dead.Replicas {
		s := snaps[i]
		if c := dead.Classifications[k]; c != nil && s != nil {
			s.Classification = c
		}
		in.Replicas = append(in.Replicas, candidate.Replica{
			Key:      k,
			Snapshot: s,
			Valid:    topology.IsGood(s),
			Errant:   candidate.Errant(s, dead.LastGood),
			Rule:     dead.Classifications[k].GetPromotionRule(),
		})
	}
	return in
}

// fenceOldMaster tries to make the old master read-only while the recovery
// goes on, and returns a channel closed when the attempt has ended (within
// the step timeout). A dead master does not answer (the step fails, as
// expected), and a frozen one keeps the attempt waiting: neither may hold
// up the replicas. The service keeps watching a replaced master afterwards,
// to fence it when it wakes up.
func (r *Run) fenceOldMaster(ctx context.Context, key topology.InstanceKey) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = r.Change(ctx, "fence-old-master", key, func(ctx context.Context) error { return r.MySQL.SetReadOnly(ctx, key, true) })
	}()
	return done
}

// fenced returns the first error that says the lock was lost.
func fenced(errs map[topology.InstanceKey]error) error {
	for _, err := range errs {
		if errors.Is(err, ErrFenced) {
			return err
		}
	}
	return nil
}

// describeChoice is the audit text of a candidate choice.
func describeChoice(c candidate.Choice, err error) string {
	var b strings.Builder
	if err != nil {
		b.WriteString(err.Error())
	} else {
		fmt.Fprintf(&b, "promote %s", c.Promote)
		if c.TwoStep() {
			fmt.Fprintf(&b, " after it catches up from %s, which has the most data", c.DataHolder)
		}
	}
	return b.String() + c.SetAside()
}

// defaultChannel returns a snapshot's default replication channel, or nil.
func defaultChannel(s *topologyv1.Snapshot) *topologyv1.ReplicationChannel {
	for _, ch := range s.GetChannels() {
		if ch.GetName() == "" {
			return ch
		}
	}
	return nil
}
