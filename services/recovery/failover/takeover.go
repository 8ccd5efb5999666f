package failover

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-db/vigil/pkg/mysql"
	"github.com/vigil-db/vigil/pkg/topology"
)

// Takeover is a planned change of master (ARCHITECTURE §6.3): the master
// is alive and hands over to one of its replicas without losing anything.
type Takeover struct {
	Master topology.InstanceKey
	// Successor is the replica that takes over; it replicates from Master.
	Successor topology.InstanceKey
	// Replicas are the master's other direct replicas, moved under the
	// successor.
	Replicas []topology.InstanceKey
	// SemiSync is whether the master acknowledges writes semi-synchronously.
	SemiSync bool
	// Replication is the user the former master replicates with; nil
	// leaves the former master without replication.
	Replication *mysql.Credentials
}

// TakeoverResult is what a takeover changed.
type TakeoverResult struct {
	// WriteUnavailable is how long the cluster refused writes: from the
	// master made read-only to the successor made writable.
	WriteUnavailable time.Duration
	// Lost are the replicas that could not be moved under the successor.
	Lost []topology.InstanceKey
}

// MasterTakeover hands mastership over from a live master: make it
// read-only, read what it executed, wait until the successor executed it
// too, promote the successor, move the other replicas under it, and make
// the former master replicate from it. If the successor cannot catch up or
// be promoted in time, the master is made writable again and nothing else
// has changed.
func (r *Run) MasterTakeover(ctx context.Context, t Takeover) (TakeoverResult, error) {
	var res TakeoverResult
	r.Phase("read-only")
	start := time.Now()
	if err := r.Change(ctx, "set-read-only", t.Master, func(ctx context.Context) error { return r.MySQL.SetReadOnly(ctx, t.Master, true) }); err != nil {
		return res, fmt.Errorf("make %s read-only: %w", t.Master, err)
	}
	var gtids string
	err := r.Change(ctx, "read-master-position", t.Master, func(ctx context.Context) error {
		var err error
		gtids, err = r.MySQL.ExecutedGTIDs(ctx, t.Master)
		return err
	})
	if err == nil {
		r.Phase("catch-up")
		err = r.change(ctx, "wait-executed", t.Successor, r.Bounds.CatchUp, func(ctx context.Context) error {
			return r.MySQL.WaitExecuted(ctx, t.Successor, gtids)
		})
	}
	if err != nil {
		return res, r.undoReadOnly(ctx, t, false, err)
	}
	r.Phase("promote")
	if err := r.Change(ctx, "promote", t.Successor, func(ctx context.Context) error { return r.MySQL.Promote(ctx, t.Successor) }); err != nil {
		return res, r.undoReadOnly(ctx, t, true, err)
	}
	res.WriteUnavailable = time.Since(start)
	r.Note(ctx, "write-unavailable", t.Successor, true, fmt.Sprintf("writes refused for %s", res.WriteUnavailable.Round(time.Millisecond)))
	if t.SemiSync {
		if err := r.Change(ctx, "enable-semi-sync-source", t.Successor, func(ctx context.Context) error {
			return r.MySQL.SetSemiSyncSource(ctx, t.Successor, true)
		}); errors.Is(err, ErrFenced) {
			return res, err
		}
	}

	r.Phase("repoint")
	errs := parallel(t.Replicas, func(k topology.InstanceKey) error {
		return r.Change(ctx, "repoint", k, func(ctx context.Context) error { return r.MySQL.ReplicateFrom(ctx, k, t.Successor) })
	})
	if err := fenced(errs); err != nil {
		return res, err
	}
	for _, k := range t.Replicas {
		if errs[k] != nil {
			res.Lost = append(res.Lost, k)
		}
	}
	if t.Replication == nil {
		r.Note(ctx, "former-master-replicates", t.Master, false, "not done: no replication user is configured ("+mysql.EnvReplicationUser+")")
		return res, nil
	}
	err = r.Change(ctx, "former-master-replicates", t.Master, func(ctx context.Context) error {
		return r.MySQL.ReplicateFromAsFormerMaster(ctx, t.Master, t.Successor, *t.Replication)
	})
	if errors.Is(err, ErrFenced) {
		return res, err
	}
	return res, nil
}

// undoReadOnly makes the master writable again after a takeover that
// could not complete, and returns the error that stopped it. A successor
// whose promotion was cut short is pointed back at the master.
func (r *Run) undoReadOnly(ctx context.Context, t Takeover, promoting bool, cause error) error {
	if errors.Is(cause, ErrFenced) {
		return cause
	}
	if promoting {
		_ = r.Change(ctx, "replicate-from-master-again", t.Successor, func(ctx context.Context) error {
			if t.Replication != nil {
				// The promotion may have forgotten the replication user.
				return r.MySQL.ReplicateFromAsFormerMaster(ctx, t.Successor, t.Master, *t.Replication)
			}
			return r.MySQL.ReplicateFrom(ctx, t.Successor, t.Master)
		})
	}
	if err := r.Change(ctx, "undo-read-only", t.Master, func(ctx context.Context) error { return r.MySQL.SetReadOnly(ctx, t.Master, false) }); err != nil {
		return fmt.Errorf("%w; and %s could not be made writable again: %w", cause, t.Master, err)
	}
	return fmt.Errorf("%w; %s is writable again", cause, t.Master)
}
