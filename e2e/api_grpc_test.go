package e2e

import (
	"fmt"
	"io"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vigil-db/vigil/pkg/sandbox"
	"github.com/vigil-db/vigil/pkg/store/postgres"
	discoveryv1 "github.com/vigil-db/vigil/proto/vigil/discovery/v1"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// apiStack is a master with two replicas, discovered, with the cluster alias
// "orders" set by a classification query.
func apiStack(t *testing.T) (*stack, *sandbox.Topology) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(2))
	cfg := testConfig(t)
	cfg.Discovery.Seeds = []string{topo.Master().Key}
	cfg.Discovery.Classification.ClusterAliasQuery = "SELECT 'orders'"
	s := startStack(t, cfg)
	waitForCluster(t, s, "orders", 3)
	return s, topo
}

func TestTopologyServiceGRPC(t *testing.T) {
	s, topo := apiStack(t)
	m, r1 := topo.Master().Key, topo.Instance("r1").Key
	ctx := ctxT(t)

	t.Run("ListClusters", func(t *testing.T) {
		resp, err := s.topology.ListClusters(ctx, &topologyv1.ListClustersRequest{})
		if err != nil || len(resp.GetClusters()) != 1 {
			t.Fatalf("ListClusters = %v, %v", resp, err)
		}
		c := resp.GetClusters()[0]
		if c.GetName() != m || c.GetAlias() != "orders" || c.GetInstanceCount() != 3 || keyString(c.GetMaster()) != m {
			t.Errorf("cluster = %v", c)
		}
	})
	t.Run("GetCluster by name and alias", func(t *testing.T) {
		for _, name := range []string{m, "orders"} {
			resp, err := s.topology.GetCluster(ctx, &topologyv1.GetClusterRequest{Cluster: name})
			if err != nil || resp.GetCluster().GetName() != m {
				t.Errorf("GetCluster(%q) = %v, %v", name, resp, err)
			}
		}
	})
	t.Run("ListInstances pages, filters and matches", func(t *testing.T) {
		var all []string
		token := ""
		for {
			resp, err := s.topology.ListInstances(ctx, &topologyv1.ListInstancesRequest{PageSize: 2, PageToken: token})
			if err != nil {
				t.Fatal(err)
			}
			for _, inst := range resp.GetInstances() {
				all = append(all, keyString(inst.GetKey()))
			}
			if token = resp.GetNextPageToken(); token == "" {
				break
			}
		}
		if len(all) != 3 {
			t.Errorf("paged through %v, want 3 instances", all)
		}
		byCluster, err := s.topology.ListInstances(ctx, &topologyv1.ListInstancesRequest{Cluster: "orders"})
		if err != nil || len(byCluster.GetInstances()) != 3 {
			t.Errorf("by cluster = %v, %v", byCluster, err)
		}
		byPattern, err := s.topology.ListInstances(ctx, &topologyv1.ListInstancesRequest{Pattern: r1})
		if err != nil || len(byPattern.GetInstances()) != 1 || keyString(byPattern.GetInstances()[0].GetKey()) != r1 {
			t.Errorf("by pattern = %v, %v", byPattern, err)
		}
	})
	t.Run("GetMaster of an instance and of a cluster", func(t *testing.T) {
		for _, req := range []*topologyv1.GetMasterRequest{{Instance: key(r1)}, {Cluster: "orders"}} {
			resp, err := s.topology.GetMaster(ctx, req)
			if err != nil || keyString(resp.GetMaster().GetKey()) != m {
				t.Errorf("GetMaster(%v) = %v, %v", req, resp, err)
			}
		}
	})
	t.Run("ListReplicas", func(t *testing.T) {
		resp, err := s.topology.ListReplicas(ctx, &topologyv1.ListReplicasRequest{Instance: key(m)})
		if err != nil || len(resp.GetReplicas()) != 2 {
			t.Errorf("ListReplicas = %v, %v", resp, err)
		}
		broken, err := s.topology.ListReplicas(ctx, &topologyv1.ListReplicasRequest{Instance: key(m), BrokenOnly: true})
		if err != nil || len(broken.GetReplicas()) != 0 {
			t.Errorf("broken replicas = %v, %v", broken, err)
		}
	})
	t.Run("GetInstanceCluster", func(t *testing.T) {
		resp, err := s.topology.GetInstanceCluster(ctx, &topologyv1.GetInstanceClusterRequest{Instance: key(r1)})
		if err != nil || resp.GetCluster().GetName() != m || resp.GetCluster().GetAlias() != "orders" {
			t.Errorf("GetInstanceCluster = %v, %v", resp, err)
		}
	})

	errorCases := []struct {
		name string
		call func() error
		code codes.Code
	}{
		{"unknown cluster", func() error {
			_, err := s.topology.GetCluster(ctx, &topologyv1.GetClusterRequest{Cluster: "nope"})
			return err
		}, codes.NotFound},
		{"empty cluster", func() error {
			_, err := s.topology.GetClusterTopology(ctx, &topologyv1.GetClusterTopologyRequest{})
			return err
		}, codes.InvalidArgument},
		{"unknown instance", func() error {
			_, err := s.topology.GetInstance(ctx, &topologyv1.GetInstanceRequest{Instance: key("10.0.0.1:3306")})
			return err
		}, codes.NotFound},
		{"port out of range", func() error {
			_, err := s.topology.GetInstance(ctx, &topologyv1.GetInstanceRequest{Instance: &topologyv1.InstanceKey{Host: "db1", Port: 70000}})
			return err
		}, codes.InvalidArgument},
		{"port zero", func() error {
			_, err := s.topology.ListReplicas(ctx, &topologyv1.ListReplicasRequest{Instance: &topologyv1.InstanceKey{Host: "db1"}})
			return err
		}, codes.InvalidArgument},
		{"empty host", func() error {
			_, err := s.topology.GetInstanceCluster(ctx, &topologyv1.GetInstanceClusterRequest{Instance: &topologyv1.InstanceKey{Port: 3306}})
			return err
		}, codes.InvalidArgument},
		{"missing instance", func() error {
			_, err := s.topology.GetInstance(ctx, &topologyv1.GetInstanceRequest{})
			return err
		}, codes.InvalidArgument},
		{"master of a master", func() error {
			_, err := s.topology.GetMaster(ctx, &topologyv1.GetMasterRequest{Instance: key(m)})
			return err
		}, codes.NotFound},
		{"master of instance and cluster at once", func() error {
			_, err := s.topology.GetMaster(ctx, &topologyv1.GetMasterRequest{Instance: key(r1), Cluster: "orders"})
			return err
		}, codes.InvalidArgument},
		{"negative page size", func() error {
			_, err := s.topology.ListClusters(ctx, &topologyv1.ListClustersRequest{PageSize: -1})
			return err
		}, codes.InvalidArgument},
		{"bad page token", func() error {
			_, err := s.topology.ListInstances(ctx, &topologyv1.ListInstancesRequest{PageToken: "garbage"})
			return err
		}, codes.InvalidArgument},
		{"instances of unknown cluster", func() error {
			_, err := s.topology.ListInstances(ctx, &topologyv1.ListInstancesRequest{Cluster: "nope"})
			return err
		}, codes.NotFound},
		{"forget unknown instance", func() error {
			_, err := s.discovery.ForgetInstance(ctx, &discoveryv1.ForgetInstanceRequest{Instance: key("10.0.0.1:3306")})
			return err
		}, codes.NotFound},
		{"discover malformed key", func() error {
			_, err := s.discovery.DiscoverInstance(ctx, &discoveryv1.DiscoverInstanceRequest{Instance: &topologyv1.InstanceKey{Host: "db 1", Port: 3306}})
			return err
		}, codes.InvalidArgument},
		{"probe malformed key", func() error {
			_, err := s.discovery.ProbeNow(ctx, &discoveryv1.ProbeNowRequest{Instances: []*topologyv1.InstanceKey{key(m), {Host: "db1"}}})
			return err
		}, codes.InvalidArgument},
	}
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if status.Code(err) != tc.code {
				t.Fatalf("err = %v, want %s", err, tc.code)
			}
			if status.Convert(err).Message() == "" {
				t.Error("error has no message")
			}
		})
	}
}

