package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

func testSaveNew(t *testing.T, s store.Store) {
	a, b := key("db1", 3306), key("db2", 3307)
	snapA, snapB := NewSnapshot(a, at(1), true), NewSnapshot(b, at(2), false)
	w := startWindow()
	save(t, s, snapA, snapB)
	w.end()

	gotA := get(t, s, a)
	checkInstance(t, gotA, store.Instance{Key: a, Snapshot: snapA, FirstSeen: at(1), LastSeen: at(1)})
	w.check(t, "UpdatedAt", gotA.UpdatedAt)
	gotB := get(t, s, b)
	checkInstance(t, gotB, store.Instance{Key: b, Snapshot: snapB, FirstSeen: at(2)})
	w.check(t, "UpdatedAt", gotB.UpdatedAt)
}

func testSaveUpsert(t *testing.T, s store.Store) {
	a, b, c := key("db1", 3306), key("db2", 3306), key("db3", 3306)
	save(t, s, NewSnapshot(a, at(1), true), NewSnapshot(b, at(1), true))

	newA, newB, newC := NewSnapshot(a, at(2), true), NewSnapshot(b, at(3), false), NewSnapshot(c, at(3), true)
	w := startWindow()
	save(t, s, newA, newB, newC)
	w.end()

	list, err := s.ListInstances(context.Background())
	if err != nil {
		t.Fatalf("ListInstances: %v", err)
	}
	if len(list) != 3 {
		t.Fatalf("ListInstances returned %d instances, want 3", len(list))
	}
	checkInstance(t, list[0], store.Instance{Key: a, Snapshot: newA, FirstSeen: at(1), LastSeen: at(2)})
	checkInstance(t, list[1], store.Instance{Key: b, Snapshot: newB, FirstSeen: at(1), LastSeen: at(1)})
	checkInstance(t, list[2], store.Instance{Key: c, Snapshot: newC, FirstSeen: at(3), LastSeen: at(3)})
	for _, inst := range list {
		w.check(t, inst.Key.String()+" UpdatedAt", inst.UpdatedAt)
	}
}

func testSaveOlder(t *testing.T, s store.Store) {
	a := key("db1", 3306)
	newer := NewSnapshot(a, at(10), true)
	save(t, s, newer)
	before := get(t, s, a)

	save(t, s, NewSnapshot(a, at(5), true))
	save(t, s, NewSnapshot(a, at(9), false))
	checkInstance(t, get(t, s, a), before)
}

func testSaveSameTime(t *testing.T, s store.Store) {
	a := key("db1", 3306)
	save(t, s, NewSnapshot(a, at(10), true))
	again := NewSnapshot(a, at(10), true)
	again.ObserverId = "discovery-other"
	save(t, s, again)
	checkInstance(t, get(t, s, a), store.Instance{Key: a, Snapshot: again, FirstSeen: at(10), LastSeen: at(10)})
}

// noPrivilege returns a probe that reached the instance but lacked a
// privilege for part of what it reads: reachable, yet not good.
func noPrivilege(k topology.InstanceKey, finished time.Time) *topologyv1.Snapshot {
	s := NewSnapshot(k, finished, true)
	s.Partial, s.ErrorClass, s.ErrorNumber = true, topologyv1.ErrorClass_ERROR_CLASS_PRIVILEGE, 1227
	s.Channels = nil
	return s
}

