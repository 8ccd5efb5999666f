package recovery

import (
	"cmp"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"time"

	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
)

// follow keeps a failure event stream from one analyzer open, reconnecting
// with backoff, and hands every detection to observe. On each (re)connect
// the analyzer sends every active detection again: observe ignores what was
// already handled.
func (s *Service) follow(ctx context.Context, addr string, client analyzerv1.AnalyzerServiceClient) {
	backoff := s.cfg.ReconnectMin
	everSynced := false
	for ctx.Err() == nil {
		synced, err := s.followOnce(ctx, client)
		if ctx.Err() != nil {
			return
		}
		if synced {
			backoff, everSynced = s.cfg.ReconnectMin, true
		}
		if everSynced {
			s.log.Warn("failure event stream broken, reconnecting", "analyzer", addr, "err", err, "backoff", backoff)
		} else {
			// An analyzer that is starting answers Unavailable until it
			// has synced with discovery: nothing is wrong yet.
			s.log.Info("waiting for the analyzer's failure event stream", "analyzer", addr, "err", err, "backoff", backoff)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, s.cfg.ReconnectMax)
	}
}

// followOnce reads one stream until it breaks; synced says whether it got
// past the initial state.
func (s *Service) followOnce(ctx context.Context, client analyzerv1.AnalyzerServiceClient) (synced bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := client.StreamFailureEvents(ctx, &analyzerv1.StreamFailureEventsRequest{Subscriber: s.cfg.Name})
	if err != nil {
		return false, err
	}
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return synced, errors.New("analyzer ended the stream")
		}
		if err != nil {
			return synced, err
		}
		if msg.GetSynced() != nil {
			synced = true
			continue
		}
		if d := msg.GetDetection(); d != nil {
			s.observe(d)
		}
	}
}

// recoverable reports whether a detection calls for a recovery this
// service carries out.
func recoverable(d *analyzerv1.Detection) bool {
	switch d.GetSuggestedAction() {
	case analyzerv1.Action_ACTION_RECOVER_MASTER, analyzerv1.Action_ACTION_RECOVER_INTERMEDIATE_MASTER,
		analyzerv1.Action_ACTION_RECOVER_CO_MASTER:
		return true
	}
	return false
}

// observe records an active recoverable detection, or forgets a cleared
// one, and schedules its cluster.
func (s *Service) observe(d *analyzerv1.Detection) {
	if !recoverable(d) {
		return
	}
	s.mu.Lock()
	if d.GetState() == analyzerv1.DetectionState_DETECTION_STATE_CLEARED {
		delete(s.active, d.GetId())
		delete(s.done, d.GetId())
		s.mu.Unlock()
		return
	}
	s.active[d.GetId()] = d
	s.mu.Unlock()
	s.schedule(d.GetCluster())
}

// schedule handles the active detections of cluster in a goroutine of its
// own, one at a time per cluster: a request while one runs makes it run
// again when it is done.
func (s *Service) schedule(cluster string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return
	}
	if s.running[cluster] {
		s.again[cluster] = true
		return
	}
	s.running[cluster] = true
	s.wg.Go(func() {
		for {
			for _, d := range s.activeIn(cluster) {
				s.handle(s.runCtx, d)
			}
			s.mu.Lock()
			if !s.again[cluster] || s.runCtx.Err() != nil {
				delete(s.running, cluster)
				delete(s.again, cluster)
				s.mu.Unlock()
				return
			}
			s.again[cluster] = false
			s.mu.Unlock()
		}
	})
}

// sortByDetectedAt orders detections oldest first, then by id.
func sortByDetectedAt(ds []*analyzerv1.Detection) {
	slices.SortFunc(ds, func(a, b *analyzerv1.Detection) int {
		return cmp.Or(a.GetDetectedAt().AsTime().Compare(b.GetDetectedAt().AsTime()), strings.Compare(a.GetId(), b.GetId()))
	})
}
