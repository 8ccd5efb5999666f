package recovery

import (
	"context"
	"errors"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/vigil-db/vigil/pkg/grpcx"
	"github.com/vigil-db/vigil/pkg/store"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
)

// server holds the RecoveryService handlers.
type server struct {
	recoveryv1.UnimplementedRecoveryServiceServer
	svc *Service
}

func (h *server) GetGlobalRecoveries(ctx context.Context, _ *recoveryv1.GetGlobalRecoveriesRequest) (*recoveryv1.GetGlobalRecoveriesResponse, error) {
	g, err := h.svc.store.GetGlobalRecoveries(ctx)
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "read global recoveries: %v", err)
	}
	return &recoveryv1.GetGlobalRecoveriesResponse{GlobalRecoveries: globalProto(g)}, nil
}

func (h *server) SetGlobalRecoveries(ctx context.Context, req *recoveryv1.SetGlobalRecoveriesRequest) (*recoveryv1.SetGlobalRecoveriesResponse, error) {
	who := strings.TrimSpace(req.GetRequestedBy())
	if len(who) > 200 {
		return nil, grpcx.InvalidArgument("requested_by", errors.New("longer than 200 characters"))
	}
	if who == "" {
		who = "unknown"
	}
	g := store.GlobalRecoveries{Enabled: req.GetEnabled(), UpdatedBy: who, UpdatedAt: time.Now().UTC()}
	if err := h.svc.store.SetGlobalRecoveries(ctx, g); err != nil {
		return nil, status.Errorf(codes.Unavailable, "write global recoveries: %v", err)
	}
	h.svc.log.Info("global recoveries set", "enabled", g.Enabled, "by", who)
	if g.Enabled {
		h.svc.reconsider()
	}
	return &recoveryv1.SetGlobalRecoveriesResponse{GlobalRecoveries: globalProto(g)}, nil
}

func globalProto(g store.GlobalRecoveries) *recoveryv1.GlobalRecoveries {
	out := &recoveryv1.GlobalRecoveries{Enabled: g.Enabled, UpdatedBy: g.UpdatedBy}
	if !g.UpdatedAt.IsZero() {
		out.UpdatedAt = timestamppb.New(g.UpdatedAt)
	}
	return out
}