func testLastSeen(t *testing.T, s store.Store) {
	a, never := key("db1", 3306), key("db9", 3306)
	steps := []struct {
		name         string
		snaps        []*topologyv1.Snapshot
		wantSnapshot *topologyv1.Snapshot
		wantLastSeen time.Time
	}{
		{name: "reachable sets it", snaps: []*topologyv1.Snapshot{NewSnapshot(a, at(1), true)}, wantLastSeen: at(1)},
		{name: "unreachable keeps it", snaps: []*topologyv1.Snapshot{NewSnapshot(a, at(5), false)}, wantLastSeen: at(1)},
		{
			name:         "older reachable moves it but not the snapshot",
			snaps:        []*topologyv1.Snapshot{NewSnapshot(a, at(3), true)},
			wantSnapshot: NewSnapshot(a, at(5), false),
			wantLastSeen: at(3),
		},
		{
			name:         "older reachable than LastSeen changes nothing",
			snaps:        []*topologyv1.Snapshot{NewSnapshot(a, at(2), true)},
			wantSnapshot: NewSnapshot(a, at(5), false),
			wantLastSeen: at(3),
		},
		{
			name:         "reachable and newer unreachable in one batch",
			snaps:        []*topologyv1.Snapshot{NewSnapshot(a, at(7), true), NewSnapshot(a, at(8), false)},
			wantSnapshot: NewSnapshot(a, at(8), false),
			wantLastSeen: at(7),
		},
		{name: "reachable again", snaps: []*topologyv1.Snapshot{NewSnapshot(a, at(9), true)}, wantLastSeen: at(9)},
		{
			name:         "reachable without a privilege keeps it",
			snaps:        []*topologyv1.Snapshot{noPrivilege(a, at(10))},
			wantLastSeen: at(9),
		},
	}
	for _, step := range steps {
		save(t, s, step.snaps...)
		want := step.wantSnapshot
		if want == nil {
			want = step.snaps[len(step.snaps)-1]
		}
		got := get(t, s, a)
		if !sameProbe(got.Snapshot, want) || !got.LastSeen.Equal(step.wantLastSeen) {
			t.Errorf("after %s: snapshot of %v reachable=%v, LastSeen %v; want snapshot of %v reachable=%v, LastSeen %v",
				step.name, got.Snapshot.GetProbeFinished().AsTime(), got.Snapshot.GetReachable(), got.LastSeen,
				want.GetProbeFinished().AsTime(), want.GetReachable(), step.wantLastSeen)
		}
		if wantGood := NewSnapshot(a, step.wantLastSeen, true); !proto.Equal(got.LastGood, wantGood) {
			t.Errorf("after %s: LastGood = snapshot of %v reachable=%v, want the good snapshot of %v",
				step.name, got.LastGood.GetProbeFinished().AsTime(), got.LastGood.GetReachable(), step.wantLastSeen)
		}
	}

	save(t, s, NewSnapshot(never, at(1), false), noPrivilege(never, at(2)))
	if got := get(t, s, never); !got.LastSeen.IsZero() || got.LastGood != nil {
		t.Errorf("instance never reached: LastSeen %v, LastGood %v; want zero and nil", got.LastSeen, got.LastGood)
	}
}

func testSaveDuplicates(t *testing.T, s store.Store) {
	a, b := key("db1", 3306), key("db2", 3306)
	tieFirst, tieLast := NewSnapshot(b, at(4), true), NewSnapshot(b, at(4), true)
	tieFirst.ObserverId, tieLast.ObserverId = "first", "last"
	newest := NewSnapshot(a, at(3), false)
	save(t, s,
		NewSnapshot(a, at(1), true), tieFirst, newest, NewSnapshot(a, at(2), true), tieLast,
	)
	checkInstance(t, get(t, s, a), store.Instance{Key: a, Snapshot: newest, FirstSeen: at(3), LastSeen: at(2)})
	checkInstance(t, get(t, s, b), store.Instance{Key: b, Snapshot: tieLast, FirstSeen: at(4), LastSeen: at(4)})
}

func testSaveKeepsCluster(t *testing.T, s store.Store) {
	a := key("db1", 3306)
	save(t, s, NewSnapshot(a, at(1), true))
	replaceClusters(t, s, store.Cluster{Name: "orders", Master: a, Members: []topology.InstanceKey{a}})
	save(t, s, NewSnapshot(a, at(2), true))
	if got := get(t, s, a); got.Cluster != "orders" {
		t.Errorf("Cluster after SaveSnapshots = %q, want %q", got.Cluster, "orders")
	}
}

