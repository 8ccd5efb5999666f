package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

func replaceClusters(t *testing.T, s store.Store, clusters ...store.Cluster) {
	t.Helper()
	if err := s.ReplaceClusters(context.Background(), clusters); err != nil {
		t.Fatalf("ReplaceClusters: %v", err)
	}
}

func listClusters(t *testing.T, s store.Store) []store.Cluster {
	t.Helper()
	clusters, err := s.ListClusters(context.Background())
	if err != nil {
		t.Fatalf("ListClusters: %v", err)
	}
	return clusters
}

// saveKeys stores a reachable snapshot for each key.
func saveKeys(t *testing.T, s store.Store, keys ...topology.InstanceKey) {
	t.Helper()
	snaps := make([]*topologyv1.Snapshot, len(keys))
	for i, k := range keys {
		snaps[i] = NewSnapshot(k, at(1), true)
	}
	save(t, s, snaps...)
}

func checkClusters(t *testing.T, s store.Store, want []store.Cluster) {
	t.Helper()
	got := listClusters(t, s)
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ListClusters =\n\t%+v\nwant\n\t%+v", got, want)
	}
}

func checkAssignment(t *testing.T, s store.Store, want map[topology.InstanceKey]string) {
	t.Helper()
	for k, cluster := range want {
		if got := get(t, s, k).Cluster; got != cluster {
			t.Errorf("Cluster of %s = %q, want %q", k, got, cluster)
		}
	}
}

func testClusters(t *testing.T, s store.Store) {
	m1, r1, r2 := key("db1", 3306), key("db2", 3306), key("db2", 3307)
	m2, r3 := key("db10", 3306), key("db11", 3306)
	loner := key("db99", 3306)
	saveKeys(t, s, m1, r1, r2, m2, r3, loner)

	if got := listClusters(t, s); len(got) != 0 {
		t.Errorf("ListClusters before any ReplaceClusters = %+v, want none", got)
	}
	replaceClusters(t, s,
		store.Cluster{Name: "users", Alias: "users", Domain: "users.db.example.com", Master: m2, Members: []topology.InstanceKey{r3, m2}},
		store.Cluster{Name: "orders", Alias: "orders-eu", Domain: "orders.db.example.com", Master: m1, Members: []topology.InstanceKey{r2, m1, r1}},
		store.Cluster{Name: "empty", Master: key("gone", 3306), Members: []topology.InstanceKey{key("gone", 3306)}},
	)
	checkClusters(t, s, []store.Cluster{
		{Name: "empty", Master: key("gone", 3306)},
		{Name: "orders", Alias: "orders-eu", Domain: "orders.db.example.com", Master: m1, Members: []topology.InstanceKey{m1, r1, r2}},
		{Name: "users", Alias: "users", Domain: "users.db.example.com", Master: m2, Members: []topology.InstanceKey{m2, r3}},
	})
	checkAssignment(t, s, map[topology.InstanceKey]string{
		m1: "orders", r1: "orders", r2: "orders", m2: "users", r3: "users", loner: "",
	})
	if _, err := s.GetInstance(context.Background(), key("gone", 3306)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a member that is not a stored instance was created: GetInstance error = %v, want ErrNotFound", err)
	}
}

func testClustersReplace(t *testing.T, s store.Store) {
	m1, r1, r2, m2 := key("db1", 3306), key("db2", 3306), key("db3", 3306), key("db4", 3306)
	saveKeys(t, s, m1, r1, r2, m2)
	replaceClusters(t, s,
		store.Cluster{Name: "orders", Master: m1, Members: []topology.InstanceKey{m1, r1, r2}},
		store.Cluster{Name: "users", Master: m2, Members: []topology.InstanceKey{m2}},
	)

	// r1 is promoted and takes r2 into a renamed cluster; m1 is left out;
	// users disappears.
	replaceClusters(t, s, store.Cluster{Name: "orders-2", Alias: "orders", Master: r1, Members: []topology.InstanceKey{r1, r2}})
	checkClusters(t, s, []store.Cluster{{Name: "orders-2", Alias: "orders", Master: r1, Members: []topology.InstanceKey{r1, r2}}})
	checkAssignment(t, s, map[topology.InstanceKey]string{m1: "", r1: "orders-2", r2: "orders-2", m2: ""})

	replaceClusters(t, s)
	checkClusters(t, s, nil)
	checkAssignment(t, s, map[topology.InstanceKey]string{m1: "", r1: "", r2: "", m2: ""})
}

