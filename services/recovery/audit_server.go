package recovery

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/vigil-db/vigil/pkg/grpcx"
	"github.com/vigil-db/vigil/pkg/store"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
)

func (h *server) ListRecoveries(ctx context.Context, req *recoveryv1.ListRecoveriesRequest) (*recoveryv1.ListRecoveriesResponse, error) {
	if req.GetPageSize() < 0 {
		return nil, grpcx.InvalidArgument("page_size", errors.New("is negative"))
	}
	list, next, err := h.svc.store.ListRecoveries(ctx, store.RecoveryFilter{
		Cluster: req.GetCluster(), PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken(),
	})
	if errors.Is(err, store.ErrInvalidArgument) {
		return nil, grpcx.InvalidArgument("page_token", err)
	}
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "list recoveries: %v", err)
	}
	return &recoveryv1.ListRecoveriesResponse{Recoveries: list, NextPageToken: next}, nil
}

func (h *server) GetRecovery(ctx context.Context, req *recoveryv1.GetRecoveryRequest) (*recoveryv1.GetRecoveryResponse, error) {
	if req.GetId() == "" {
		return nil, grpcx.InvalidArgument("id", errors.New("is empty"))
	}
	r, err := h.svc.store.GetRecovery(ctx, req.GetId())
	if errors.Is(err, store.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "recovery %q not found", req.GetId())
	}
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "get recovery: %v", err)
	}
	return &recoveryv1.GetRecoveryResponse{Recovery: r}, nil
}

func (h *server) ListBlockedRecoveries(ctx context.Context, _ *recoveryv1.ListBlockedRecoveriesRequest) (*recoveryv1.ListBlockedRecoveriesResponse, error) {
	blocking, err := h.svc.blockingRecoveries(ctx)
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "list recoveries: %v", err)
	}
	resp := &recoveryv1.ListBlockedRecoveriesResponse{}
	for _, r := range blocking {
		resp.Clusters = append(resp.Clusters, &recoveryv1.BlockedCluster{
			Cluster: r.GetCluster(), RecoveryId: r.GetId(),
			BlockedUntil: timestamppb.New(r.GetStartedAt().AsTime().Add(h.svc.cfg.BlockPeriod)),
		})
	}
	slices.SortFunc(resp.Clusters, func(a, b *recoveryv1.BlockedCluster) int { return strings.Compare(a.GetCluster(), b.GetCluster()) })
	return resp, nil
}

func (h *server) AcknowledgeRecoveries(ctx context.Context, req *recoveryv1.AcknowledgeRecoveriesRequest) (*recoveryv1.AcknowledgeRecoveriesResponse, error) {
	cluster := strings.TrimSpace(req.GetCluster())
	switch {
	case req.GetAll() && cluster != "":
		return nil, grpcx.InvalidArgument("cluster", errors.New("give a cluster or all, not both"))
	case !req.GetAll() && cluster == "":
		return nil, grpcx.InvalidArgument("cluster", errors.New("is empty; give a cluster, or all"))
	case strings.TrimSpace(req.GetComment()) == "":
		return nil, grpcx.InvalidArgument("comment", errors.New("is empty; say why the recoveries are acknowledged"))
	case len(req.GetComment()) > 1000:
		return nil, grpcx.InvalidArgument("comment", errors.New("longer than 1000 characters"))
	case len(req.GetRequestedBy()) > 200:
		return nil, grpcx.InvalidArgument("requested_by", errors.New("longer than 200 characters"))
	}
	who := cmpOr(strings.TrimSpace(req.GetRequestedBy()), "unknown")
	ack := store.Acknowledgement{By: who, Comment: req.GetComment(), At: time.Now().UTC()}
	n := 0
	if req.GetAll() {
		var err error
		if n, err = h.svc.store.AcknowledgeRecoveries(ctx, ack); err != nil {
			return nil, ackError(err)
		}
	} else {
		// A cluster is named after its master: acknowledge the
		// recoveries that started under this name and those whose
		// successor gave the cluster this name.
		ids, err := h.svc.unacknowledgedIn(ctx, cluster)
		if err != nil {
			return nil, status.Errorf(codes.Unavailable, "list recoveries: %v", err)
		}
		for _, id := range ids {
			ack.ID = id
			m, err := h.svc.store.AcknowledgeRecoveries(ctx, ack)
			if err != nil {
				return nil, ackError(err)
			}
			n += m
		}
	}
	h.svc.log.Info("recoveries acknowledged", "cluster", cluster, "all", req.GetAll(), "by", who, "count", n)
	h.svc.reconsider()
	return &recoveryv1.AcknowledgeRecoveriesResponse{Acknowledged: int32(n)}, nil
}

func ackError(err error) error {
	if errors.Is(err, store.ErrInvalidArgument) {
		return grpcx.InvalidArgument("comment", err)
	}
	return status.Errorf(codes.Unavailable, "acknowledge recoveries: %v", err)
}

func cmpOr(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// eachRecovery calls f on every recovery, newest first, until f returns false.
func (s *Service) eachRecovery(ctx context.Context, f func(r *recoveryv1.Recovery) bool) error {
	token := ""
	for {
		page, next, err := s.store.ListRecoveries(ctx, store.RecoveryFilter{PageSize: store.MaxPageSize, PageToken: token})
		if err != nil {
			return err
		}
		for _, r := range page {
			if !f(r) {
				return nil
			}
		}
		if next == "" {
			return nil
		}
		token = next
	}
}

// unacknowledgedIn returns the ids of the recoveries of a cluster not yet
// acknowledged.
func (s *Service) unacknowledgedIn(ctx context.Context, cluster string) ([]string, error) {
	var ids []string
	err := s.eachRecovery(ctx, func(r *recoveryv1.Recovery) bool {
		if r.GetAcknowledgedAt() == nil && sameCluster(r, cluster, cluster) {
			ids = append(ids, r.GetId())
		}
		return true
	})
	return ids, err
}

// blockingRecoveries returns, per cluster, the newest recovery that blocks
// automated recovery there.
func (s *Service) blockingRecoveries(ctx context.Context) ([]*recoveryv1.Recovery, error) {
	since := time.Now().Add(-s.cfg.BlockPeriod)
	seen := make(map[string]bool)
	var out []*recoveryv1.Recovery
	err := s.eachRecovery(ctx, func(r *recoveryv1.Recovery) bool {
		if r.GetStartedAt().AsTime().Before(since) {
			return false
		}
		if blocks(r) && !seen[r.GetCluster()] {
			seen[r.GetCluster()] = true
			out = append(out, r)
		}
		return true
	})
	return out, err
}
