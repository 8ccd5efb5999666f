package analyzer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vigil-db/vigil/pkg/grpcx"
	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
	"github.com/vigil-db/vigil/services/analyzer/view"
)

const (
	defaultPageSize = 500
	maxPageSize     = 5000
)

// topologyServer holds the TopologyService handlers.
type topologyServer struct {
	topologyv1.UnimplementedTopologyServiceServer
	svc *Service
}

func (h *topologyServer) ListClusters(_ context.Context, req *topologyv1.ListClustersRequest) (*topologyv1.ListClustersResponse, error) {
	size, err := pageSize(req.GetPageSize())
	if err != nil {
		return nil, err
	}
	g := h.svc.state.Graph()
	names := make([]string, 0, len(g.Clusters))
	for name := range g.Clusters {
		if name > req.GetPageToken() {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	resp := &topologyv1.ListClustersResponse{}
	for i, name := range names {
		if i == size {
			resp.NextPageToken = names[i-1]
			break
		}
		resp.Clusters = append(resp.Clusters, view.ClusterProto(g.Clusters[name]))
	}
	return resp, nil
}

func (h *topologyServer) GetCluster(_ context.Context, req *topologyv1.GetClusterRequest) (*topologyv1.GetClusterResponse, error) {
	c, err := findCluster(h.svc.state.Graph(), req.GetCluster())
	if err != nil {
		return nil, err
	}
	return &topologyv1.GetClusterResponse{Cluster: view.ClusterProto(c)}, nil
}

func (h *topologyServer) GetClusterTopology(_ context.Context, req *topologyv1.GetClusterTopologyRequest) (*topologyv1.GetClusterTopologyResponse, error) {
	v := h.svc.state.View()
	c, err := findCluster(v.Graph, req.GetCluster())
	if err != nil {
		return nil, err
	}
	root := v.Tree(c)
	return &topologyv1.GetClusterTopologyResponse{
		Cluster: view.ClusterProto(c),
		Root:    root,
		Text:    view.RenderText(root, int64(h.svc.cfg.LagThreshold.Seconds())),
	}, nil
}

func (h *topologyServer) ListInstances(_ context.Context, req *topologyv1.ListInstancesRequest) (*topologyv1.ListInstancesResponse, error) {
	size, err := pageSize(req.GetPageSize())
	if err != nil {
		return nil, err
	}
	var after topology.InstanceKey
	if req.GetPageToken() != "" {
		if after, err = topology.ParseInstanceKey(req.GetPageToken()); err != nil {
			return nil, grpcx.InvalidArgument("page_token", errors.New("not a token from a previous page"))
		}
	}
	v := h.svc.state.View()
	var keys []topology.InstanceKey
	if req.GetCluster() != "" {
		c, err := findCluster(v.Graph, req.GetCluster())
		if err != nil {
			return nil, err
		}
		keys = slices.Clone(c.Members)
	} else {
		for key := range v.Graph.Nodes {
			keys = append(keys, key)
		}
	}
	topology.SortKeys(keys)
	resp := &topologyv1.ListInstancesResponse{}
	for _, key := range keys {
		if !after.IsZero() && !after.Less(key) {
			continue
		}
		if req.GetPattern() != "" && !strings.Contains(key.String(), req.GetPattern()) {
			continue
		}
		if len(resp.Instances) == size {
			last := resp.Instances[size-1].GetKey()
			resp.NextPageToken = topology.InstanceKey{Host: last.GetHost(), Port: uint16(last.GetPort())}.String()
			break
		}
		inst, _ := v.Instance(key)
		resp.Instances = append(resp.Instances, inst)
	}
	return resp, nil
}

func (h *topologyServer) GetInstance(_ context.Context, req *topologyv1.GetInstanceRequest) (*topologyv1.GetInstanceResponse, error) {
	v := h.svc.state.View()
	inst, err := findInstance(v, req.GetInstance())
	if err != nil {
		return nil, err
	}
	return &topologyv1.GetInstanceResponse{Instance: inst}, nil
}

func (h *topologyServer) GetMaster(_ context.Context, req *topologyv1.GetMasterRequest) (*topologyv1.GetMasterResponse, error) {
	hasInstance, hasCluster := req.GetInstance() != nil, req.GetCluster() != ""
	if hasInstance == hasCluster {
		return nil, grpcx.InvalidArgument("instance", errors.New("give exactly one of instance or cluster"))
	}
	v := h.svc.state.View()
	var master topology.InstanceKey
	if hasCluster {
		c, err := findCluster(v.Graph, req.GetCluster())
		if err != nil {
			return nil, err
		}
		master = c.Master
	} else {
		inst, err := findInstance(v, req.GetInstance())
		if err != nil {
			return nil, err
		}
		if inst.GetMaster() == nil {
			return nil, status.Errorf(codes.NotFound, "instance %s replicates from no master", keyText(inst.GetKey()))
		}
		master, _ = topology.KeyFromProto(inst.GetMaster())
	}
	inst, ok := v.Instance(master)
	if !ok {
		inst = &topologyv1.Instance{Key: master.Proto(), Cluster: master.String(), Role: topologyv1.Role_ROLE_MASTER}
	}
	return &topologyv1.GetMasterResponse{Master: inst}, nil
}

func (h *topologyServer) ListReplicas(_ context.Context, req *topologyv1.ListReplicasRequest) (*topologyv1.ListReplicasResponse, error) {
	v := h.svc.state.View()
	inst, err := findInstance(v, req.GetInstance())
	if err != nil {
		return nil, err
	}
	resp := &topologyv1.ListReplicasResponse{}
	for _, rk := range inst.GetReplicas() {
		key, _ := topology.KeyFromProto(rk)
		r, ok := v.Instance(key)
		if !ok || (req.GetBrokenOnly() && r.GetReplicating()) {
			continue
		}
		resp.Replicas = append(resp.Replicas, r)
	}
	return resp, nil
}

func (h *topologyServer) GetInstanceCluster(_ context.Context, req *topologyv1.GetInstanceClusterRequest) (*topologyv1.GetInstanceClusterResponse, error) {
	v := h.svc.state.View()
	inst, err := findInstance(v, req.GetInstance())
	if err != nil {
		return nil, err
	}
	return &topologyv1.GetInstanceClusterResponse{Cluster: view.ClusterProto(v.Graph.Clusters[inst.GetCluster()])}, nil
}

func findCluster(g *topology.Graph, name string) (*topology.Cluster, error) {
	if strings.TrimSpace(name) == "" {
		return nil, grpcx.InvalidArgument("cluster", errors.New("empty; give a cluster name or alias"))
	}
	c, ok := g.FindCluster(name)
	if !ok {
		return nil, status.Errorf(codes.NotFound, "cluster %q is not known", name)
	}
	return c, nil
}

func findInstance(v *view.View, pk *topologyv1.InstanceKey) (*topologyv1.Instance, error) {
	key, err := topology.KeyFromProto(pk)
	if err != nil {
		return nil, grpcx.InvalidArgument("instance", err)
	}
	inst, ok := v.Instance(key)
	if !ok {
		return nil, status.Errorf(codes.NotFound, "instance %s is not known", key)
	}
	return inst, nil
}

func pageSize(n int32) (int, error) {
	switch {
	case n < 0:
		return 0, grpcx.InvalidArgument("page_size", fmt.Errorf("%d is negative", n))
	case n == 0:
		return defaultPageSize, nil
	case n > maxPageSize:
		return maxPageSize, nil
	}
	return int(n), nil
}

func keyText(k *topologyv1.InstanceKey) string {
	return topology.InstanceKey{Host: k.GetHost(), Port: uint16(k.GetPort())}.String()
}