func testClustersInvalid(t *testing.T, s store.Store) {
	a, b := key("db1", 3306), key("db2", 3306)
	saveKeys(t, s, a, b)
	valid := store.Cluster{Name: "orders", Master: a, Members: []topology.InstanceKey{a, b}}
	replaceClusters(t, s, valid)

	tests := map[string][]store.Cluster{
		"empty name":             {{Name: "", Members: []topology.InstanceKey{a}}},
		"name twice":             {{Name: "x", Members: []topology.InstanceKey{a}}, {Name: "x", Members: []topology.InstanceKey{b}}},
		"member in two clusters": {{Name: "x", Members: []topology.InstanceKey{a}}, {Name: "y", Members: []topology.InstanceKey{a, b}}},
		"member with port 0":     {{Name: "x", Members: []topology.InstanceKey{{Host: "db1"}}}},
		"master with empty host": {{Name: "x", Master: topology.InstanceKey{Port: 3306}}},
	}
	for name, clusters := range tests {
		if err := s.ReplaceClusters(context.Background(), clusters); !errors.Is(err, store.ErrInvalidArgument) {
			t.Errorf("ReplaceClusters with %s: error = %v, want ErrInvalidArgument", name, err)
		}
	}
	checkClusters(t, s, []store.Cluster{valid})
	checkAssignment(t, s, map[topology.InstanceKey]string{a: "orders", b: "orders"})

	// The same member listed twice in one cluster is not a conflict.
	replaceClusters(t, s, store.Cluster{Name: "orders", Master: a, Members: []topology.InstanceKey{a, b, a}})
	checkClusters(t, s, []store.Cluster{valid})
}

func testClustersConcurrent(t *testing.T, s store.Store) {
	const instances, rounds = 40, 15
	keys := make([]topology.InstanceKey, instances)
	for i := range keys {
		keys[i] = key(fmt.Sprintf("db%02d", i), 3306)
	}
	saveKeys(t, s, keys...)
	// Analyzer w splits the instances into w+2 clusters, while a discovery
	// writer keeps saving all of them.
	layout := func(w int) []store.Cluster {
		clusters := make([]store.Cluster, w+2)
		for i, k := range keys {
			c := &clusters[i%len(clusters)]
			c.Name = fmt.Sprintf("c%d", i%len(clusters))
			c.Master = keys[i%len(clusters)]
			c.Members = append(c.Members, k)
		}
		return clusters
	}
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for w := range 2 {
		wg.Go(func() {
			for range rounds {
				if err := s.ReplaceClusters(context.Background(), layout(w)); err != nil {
					errs <- fmt.Errorf("analyzer %d: %w", w, err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for r := range rounds {
			snaps := make([]*topologyv1.Snapshot, instances)
			for i, k := range keys {
				snaps[i] = NewSnapshot(k, at(2+r), true)
			}
			if err := s.SaveSnapshots(context.Background(), snaps); err != nil {
				errs <- fmt.Errorf("discovery: %w", err)
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got := listClusters(t, s)
	if len(got) != 2 && len(got) != 3 {
		t.Fatalf("ListClusters returned %d clusters, want the 2 or 3 of one layout", len(got))
	}
	want := layout(len(got) - 2)
	for i := range want {
		slices.SortFunc(want[i].Members, topology.CompareKeys)
	}
	checkClusters(t, s, want)
}
