package recovery

import (
	"context"
	"errors"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vigil-db/vigil/pkg/grpcx"
	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/topology"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

func (h *server) GracefulMasterTakeover(ctx context.Context, req *recoveryv1.GracefulMasterTakeoverRequest) (*recoveryv1.GracefulMasterTakeoverResponse, error) {
	cluster, by, err := clusterAndCaller(req.GetCluster(), req.GetRequestedBy())
	if err != nil {
		return nil, err
	}
	designated, err := optionalKey("designated", req.GetDesignated())
	if err != nil {
		return nil, err
	}
	ctx, done := h.detach(ctx)
	defer done()
	rec, err := h.svc.GracefulMasterTakeover(ctx, cluster, designated, by)
	if err != nil {
		return nil, operationError(err)
	}
	return &recoveryv1.GracefulMasterTakeoverResponse{Recovery: rec}, nil
}

func (h *server) ForceMasterFailover(ctx context.Context, req *recoveryv1.ForceMasterFailoverRequest) (*recoveryv1.ForceMasterFailoverResponse, error) {
	cluster, by, err := clusterAndCaller(req.GetCluster(), req.GetRequestedBy())
	if err != nil {
		return nil, err
	}
	ctx, done := h.detach(ctx)
	defer done()
	rec, err := h.svc.ForceMasterFailover(ctx, cluster, by)
	if err != nil {
		return nil, operationError(err)
	}
	return &recoveryv1.ForceMasterFailoverResponse{Recovery: rec}, nil
}

func (h *server) ForceMasterTakeover(ctx context.Context, req *recoveryv1.ForceMasterTakeoverRequest) (*recoveryv1.ForceMasterTakeoverResponse, error) {
	cluster, by, err := clusterAndCaller(req.GetCluster(), req.GetRequestedBy())
	if err != nil {
		return nil, err
	}
	if req.GetDesignated() == nil {
		return nil, grpcx.InvalidArgument("designated", errors.New("is required: the replica to promote"))
	}
	designated, err := optionalKey("designated", req.GetDesignated())
	if err != nil {
		return nil, err
	}
	ctx, done := h.detach(ctx)
	defer done()
	rec, err := h.svc.ForceMasterTakeover(ctx, cluster, designated, by)
	if err != nil {
		return nil, operationError(err)
	}
	return &recoveryv1.ForceMasterTakeoverResponse{Recovery: rec}, nil
}

// detach returns a context for an operation that changes servers: a caller
// that hangs up or times out must not cut it short between two steps (a
// master left read-only); only the service's own shutdown does.
func (h *server) detach(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(h.svc.runCtx, cancel)
	return ctx, func() { stop(); cancel() }
}

// clusterAndCaller validates the cluster and caller of a manual operation;
// an empty caller is recorded as "unknown".
func clusterAndCaller(cluster, by string) (string, string, error) {
	cluster = strings.TrimSpace(cluster)
	if cluster == "" {
		return "", "", grpcx.InvalidArgument("cluster", errors.New("is empty"))
	}
	by = strings.TrimSpace(by)
	if len(by) > 200 {
		return "", "", grpcx.InvalidArgument("requested_by", errors.New("longer than 200 characters"))
	}
	return cluster, cmpOr(by, "unknown"), nil
}

// optionalKey validates an instance key that may be left unset.
func optionalKey(field string, k *topologyv1.InstanceKey) (topology.InstanceKey, error) {
	if k == nil {
		return topology.InstanceKey{}, nil
	}
	key, err := topology.KeyFromProto(k)
	if err != nil {
		return topology.InstanceKey{}, grpcx.InvalidArgument(field, err)
	}
	return key, nil
}

// operationError maps the error of a manual operation to its gRPC status.
func operationError(err error) error {
	var refused *RefusedError
	switch {
	case errors.As(err, &refused):
		return status.Error(codes.FailedPrecondition, err.Error())
	case errors.Is(err, ErrUnknown):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, ErrLocked), errors.As(err, new(*FailedError)):
		return status.Error(codes.Aborted, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	}
	return status.Error(codes.Unavailable, err.Error())
}

func (h *server) RecoverInstance(ctx context.Context, req *recoveryv1.RecoverInstanceRequest) (*recoveryv1.RecoverInstanceResponse, error) {
	key, err := topology.KeyFromProto(req.GetInstance())
	if err != nil {
		return nil, grpcx.InvalidArgument("instance", err)
	}
	designated, err := optionalKey("candidate", req.GetCandidate())
	if err != nil {
		return nil, err
	}
	by := strings.TrimSpace(req.GetRequestedBy())
	if len(by) > 200 {
		return nil, grpcx.InvalidArgument("requested_by", errors.New("longer than 200 characters"))
	}
	if _, err := h.svc.store.GetInstance(ctx, key); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, status.Errorf(codes.NotFound, "instance %s is not known", key)
		}
		return nil, status.Errorf(codes.Unavailable, "recover: %v", err)
	}
	ctx, done := h.detach(ctx)
	defer done()
	rec, err := h.svc.RecoverInstance(ctx, key, designated, cmpOr(by, "unknown"))
	if err != nil {
		return nil, operationError(err)
	}
	return &recoveryv1.RecoverInstanceResponse{Recovery: rec}, nil
}
