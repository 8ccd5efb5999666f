package main

import (
	"bytes"
	"context"
	"fmt"
	"math"

	"google.golang.org/protobuf/proto"

	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

func runClusters(ctx context.Context, inv *invocation) error {
	resp, err := listClusters(ctx, inv)
	if err != nil {
		return err
	}
	return inv.emit(resp, func(w *bytes.Buffer) {
		for _, c := range resp.GetClusters() {
			fmt.Fprintln(w, c.GetName())
		}
	})
}

func runClustersAlias(ctx context.Context, inv *invocation) error {
	resp, err := listClusters(ctx, inv)
	if err != nil {
		return err
	}
	return inv.emit(resp, func(w *bytes.Buffer) {
		for _, c := range resp.GetClusters() {
			fmt.Fprintf(w, "%s\t%s\n", c.GetName(), c.GetAlias())
		}
	})
}

// listClusters collects every page of clusters into one response.
func listClusters(ctx context.Context, inv *invocation) (*topologyv1.ListClustersResponse, error) {
	client, err := inv.topology()
	if err != nil {
		return nil, err
	}
	clusters, err := allPages(func(token string) ([]*topologyv1.Cluster, string, error) {
		resp, err := client.ListClusters(ctx, &topologyv1.ListClustersRequest{PageToken: token})
		return resp.GetClusters(), resp.GetNextPageToken(), err
	})
	if err != nil {
		return nil, err
	}
	return &topologyv1.ListClustersResponse{Clusters: clusters}, nil
}

func runClusterInfo(ctx context.Context, inv *invocation) error {
	resp, cluster, err := lookupCluster(ctx, inv)
	if err != nil {
		return err
	}
	return inv.emit(resp, func(w *bytes.Buffer) { writeClusterInfo(w, cluster) })
}

func runTopology(ctx context.Context, inv *invocation) error {
	resp, err := clusterTopology(ctx, inv)
	if err != nil {
		return err
	}
	return inv.emit(resp, func(w *bytes.Buffer) {
		w.WriteString(resp.GetText())
		if text := resp.GetText(); text != "" && text[len(text)-1] != '\n' {
			w.WriteByte('\n')
		}
	})
}

func runTopologyTabulated(ctx context.Context, inv *invocation) error {
	resp, err := clusterTopology(ctx, inv)
	if err != nil {
		return err
	}
	return inv.emit(resp, func(w *bytes.Buffer) { writeTabulated(w, resp.GetText()) })
}

func clusterTopology(ctx context.Context, inv *invocation) (*topologyv1.GetClusterTopologyResponse, error) {
	client, err := inv.topology()
	if err != nil {
		return nil, err
	}
	cluster, err := inv.clusterName(ctx, client)
	if err != nil {
		return nil, err
	}
	return client.GetClusterTopology(ctx, &topologyv1.GetClusterTopologyRequest{Cluster: cluster})
}

func runInstance(ctx context.Context, inv *invocation) error {
	key, err := inv.instanceKey()
	if err != nil {
		return err
	}
	client, err := inv.topology()
	if err != nil {
		return err
	}
	resp, err := client.GetInstance(ctx, &topologyv1.GetInstanceRequest{Instance: key})
	if err != nil {
		return err
	}
	return inv.emit(resp, func(w *bytes.Buffer) { writeKey(w, resp.GetInstance().GetKey()) })
}

func runWhichMaster(ctx context.Context, inv *invocation) error {
	cluster, key, err := inv.clusterOrInstance()
	if err != nil {
		return err
	}
	client, err := inv.topology()
	if err != nil {
		return err
	}
	resp, err := client.GetMaster(ctx, &topologyv1.GetMasterRequest{Instance: key, Cluster: cluster})
	if err != nil {
		return err
	}
	return inv.emit(resp, func(w *bytes.Buffer) { writeKey(w, resp.GetMaster().GetKey()) })
}

func runWhichReplicas(ctx context.Context, inv *invocation) error {
	return listReplicas(ctx, inv, inv.opts.broken)
}

func runWhichBrokenReplicas(ctx context.Context, inv *invocation) error {
	return listReplicas(ctx, inv, true)
}

func listReplicas(ctx context.Context, inv *invocation, brokenOnly bool) error {
	key, err := inv.instanceKey()
	if err != nil {
		return err
	}
	client, err := inv.topology()
	if err != nil {
		return err
	}
	resp, err := client.ListReplicas(ctx, &topologyv1.ListReplicasRequest{Instance: key, BrokenOnly: brokenOnly})
	if err != nil {
		return err
	}
	return inv.emit(resp, func(w *bytes.Buffer) { writeInstanceKeys(w, resp.GetReplicas()) })
}

func runWhichCluster(ctx context.Context, inv *invocation) error {
	return whichCluster(ctx, inv, (*topologyv1.Cluster).GetName)
}

func runWhichClusterAlias(ctx context.Context, inv *invocation) error {
	return whichCluster(ctx, inv, (*topologyv1.Cluster).GetAlias)
}

// whichCluster prints one field of the cluster of -i, or of --cluster.
func whichCluster(ctx context.Context, inv *invocation, field func(*topologyv1.Cluster) string) error {
	resp, cluster, err := lookupCluster(ctx, inv)
	if err != nil {
		return err
	}
	return inv.emit(resp, func(w *bytes.Buffer) { writeLine(w, field(cluster)) })
}

// lookupCluster returns the cluster of -i, or the one named by --cluster,
// with the response to print under --json.
func lookupCluster(ctx context.Context, inv *invocation) (proto.Message, *topologyv1.Cluster, error) {
	cluster, key, err := inv.clusterOrInstance()
	if err != nil {
		return nil, nil, err
	}
	client, err := inv.topology()
	if err != nil {
		return nil, nil, err
	}
	if key != nil {
		resp, err := client.GetInstanceCluster(ctx, &topologyv1.GetInstanceClusterRequest{Instance: key})
		if err != nil {
			return nil, nil, err
		}
		return resp, resp.GetCluster(), nil
	}
	resp, err := client.GetCluster(ctx, &topologyv1.GetClusterRequest{Cluster: cluster})
	if err != nil {
		return nil, nil, err
	}
	return resp, resp.GetCluster(), nil
}

func runWhichClusterMaster(ctx context.Context, inv *invocation) error {
	client, err := inv.topology()
	if err != nil {
		return err
	}
	cluster, err := inv.clusterName(ctx, client)
	if err != nil {
		return err
	}
	resp, err := client.GetMaster(ctx, &topologyv1.GetMasterRequest{Cluster: cluster})
	if err != nil {
		return err
	}
	return inv.emit(resp, func(w *bytes.Buffer) { writeKey(w, resp.GetMaster().GetKey()) })
}

func runWhichClusterInstances(ctx context.Context, inv *invocation) error {
	client, err := inv.topology()
	if err != nil {
		return err
	}
	cluster, err := inv.clusterName(ctx, client)
	if err != nil {
		return err
	}
	return listInstances(ctx, inv, &topologyv1.ListInstancesRequest{Cluster: cluster})
}

func runAllInstances(ctx context.Context, inv *invocation) error {
	return listInstances(ctx, inv, &topologyv1.ListInstancesRequest{Cluster: inv.opts.cluster, Pattern: inv.opts.pattern})
}

func runSearch(ctx context.Context, inv *invocation) error {
	if inv.opts.pattern == "" {
		return usagef("search: a pattern is required (vigilctl search text)")
	}
	return listInstances(ctx, inv, &topologyv1.ListInstancesRequest{Pattern: inv.opts.pattern})
}

// listInstances prints every page of instances matching filter.
func listInstances(ctx context.Context, inv *invocation, filter *topologyv1.ListInstancesRequest) error {
	client, err := inv.topology()
	if err != nil {
		return err
	}
	instances, err := allPages(func(token string) ([]*topologyv1.Instance, string, error) {
		req := &topologyv1.ListInstancesRequest{Cluster: filter.GetCluster(), Pattern: filter.GetPattern(), PageToken: token}
		resp, err := client.ListInstances(ctx, req)
		return resp.GetInstances(), resp.GetNextPageToken(), err
	})
	if err != nil {
		return err
	}
	resp := &topologyv1.ListInstancesResponse{Instances: instances}
	return inv.emit(resp, func(w *bytes.Buffer) { writeInstanceKeys(w, resp.GetInstances()) })
}

// maxPages bounds paging against a server that never stops.
const maxPages = 100000

// allPages calls fetch from the first page until the page token is empty.
func allPages[T any](fetch func(token string) ([]T, string, error)) ([]T, error) {
	return firstN(0, func(token string, _ int32) ([]T, string, error) { return fetch(token) })
}

// firstN calls fetch from the first page until it has limit items, or until
// the page token is empty; a limit of 0 means no limit. fetch gets the page
// token and how many items are still wanted (0 without a limit), to ask for
// as its page size.
func firstN[T any](limit int, fetch func(token string, pageSize int32) ([]T, string, error)) ([]T, error) {
	var all []T
	token := ""
	seen := make(map[string]bool)
	for range maxPages {
		want := 0
		if limit > 0 {
			want = limit - len(all)
		}
		items, next, err := fetch(token, int32(min(want, math.MaxInt32)))
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if limit > 0 && len(all) >= limit {
			return all[:limit], nil
		}
		if next == "" {
			return all, nil
		}
		if seen[next] {
			return nil, fmt.Errorf("the server returned page token %q twice", next)
		}
		seen[next] = true
		token = next
	}
	return nil, fmt.Errorf("the server returned more than %d pages", maxPages)
}
