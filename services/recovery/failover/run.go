// Package failover carries out recoveries on MySQL servers: a dead master
// (ARCHITECTURE §6.1) and a dead intermediate master (§6.2). Every step that
// changes a server first checks that the cluster lock is still held, and
// every step, taken or failed, is written to the recovery's audit record as
// it happens.
package failover

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/vigil-db/vigil/pkg/coord"
	"github.com/vigil-db/vigil/pkg/mysql"
	"github.com/vigil-db/vigil/pkg/topology"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// MySQL is what a recovery reads from and does to servers.
type MySQL interface {
	Probe(ctx context.Context, key topology.InstanceKey) *topologyv1.Snapshot
	SetReadOnly(ctx context.Context, key topology.InstanceKey, readOnly bool) error
	StopReplicationIO(ctx context.Context, key topology.InstanceKey) error
	StopReplication(ctx context.Context, key topology.InstanceKey) error
	WaitRelayLogApplied(ctx context.Context, key topology.InstanceKey, interval time.Duration) error
	Promote(ctx context.Context, key topology.InstanceKey) error
	ReplicateFrom(ctx context.Context, replica, source topology.InstanceKey) error
	SetSemiSyncSource(ctx context.Context, key topology.InstanceKey, on bool) error
	ExecutedGTIDs(ctx context.Context, key topology.InstanceKey) (string, error)
	WaitExecuted(ctx context.Context, key topology.InstanceKey, gtids string) error
	ReplicateFromAsFormerMaster(ctx context.Context, former, successor topology.InstanceKey, repl mysql.Credentials) error
}

// Bounds are the time limits of a recovery's steps.
type Bounds struct {
	// Step bounds one statement on one server.
	Step time.Duration
	// RelayLog bounds the wait for replicas to apply their relay logs.
	RelayLog time.Duration
	// CatchUp bounds a two-step promotion's wait for the preferred replica.
	CatchUp time.Duration
}

// ErrFenced is wrapped by the error of a recovery that stopped because its
// cluster lock was lost.
var ErrFenced = errors.New("cluster lock lost: no further change made")

// Run is one recovery under way: the lock that fences it, access to the
// servers, and its audit record.
type Run struct {
	Lock   coord.Lock
	MySQL  MySQL
	Bounds Bounds
	// Save persists the audit record; Run calls it after every step, one
	// call at a time.
	Save func(ctx context.Context, r *recoveryv1.Recovery) error
	Log  *slog.Logger

	mu         sync.Mutex
	rec        *recoveryv1.Recovery
	phase      string
	phaseStart time.Time
}

// NewRun starts the audit of rec, which the run owns from now on.
func NewRun(rec *recoveryv1.Recovery, lock coord.Lock, mysql MySQL, bounds Bounds, save func(context.Context, *recoveryv1.Recovery) error, log *slog.Logger) *Run {
	return &Run{Lock: lock, MySQL: mysql, Bounds: bounds, Save: save, Log: log, rec: rec}
}

// Record returns a copy of the audit record as it stands.
func (r *Run) Record() *recoveryv1.Recovery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return proto.CloneOf(r.rec)
}

// Update changes the audit record under the run's lock and saves it.
func (r *Run) Update(ctx context.Context, f func(rec *recoveryv1.Recovery)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(r.rec)
	return r.saveLocked(ctx)
}

// Phase ends the current phase, timing it, and starts the named one.
func (r *Run) Phase(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.endPhaseLocked()
	r.phase, r.phaseStart = name, time.Now()
}

func (r *Run) endPhaseLocked() {
	if r.phase != "" {
		r.rec.Phases = append(r.rec.Phases, &recoveryv1.RecoveryPhase{Name: r.phase, Took: durationpb.New(time.Since(r.phaseStart))})
		r.phase = ""
	}
}

// Finish ends the last phase, sets the outcome and saves the record.
func (r *Run) Finish(ctx context.Context, outcome recoveryv1.RecoveryOutcome, gate, reason string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.endPhaseLocked()
	r.rec.Outcome, r.rec.Gate, r.rec.Reason = outcome, gate, reason
	r.rec.EndedAt = timestamppb.Now()
	return r.saveLocked(ctx)
}

// Note records a step that changes no server.
func (r *Run) Note(ctx context.Context, name string, key topology.InstanceKey, ok bool, message string) {
	r.record(ctx, &recoveryv1.RecoveryStep{Name: name, Instance: keyProto(key), Ok: ok, Message: message, At: timestamppb.Now()})
}

// NoteOutput records a step that changes no server and produced output,
// such as a hook.
func (r *Run) NoteOutput(ctx context.Context, name string, ok bool, message, output string, start time.Time) {
	r.record(ctx, &recoveryv1.RecoveryStep{Name: name, Ok: ok, Message: message, Output: output,
		At: timestamppb.New(start), Took: durationpb.New(time.Since(start))})
}

// Change runs one step that changes a server, bounded by the step timeout:
// it first checks that the lock is still held and, if not, records that and
// returns an error wrapping ErrFenced without touching the server.
func (r *Run) Change(ctx context.Context, name string, key topology.InstanceKey, change func(ctx context.Context) error) error {
	return r.change(ctx, name, key, r.Bounds.Step, change)
}

func (r *Run) change(ctx context.Context, name string, key topology.InstanceKey, bound time.Duration, change func(ctx context.Context) error) error {
	if err := r.Lock.Check(ctx); err != nil {
		r.Note(ctx, name, key, false, "not done: the cluster lock is lost ("+err.Error()+")")
		return fmt.Errorf("%s on %s: %w", name, key, ErrFenced)
	}
	start := time.Now()
	sctx, cancel := context.WithTimeout(ctx, bound)
	err := change(sctx)
	cancel()
	step := &recoveryv1.RecoveryStep{Name: name, Instance: keyProto(key), Ok: err == nil,
		At: timestamppb.New(start), Took: durationpb.New(time.Since(start))}
	if err != nil {
		step.Message = err.Error()
	}
	r.record(ctx, step)
	return err
}

func (r *Run) record(ctx context.Context, step *recoveryv1.RecoveryStep) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rec.Steps = append(r.rec.Steps, step)
	if err := r.saveLocked(ctx); err != nil {
		r.Log.Warn("recovery step not saved", "recovery_id", r.rec.GetId(), "step", step.GetName(), "err", err)
	}
	r.Log.Info("recovery step", "recovery_id", r.rec.GetId(), "step", step.GetName(),
		"instance", topologyKeyText(step.GetInstance()), "ok", step.GetOk(), "message", step.GetMessage())
}

func (r *Run) saveLocked(ctx context.Context) error {
	// The record is saved even when the caller's context ends: the audit
	// of what was done must not be lost with it.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return r.Save(sctx, r.rec)
}

// parallel runs f for every key at once and waits for all of them.
func parallel(keys []topology.InstanceKey, f func(key topology.InstanceKey) error) map[topology.InstanceKey]error {
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs = make(map[topology.InstanceKey]error)
	)
	for _, k := range keys {
		wg.Go(func() {
			err := f(k)
			mu.Lock()
			errs[k] = err
			mu.Unlock()
		})
	}
	wg.Wait()
	return errs
}

func keyProto(k topology.InstanceKey) *topologyv1.InstanceKey {
	if k.IsZero() {
		return nil
	}
	return k.Proto()
}

func topologyKeyText(k *topologyv1.InstanceKey) string {
	if k == nil {
		return ""
	}
	return fmt.Sprintf("%s:%d", k.GetHost(), k.GetPort())
}
