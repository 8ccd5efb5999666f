package recovery

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/vigil-db/vigil/pkg/grpcx"
	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/topology"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// Bounds of a candidate registration.
const (
	defaultCandidateFor = time.Hour
	maxCandidateFor     = 30 * 24 * time.Hour
)

func (h *server) RegisterCandidate(ctx context.Context, req *recoveryv1.RegisterCandidateRequest) (*recoveryv1.RegisterCandidateResponse, error) {
	key, err := topology.KeyFromProto(req.GetInstance())
	if err != nil {
		return nil, grpcx.InvalidArgument("instance", err)
	}
	rule := req.GetPromotionRule()
	if _, known := topologyv1.PromotionRule_name[int32(rule)]; !known || rule == topologyv1.PromotionRule_PROMOTION_RULE_UNSPECIFIED {
		return nil, grpcx.InvalidArgument("promotion_rule", fmt.Errorf("%d is not one of must, prefer, neutral, prefer_not, must_not", rule))
	}
	d := defaultCandidateFor
	if req.GetDuration() != nil {
		if err := req.GetDuration().CheckValid(); err != nil {
			return nil, grpcx.InvalidArgument("duration", err)
		}
		d = req.GetDuration().AsDuration()
	}
	if d <= 0 || d > maxCandidateFor {
		return nil, grpcx.InvalidArgument("duration", fmt.Errorf("%s is not above 0 and at most %s", d, maxCandidateFor))
	}
	by := strings.TrimSpace(req.GetRequestedBy())
	if len(by) > 200 {
		return nil, grpcx.InvalidArgument("requested_by", errors.New("longer than 200 characters"))
	}
	switch _, err := h.svc.store.GetInstance(ctx, key); {
	case errors.Is(err, store.ErrNotFound):
		return nil, status.Errorf(codes.NotFound, "instance %s is not known; discover it first", key)
	case err != nil:
		return nil, status.Errorf(codes.Unavailable, "register candidate: %v", err)
	}
	now := time.Now().UTC()
	c := store.Candidate{Key: key, Rule: rule, By: cmpOr(by, "unknown"), RegisteredAt: now, ExpiresAt: now.Add(d)}
	if err := h.svc.store.RegisterCandidate(ctx, c); err != nil {
		if errors.Is(err, store.ErrInvalidArgument) {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
		return nil, status.Errorf(codes.Unavailable, "register candidate: %v", err)
	}
	h.svc.log.Info("candidate registered", "instance", key.String(), "promotion_rule", rule.String(), "until", c.ExpiresAt, "by", c.By)
	return &recoveryv1.RegisterCandidateResponse{Registration: candidateProto(c)}, nil
}

func (h *server) ListCandidates(ctx context.Context, _ *recoveryv1.ListCandidatesRequest) (*recoveryv1.ListCandidatesResponse, error) {
	list, err := h.svc.store.ListCandidates(ctx, time.Now().UTC())
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "list candidates: %v", err)
	}
	resp := &recoveryv1.ListCandidatesResponse{}
	for _, c := range list {
		resp.Registrations = append(resp.Registrations, candidateProto(c))
	}
	return resp, nil
}

func candidateProto(c store.Candidate) *recoveryv1.CandidateRegistration {
	return &recoveryv1.CandidateRegistration{
		Instance: c.Key.Proto(), PromotionRule: c.Rule, RequestedBy: c.By,
		RegisteredAt: timestamppb.New(c.RegisteredAt), ExpiresAt: timestamppb.New(c.ExpiresAt),
	}
}