func testSaveInvalid(t *testing.T, s store.Store) {
	good := NewSnapshot(key("db1", 3306), at(1), true)
	noFinished := NewSnapshot(key("db2", 3306), at(1), true)
	noFinished.ProbeFinished = nil
	badFinished := NewSnapshot(key("db2", 3306), at(1), true)
	badFinished.ProbeFinished = &timestamppb.Timestamp{Seconds: 1, Nanos: -1}
	noKey := NewSnapshot(key("db2", 3306), at(1), true)
	noKey.Key = nil
	noPort := NewSnapshot(key("db2", 3306), at(1), true)
	noPort.Key.Port = 0
	bigPort := NewSnapshot(key("db2", 3306), at(1), true)
	bigPort.Key.Port = 70000
	noHost := NewSnapshot(key("db2", 3306), at(1), true)
	noHost.Key.Host = ""

	tests := map[string]*topologyv1.Snapshot{
		"nil snapshot":           nil,
		"no probe_finished":      noFinished,
		"invalid probe_finished": badFinished,
		"no key":                 noKey,
		"port 0":                 noPort,
		"port above 65535":       bigPort,
		"empty host":             noHost,
	}
	for name, bad := range tests {
		err := s.SaveSnapshots(context.Background(), []*topologyv1.Snapshot{good, bad})
		if !errors.Is(err, store.ErrInvalidArgument) {
			t.Errorf("SaveSnapshots with %s: error = %v, want ErrInvalidArgument", name, err)
		}
	}
	list, err := s.ListInstances(context.Background())
	if err != nil {
		t.Fatalf("ListInstances: %v", err)
	}
	if len(list) != 0 {
		t.Errorf("refused batches stored %d instances, want none", len(list))
	}
}

func testSaveEmpty(t *testing.T, s store.Store) {
	for _, batch := range [][]*topologyv1.Snapshot{nil, {}} {
		if err := s.SaveSnapshots(context.Background(), batch); err != nil {
			t.Errorf("SaveSnapshots(%#v): %v", batch, err)
		}
	}
	list, err := s.ListInstances(context.Background())
	if err != nil || len(list) != 0 {
		t.Errorf("ListInstances after empty batches = %d instances, %v; want none", len(list), err)
	}
}

func testSaveThousand(t *testing.T, s store.Store) {
	const n = 1000
	batch := func(finished time.Time) []*topologyv1.Snapshot {
		snaps := make([]*topologyv1.Snapshot, n)
		for i := range snaps {
			snaps[i] = NewSnapshot(key(fmt.Sprintf("db%04d.dc1.example.com", n-1-i), 3306), finished, i%10 != 0)
		}
		return snaps
	}
	save(t, s, batch(at(1))...)
	second := batch(at(2))
	save(t, s, second...)

	list, err := s.ListInstances(context.Background())
	if err != nil {
		t.Fatalf("ListInstances: %v", err)
	}
	if len(list) != n {
		t.Fatalf("ListInstances returned %d instances, want %d", len(list), n)
	}
	for i, inst := range list {
		snap := second[n-1-i]
		lastSeen := at(2)
		if !snap.GetReachable() {
			lastSeen = at(1)
			if (n-1-i)%10 == 0 {
				lastSeen = time.Time{}
			}
		}
		checkInstance(t, inst, store.Instance{Key: inst.Key, Snapshot: snap, FirstSeen: at(1), LastSeen: lastSeen})
		if t.Failed() {
			t.FailNow()
		}
	}
}

