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
)

// maxDowntime bounds one downtime.
const maxDowntime = 30 * 24 * time.Hour

func (h *server) BeginDowntime(ctx context.Context, req *recoveryv1.BeginDowntimeRequest) (*recoveryv1.BeginDowntimeResponse, error) {
	key, err := topology.KeyFromProto(req.GetInstance())
	if err != nil {
		return nil, grpcx.InvalidArgument("instance", err)
	}
	if req.GetDuration() == nil {
		return nil, grpcx.InvalidArgument("duration", errors.New("missing"))
	}
	if err := req.GetDuration().CheckValid(); err != nil {
		return nil, grpcx.InvalidArgument("duration", err)
	}
	d := req.GetDuration().AsDuration()
	if d <= 0 || d > maxDowntime {
		return nil, grpcx.InvalidArgument("duration", fmt.Errorf("%s is not above 0 and at most %s", d, maxDowntime))
	}
	owner := strings.TrimSpace(req.GetOwner())
	if owner == "" {
		owner = "unknown"
	}
	if len(owner) > store.MaxDowntimeOwner {
		return nil, grpcx.InvalidArgument("owner", fmt.Errorf("longer than %d characters", store.MaxDowntimeOwner))
	}
	if len(req.GetReason()) > store.MaxDowntimeReason {
		return nil, grpcx.InvalidArgument("reason", fmt.Errorf("longer than %d characters", store.MaxDowntimeReason))
	}
	// A downtime of an address Vigil has never seen would silence nothing
	// and hide the mistake, such as a mistyped port.
	switch _, err := h.svc.store.GetInstance(ctx, key); {
	case errors.Is(err, store.ErrNotFound):
		return nil, status.Errorf(codes.NotFound, "instance %s is not known; discover it first", key)
	case err != nil:
		return nil, status.Errorf(codes.Unavailable, "begin downtime: %v", err)
	}
	now := time.Now().UTC()
	dt := store.Downtime{Key: key, Owner: owner, Reason: req.GetReason(), StartedAt: now, EndsAt: now.Add(d)}
	if err := h.svc.store.BeginDowntime(ctx, dt); err != nil {
		if errors.Is(err, store.ErrInvalidArgument) {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
		return nil, status.Errorf(codes.Unavailable, "begin downtime: %v", err)
	}
	h.svc.log.Info("downtime begun", "instance", key.String(), "until", dt.EndsAt, "owner", owner)
	return &recoveryv1.BeginDowntimeResponse{Downtime: downtimeProto(dt)}, nil
}

func (h *server) EndDowntime(ctx context.Context, req *recoveryv1.EndDowntimeRequest) (*recoveryv1.EndDowntimeResponse, error) {
	key, err := topology.KeyFromProto(req.GetInstance())
	if err != nil {
		return nil, grpcx.InvalidArgument("instance", err)
	}
	switch err := h.svc.store.EndDowntime(ctx, key, time.Now().UTC()); {
	case errors.Is(err, store.ErrNotFound):
		return nil, status.Errorf(codes.NotFound, "instance %s is not downtimed", key)
	case err != nil:
		return nil, status.Errorf(codes.Unavailable, "end downtime: %v", err)
	}
	h.svc.log.Info("downtime ended", "instance", key.String())
	return &recoveryv1.EndDowntimeResponse{}, nil
}

func (h *server) ListDowntimes(ctx context.Context, _ *recoveryv1.ListDowntimesRequest) (*recoveryv1.ListDowntimesResponse, error) {
	ds, err := h.svc.store.ListDowntimes(ctx, time.Now().UTC())
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "list downtimes: %v", err)
	}
	resp := &recoveryv1.ListDowntimesResponse{}
	for _, d := range ds {
		resp.Downtimes = append(resp.Downtimes, downtimeProto(d))
	}
	return resp, nil
}

func downtimeProto(d store.Downtime) *recoveryv1.Downtime {
	return &recoveryv1.Downtime{
		Instance:  d.Key.Proto(),
		Owner:     d.Owner,
		Reason:    d.Reason,
		StartedAt: timestamppb.New(d.StartedAt),
		EndsAt:    timestamppb.New(d.EndsAt),
	}
}
