package topology

import (
	"slices"
	"testing"

	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

func key(s string) InstanceKey {
	k, err := ParseInstanceKey(s)
	if err != nil {
		panic(err)
	}
	return k
}

// snap builds a reachable snapshot of key replicating from source ("" for none)
// and reporting the given replicas.
func snap(k, source string, readOnly bool, replicas ...string) *topologyv1.Snapshot {
	s := &topologyv1.Snapshot{
		Key:       key(k).Proto(),
		Reachable: true,
		Server:    &topologyv1.Server{ReadOnly: readOnly},
	}
	if source != "" {
		s.Channels = []*topologyv1.ReplicationChannel{{Source: key(source).Proto()}}
	}
	for _, r := range replicas {
		s.Replicas = append(s.Replicas, &topologyv1.ReplicaRef{Key: key(r).Proto()})
	}
	return s
}

func good(s *topologyv1.Snapshot) Observation { return Observation{Latest: s, LastGood: s} }

func TestBuildGraph(t *testing.T) {
	tests := []struct {
		name         string
		obs          map[InstanceKey]Observation
		wantClusters map[string][]string // cluster name -> members
		wantMasters  map[string]string   // instance -> master
	}{
		{
			name: "master with two replicas",
			obs: map[InstanceKey]Observation{
				key("h:1"): good(snap("h:1", "", false, "h:2", "h:3")),
				key("h:2"): good(snap("h:2", "h:1", true)),
				key("h:3"): good(snap("h:3", "h:1", true)),
			},
			wantClusters: map[string][]string{"h:1": {"h:1", "h:2", "h:3"}},
			wantMasters:  map[string]string{"h:2": "h:1", "h:3": "h:1"},
		},
		{
			name: "chain through an intermediate master",
			obs: map[InstanceKey]Observation{
				key("h:1"): good(snap("h:1", "", false)),
				key("h:2"): good(snap("h:2", "h:1", true)),
				key("h:3"): good(snap("h:3", "h:2", true)),
				key("h:4"): good(snap("h:4", "h:2", true)),
			},
			wantClusters: map[string][]string{"h:1": {"h:1", "h:2", "h:3", "h:4"}},
			wantMasters:  map[string]string{"h:2": "h:1", "h:3": "h:2", "h:4": "h:2"},
		},
		{
			name: "unreachable replica keeps its place from the last good snapshot",
			obs: map[InstanceKey]Observation{
				key("h:1"): good(snap("h:1", "", false)),
				key("h:2"): {Latest: &topologyv1.Snapshot{Key: key("h:2").Proto()}, LastGood: snap("h:2", "h:1", true)},
			},
			wantClusters: map[string][]string{"h:1": {"h:1", "h:2"}},
			wantMasters:  map[string]string{"h:2": "h:1"},
		},
		{
			name: "replica only reported by its master",
			obs: map[InstanceKey]Observation{
				key("h:1"): good(snap("h:1", "", false, "h:9")),
			},
			wantClusters: map[string][]string{"h:1": {"h:1", "h:9"}},
			wantMasters:  map[string]string{"h:9": "h:1"},
		},
		{
			name: "master never observed is still the root",
			obs: map[InstanceKey]Observation{
				key("h:2"): good(snap("h:2", "h:1", true)),
			},
			wantClusters: map[string][]string{"h:1": {"h:2"}},
			wantMasters:  map[string]string{"h:2": "h:1"},
		},
		{
			name: "co-master ring is rooted at the writable member",
			obs: map[InstanceKey]Observation{
				key("h:1"): good(snap("h:1", "h:2", true)),
				key("h:2"): good(snap("h:2", "h:1", false)),
				key("h:3"): good(snap("h:3", "h:1", true)),
			},
			wantClusters: map[string][]string{"h:2": {"h:1", "h:2", "h:3"}},
			wantMasters:  map[string]string{"h:1": "h:2", "h:2": "h:1", "h:3": "h:1"},
		},
		{
			name: "two separate clusters",
			obs: map[InstanceKey]Observation{
				key("a:1"): good(snap("a:1", "", false)),
				key("a:2"): good(snap("a:2", "a:1", true)),
				key("b:1"): good(snap("b:1", "", false)),
			},
			wantClusters: map[string][]string{"a:1": {"a:1", "a:2"}, "b:1": {"b:1"}},
			wantMasters:  map[string]string{"a:2": "a:1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := BuildGraph(tt.obs)
			if len(g.Clusters) != len(tt.wantClusters) {
				t.Fatalf("got %d clusters, want %d", len(g.Clusters), len(tt.wantClusters))
			}
			for name, members := range tt.wantClusters {
				c, ok := g.Clusters[name]
				if !ok {
					t.Fatalf("cluster %s missing", name)
				}
				var got []string
				for _, m := range c.Members {
					got = append(got, m.String())
				}
				if !slices.Equal(got, members) {
					t.Errorf("cluster %s members = %v, want %v", name, got, members)
				}
			}
			for inst, master := range tt.wantMasters {
				if got := g.Nodes[key(inst)].Master.String(); got != master {
					t.Errorf("master of %s = %s, want %s", inst, got, master)
				}
			}
		})
	}
}

func TestFindClusterByAlias(t *testing.T) {
	m := snap("h:1", "", false)
	m.Classification = &topologyv1.Classification{ClusterAlias: "orders", ClusterDomain: "orders.db"}
	g := BuildGraph(map[InstanceKey]Observation{key("h:1"): good(m), key("h:2"): good(snap("h:2", "h:1", true))})
	for _, name := range []string{"h:1", "orders"} {
		c, ok := g.FindCluster(name)
		if !ok || c.Name != "h:1" || c.Alias != "orders" || c.Domain != "orders.db" {
			t.Errorf("FindCluster(%q) = %+v, %v", name, c, ok)
		}
	}
	if _, ok := g.FindCluster("nope"); ok {
		t.Error("FindCluster(nope) found a cluster")
	}
}

func TestSetAlias(t *testing.T) {
	m := snap("h:1", "", false)
	m.Classification = &topologyv1.Classification{ClusterAlias: "from-query"}
	g := BuildGraph(map[InstanceKey]Observation{key("h:1"): good(m)})
	if !g.SetAlias("h:1", "orders") || g.SetAlias("h:9", "x") {
		t.Fatal("SetAlias did not report whether the cluster exists")
	}
	if c, ok := g.FindCluster("orders"); !ok || c.Alias != "orders" {
		t.Errorf("FindCluster(orders) = %+v, %v", c, ok)
	}
	if _, ok := g.FindCluster("from-query"); ok {
		t.Error("the replaced alias still finds the cluster")
	}
}
