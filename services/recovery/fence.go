package recovery

import (
	"context"
	"slices"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/vigil-db/vigil/pkg/topology"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
)

// fenceRetry is the pause between attempts to reach a replaced master
// that refuses connections. A frozen master accepts the TCP connection and
// keeps the attempt waiting, so it is fenced the moment it resumes.
const fenceRetry = 50 * time.Millisecond

// fenceWhenItWakes keeps trying to make a replaced master read-only for
// FenceFor, so that a master that was frozen rather than dead takes no
// writes once it resumes. The attempt is already waiting on the server when
// it wakes up: the writable window is the time it takes to answer it.
func (s *Service) fenceWhenItWakes(key topology.InstanceKey, recoveryID string) {
	ctx, cancel := context.WithTimeout(s.runCtx, s.cfg.FenceFor)
	s.wg.Go(func() {
		defer cancel()
		for ctx.Err() == nil {
			start := time.Now()
			err := s.mysql.SetReadOnly(ctx, key, true)
			if err == nil {
				s.log.Warn("replaced master answered again and was made read-only", "instance", key.String(), "recovery_id", recoveryID)
				s.noteFenced(ctx, recoveryID, key, start)
				return
			}
			select {
			case <-ctx.Done():
			case <-time.After(fenceRetry):
			}
		}
	})
}

// noteFenced adds the fencing of a woken master to its recovery's audit.
func (s *Service) noteFenced(ctx context.Context, recoveryID string, key topology.InstanceKey, attempt time.Time) {
	ctx = context.WithoutCancel(ctx)
	r, err := s.store.GetRecovery(ctx, recoveryID)
	if err != nil {
		s.log.Warn("fencing not recorded", "recovery_id", recoveryID, "err", err)
		return
	}
	r.Steps = append(r.Steps, &recoveryv1.RecoveryStep{
		Name: "fence-woken-master", Instance: key.Proto(), Ok: true,
		Message: "the replaced master answered again; read_only set",
		At:      timestamppb.New(attempt), Took: durationpb.New(time.Since(attempt)),
	})
	if err := s.store.SaveRecovery(ctx, r); err != nil {
		s.log.Warn("fencing not recorded", "recovery_id", recoveryID, "err", err)
	}
}

// resumeFencing starts again, after a restart, the watches of the masters
// replaced within FenceFor that have not answered since.
func (s *Service) resumeFencing(ctx context.Context) {
	since := time.Now().Add(-s.cfg.FenceFor)
	var ids []string
	err := s.eachRecovery(ctx, func(r *recoveryv1.Recovery) bool {
		if r.GetStartedAt().AsTime().Before(since) {
			return false
		}
		if r.GetOutcome() == recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SUCCEEDED {
			ids = append(ids, r.GetId())
		}
		return true
	})
	if err != nil {
		s.log.Warn("replaced masters not watched again after the restart", "err", err)
		return
	}
	for _, id := range ids {
		r, err := s.store.GetRecovery(ctx, id)
		if err != nil {
			s.log.Warn("replaced master not watched again after the restart", "recovery_id", id, "err", err)
			continue
		}
		// A recovery that published a new master replaced one.
		replaced := hasStep(r, "publish-master")
		fenced := hasStep(r, "fence-woken-master")
		key, err := topology.KeyFromProto(r.GetFailedInstance())
		if !replaced || fenced || err != nil {
			continue
		}
		s.log.Info("watching a replaced master again", "instance", key.String(), "recovery_id", id)
		s.fenceWhenItWakes(key, id)
	}
}

// hasStep reports whether a recovery took a step of that name successfully.
func hasStep(r *recoveryv1.Recovery, name string) bool {
	return slices.ContainsFunc(r.GetSteps(), func(st *recoveryv1.RecoveryStep) bool { return st.GetName() == name && st.GetOk() })
}