func TestDiscoveryServiceGRPC(t *testing.T) {
	s, topo := apiStack(t)
	m := topo.Master().Key
	ctx := ctxT(t)

	t.Run("ProbeNow returns one snapshot per instance in order", func(t *testing.T) {
		resp, err := s.discovery.ProbeNow(ctx, &discoveryv1.ProbeNowRequest{Instances: []*topologyv1.InstanceKey{key(topo.Instance("r2").Key), key(m)}})
		if err != nil || len(resp.GetSnapshots()) != 2 {
			t.Fatalf("ProbeNow = %v, %v", resp, err)
		}
		if keyString(resp.GetSnapshots()[1].GetKey()) != m || !resp.GetSnapshots()[1].GetReachable() {
			t.Errorf("second snapshot = %v", resp.GetSnapshots()[1])
		}
	})
	t.Run("DiscoverInstance of a known instance", func(t *testing.T) {
		resp, err := s.discovery.DiscoverInstance(ctx, &discoveryv1.DiscoverInstanceRequest{Instance: key(m)})
		if err != nil || !resp.GetSnapshot().GetReachable() || resp.GetSnapshot().GetServer().GetFlavor() != topologyv1.Flavor_FLAVOR_MARIADB {
			t.Errorf("DiscoverInstance = %v, %v", resp, err)
		}
	})
	t.Run("StreamSnapshots starts with the current state", func(t *testing.T) {
		stream, err := s.discovery.StreamSnapshots(ctx, &discoveryv1.StreamSnapshotsRequest{Subscriber: "test"})
		if err != nil {
			t.Fatal(err)
		}
		initial := map[string]bool{}
		for {
			msg, err := stream.Recv()
			if err == io.EOF || err != nil {
				t.Fatalf("stream ended: %v", err)
			}
			if snap := msg.GetSnapshot(); snap != nil {
				initial[keyString(snap.GetKey())] = true
				continue
			}
			if synced := msg.GetSynced(); synced != nil {
				if int(synced.GetSnapshotCount()) != len(initial) || len(initial) != 3 {
					t.Errorf("synced after %d snapshots, marker says %d, want 3", len(initial), synced.GetSnapshotCount())
				}
				break
			}
		}
		msg, err := stream.Recv() // live snapshots follow within a poll interval
		if err != nil || msg.GetSnapshot() == nil {
			t.Errorf("live event = %v, %v", msg, err)
		}
	})
}

