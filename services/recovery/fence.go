package recovery

import (
	"context"
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