func testSaveConcurrent(t *testing.T, s store.Store) {
	const writers, rounds, instances = 4, 10, 50
	// Writer w walks the keys with step w+1, so the writers overlap in
	// different orders, and stamps its snapshots at(round*writers + w).
	keyOf := func(w, i int) topology.InstanceKey { return key(fmt.Sprintf("db%02d", (i*(w+1))%instances), 3306) }
	want := make(map[topology.InstanceKey]time.Time)
	for w := range writers {
		for i := range instances {
			want[keyOf(w, i)] = at((rounds-1)*writers + w)
		}
	}

	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for r := range rounds {
				snaps := make([]*topologyv1.Snapshot, instances)
				for i := range snaps {
					snaps[i] = NewSnapshot(keyOf(w, i), at(r*writers+w), true)
				}
				if err := s.SaveSnapshots(context.Background(), snaps); err != nil {
					errs <- fmt.Errorf("writer %d round %d: %w", w, r, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	list, err := s.ListInstances(context.Background())
	if err != nil {
		t.Fatalf("ListInstances: %v", err)
	}
	if len(list) != len(want) {
		t.Fatalf("ListInstances returned %d instances, want %d", len(list), len(want))
	}
	for _, inst := range list {
		got := inst.Snapshot.GetProbeFinished().AsTime()
		if !got.Equal(want[inst.Key]) || !inst.LastSeen.Equal(want[inst.Key]) {
			t.Errorf("%s: snapshot of %v, LastSeen %v; want both %v", inst.Key, got, inst.LastSeen, want[inst.Key])
		}
	}
}

func testTimes(t *testing.T, s store.Store) {
	a := key("db1", 3306)
	finished := time.Date(2030, time.March, 4, 5, 6, 7, 891234567, time.UTC)
	save(t, s, NewSnapshot(a, finished, true))
	got := get(t, s, a)
	want := finished.Truncate(time.Microsecond)
	checkTime(t, "FirstSeen", got.FirstSeen, want)
	checkTime(t, "LastSeen", got.LastSeen, want)
	if got.UpdatedAt.Location() != time.UTC || got.UpdatedAt.Nanosecond()%1000 != 0 {
		t.Errorf("UpdatedAt = %v, want UTC in whole microseconds", got.UpdatedAt)
	}
	if ns := got.Snapshot.GetProbeFinished().GetNanos(); ns != 891234567 {
		t.Errorf("stored snapshot probe_finished nanos = %d, want the snapshot unchanged (891234567)", ns)
	}
}

func testListOrdered(t *testing.T, s store.Store) {
	keys := []topology.InstanceKey{
		key("db2", 3307), key("db10", 3306), key("Db1", 3306), key("db2", 3306),
		key("a-b", 3306), key("ab", 3306), key("a_b", 3306), key("db2", 10000), key("10.0.0.2", 3306),
	}
	snaps := make([]*topologyv1.Snapshot, len(keys))
	for i, k := range keys {
		snaps[i] = NewSnapshot(k, at(i), true)
	}
	save(t, s, snaps...)
	list, err := s.ListInstances(context.Background())
	if err != nil {
		t.Fatalf("ListInstances: %v", err)
	}
	got := make([]topology.InstanceKey, len(list))
	for i, inst := range list {
		got[i] = inst.Key
	}
	want := slices.Clone(keys)
	slices.SortFunc(want, topology.CompareKeys)
	if !slices.Equal(got, want) {
		t.Errorf("ListInstances order = %v, want %v", got, want)
	}
}

func testGetNotFound(t *testing.T, s store.Store) {
	save(t, s, NewSnapshot(key("db1", 3306), at(1), true))
	for _, k := range []topology.InstanceKey{key("db1", 3307), key("db2", 3306)} {
		if _, err := s.GetInstance(context.Background(), k); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetInstance(%s) error = %v, want ErrNotFound", k, err)
		}
	}
}

func testDelete(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := key("db1", 3306), key("db2", 3306)
	save(t, s, NewSnapshot(a, at(1), true), NewSnapshot(b, at(1), true))
	replaceClusters(t, s, store.Cluster{Name: "orders", Master: a, Members: []topology.InstanceKey{a, b}})

	if err := s.DeleteInstance(ctx, b); err != nil {
		t.Fatalf("DeleteInstance(%s): %v", b, err)
	}
	if _, err := s.GetInstance(ctx, b); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetInstance(%s) after delete: error = %v, want ErrNotFound", b, err)
	}
	if err := s.DeleteInstance(ctx, b); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteInstance(%s) twice: error = %v, want ErrNotFound", b, err)
	}
	list, err := s.ListInstances(ctx)
	if err != nil || len(list) != 1 || list[0].Key != a {
		t.Errorf("ListInstances after delete = %v, %v; want only %s", list, err, a)
	}
	clusters := listClusters(t, s)
	if len(clusters) != 1 || !slices.Equal(clusters[0].Members, []topology.InstanceKey{a}) {
		t.Errorf("ListClusters after deleting a member = %+v, want orders with members [%s]", clusters, a)
	}
}

// sameProbe reports whether two snapshots have the same probe_finished and reachability.
func sameProbe(a, b *topologyv1.Snapshot) bool {
	return a.GetProbeFinished().AsTime().Equal(b.GetProbeFinished().AsTime()) && a.GetReachable() == b.GetReachable()
}