// TestForgetCluster forgets a whole cluster by its alias: discovery stops
// watching every instance of it and the analyzer drops the cluster.
func TestForgetCluster(t *testing.T) {
	s, topo := apiStack(t)
	eventually(t, 10*time.Second, "cluster stored", func() error {
		_, err := s.discovery.ForgetCluster(ctxT(t), &discoveryv1.ForgetClusterRequest{Cluster: "no-such-cluster"})
		if status.Code(err) != codes.NotFound {
			return fmt.Errorf("unknown cluster: %v, want NotFound", err)
		}
		if _, err := s.topology.GetCluster(ctxT(t), &topologyv1.GetClusterRequest{Cluster: "orders"}); err != nil {
			return err
		}
		return nil
	})
	if _, err := s.discovery.ForgetCluster(ctxT(t), &discoveryv1.ForgetClusterRequest{Cluster: " "}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("empty cluster: %v, want InvalidArgument", err)
	}
	// Discovery forgets the members the analyzer last stored.
	st, err := postgres.Open(ctxT(t), s.cfg.Store)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eventually(t, 15*time.Second, "cluster stored whole", func() error {
		clusters, err := st.ListClusters(ctxT(t))
		if err != nil || len(clusters) != 1 || len(clusters[0].Members) != len(topo.Instances()) {
			return fmt.Errorf("stored clusters %v, %v", clusters, err)
		}
		return nil
	})
	resp, err := s.discovery.ForgetCluster(ctxT(t), &discoveryv1.ForgetClusterRequest{Cluster: "orders"})
	if err != nil || len(resp.GetForgotten()) != len(topo.Instances()) {
		t.Fatalf("ForgetCluster = %v, %v; want the %d instances", resp, err, len(topo.Instances()))
	}
	if keyString(resp.GetForgotten()[0]) > keyString(resp.GetForgotten()[1]) {
		t.Errorf("forgotten not ordered: %v", resp.GetForgotten())
	}
	eventually(t, 10*time.Second, "cluster gone from the analyzer", func() error {
		_, err := s.topology.GetCluster(ctxT(t), &topologyv1.GetClusterRequest{Cluster: "orders"})
		if status.Code(err) != codes.NotFound {
			return fmt.Errorf("GetCluster after ForgetCluster: %v", err)
		}
		return nil
	})
	if _, err := s.discovery.ProbeNow(ctxT(t), &discoveryv1.ProbeNowRequest{Instances: []*topologyv1.InstanceKey{key(topo.Master().Key)}}); status.Code(err) == codes.OK {
		t.Error("a forgotten master is still watched")
	}
}

func TestRecoveryServiceGRPC(t *testing.T) {
	cfg := testConfig(t)
	s := startStack(t, cfg)
	ctx := ctxT(t)
	got, err := s.recovery.GetGlobalRecoveries(ctx, &recoveryv1.GetGlobalRecoveriesRequest{})
	if err != nil || !got.GetGlobalRecoveries().GetEnabled() {
		t.Fatalf("default = %v, %v; want enabled", got, err)
	}
	set, err := s.recovery.SetGlobalRecoveries(ctx, &recoveryv1.SetGlobalRecoveriesRequest{Enabled: false, RequestedBy: "alice"})
	if err != nil || set.GetGlobalRecoveries().GetEnabled() || set.GetGlobalRecoveries().GetUpdatedBy() != "alice" {
		t.Fatalf("set = %v, %v", set, err)
	}
	got, err = s.recovery.GetGlobalRecoveries(ctx, &recoveryv1.GetGlobalRecoveriesRequest{})
	if err != nil || got.GetGlobalRecoveries().GetEnabled() || got.GetGlobalRecoveries().GetUpdatedAt() == nil {
		t.Errorf("after disable = %v, %v", got, err)
	}
}
