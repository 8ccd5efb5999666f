package backend

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/store/postgres/pgtest"
	"github.com/vigil-db/vigil/pkg/store/storetest"
	"github.com/vigil-db/vigil/pkg/topology"
	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

func openStore(t *testing.T, url string) store.Store {
	t.Helper()
	st, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

// TestCopyRoundTrip fills an embedded store with every kind of state,
// copies it to PostgreSQL and from there to a second embedded store: all
// three hold the same state, and a copy into a store that is not empty is
// refused.
func TestCopyRoundTrip(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	first := openStore(t, "sqlite://"+filepath.Join(t.TempDir(), "vigil.db"))
	fill(t, first, now)

	pg := openStore(t, pgtest.NewDSN(t))
	if _, err := store.Copy(ctx, first, pg, now); err != nil {
		t.Fatalf("copy to PostgreSQL: %v", err)
	}
	last := openStore(t, "sqlite://"+filepath.Join(t.TempDir(), "again.db"))
	copied, err := store.Copy(ctx, pg, last, now)
	if err != nil {
		t.Fatalf("copy back: %v", err)
	}
	want := store.Copied{Instances: 2, Registered: 1, Clusters: 1, Detections: 2, Recoveries: 2, Downtimes: 1, Candidates: 1, GlobalSwitch: true}
	if copied != want {
		t.Errorf("copied %+v, want %+v", copied, want)
	}
	for name, st := range map[string]store.Store{"PostgreSQL": pg, "the second embedded store": last} {
		same(t, name, first, st, now)
	}
	if _, err := store.Copy(ctx, first, pg, now); !errors.Is(err, store.ErrNotEmpty) {
		t.Errorf("copy into a store with state: error = %v, want ErrNotEmpty", err)
	}
}

// fill writes one of everything a store keeps.
func fill(t *testing.T, s store.Store, now time.Time) {
	t.Helper()
	ctx := context.Background()
	m, r := topology.InstanceKey{Host: "db1", Port: 3306}, topology.InstanceKey{Host: "db2", Port: 3306}
	down := storetest.NewSnapshot(r, now, false)
	must(t, s.SaveSnapshots(ctx, []*topologyv1.Snapshot{
		storetest.NewSnapshot(m, now, true), storetest.NewSnapshot(r, now.Add(-time.Minute), true), down,
	}))
	must(t, s.RegisterInstances(ctx, []topology.InstanceKey{{Host: "db3", Port: 3306}}))
	must(t, s.ReplaceClusters(ctx, []store.Cluster{{Name: "db1:3306", Alias: "orders", Domain: "eu", Master: m, Members: []topology.InstanceKey{m, r}}}))
	must(t, s.SetGlobalRecoveries(ctx, store.GlobalRecoveries{Enabled: false, UpdatedBy: "alice", UpdatedAt: now}))
	cleared := storetest.NewDetection("d2", "db1:3306", r, now.Add(-time.Hour))
	cleared.State, cleared.ClearedAt = analyzerv1.DetectionState_DETECTION_STATE_CLEARED, timestamppb.New(now)
	must(t, s.SaveDetections(ctx, []*analyzerv1.Detection{storetest.NewDetection("d1", "db1:3306", m, now), cleared}))
	must(t, s.SaveRecovery(ctx, storetest.NewRecovery("r1", "db1:3306", 1)))
	must(t, s.SaveRecovery(ctx, storetest.NewRecovery("r2", "db1:3306", 2)))
	if _, err := s.AcknowledgeRecoveries(ctx, store.Acknowledgement{ID: "r1", By: "bob", Comment: "seen", At: now}); err != nil {
		t.Fatal(err)
	}
	must(t, s.BeginDowntime(ctx, store.Downtime{Key: r, Owner: "carol", Reason: "disk", StartedAt: now, EndsAt: now.Add(time.Hour)}))
	must(t, s.RegisterCandidate(ctx, store.Candidate{Key: r, Rule: topologyv1.PromotionRule_PROMOTION_RULE_PREFER,
		By: "dave", RegisteredAt: now, ExpiresAt: now.Add(time.Hour)}))
}

// same fails unless b holds what a holds.
func same(t *testing.T, name string, a, b store.Store, now time.Time) {
	t.Helper()
	ctx := context.Background()
	ia, err := a.ListInstances(ctx)
	must(t, err)
	ib, err := b.ListInstances(ctx)
	must(t, err)
	if len(ia) != len(ib) {
		t.Fatalf("%s: %d instances, want %d", name, len(ib), len(ia))
	}
	for i := range ia {
		x, y := ia[i], ib[i]
		if x.Key != y.Key || x.Cluster != y.Cluster || !x.LastSeen.Equal(y.LastSeen) ||
			!proto.Equal(x.Snapshot, y.Snapshot) || !proto.Equal(x.LastGood, y.LastGood) {
			t.Errorf("%s: instance %v, want %v", name, y, x)
		}
	}
	equal(t, name+": instance keys", a.ListInstanceKeys, b.ListInstanceKeys)
	equal(t, name+": clusters", a.ListClusters, b.ListClusters)
	equal(t, name+": global recoveries", a.GetGlobalRecoveries, b.GetGlobalRecoveries)
	equal(t, name+": downtimes", func(ctx context.Context) ([]store.Downtime, error) { return a.ListDowntimes(ctx, now) },
		func(ctx context.Context) ([]store.Downtime, error) { return b.ListDowntimes(ctx, now) })
	equal(t, name+": candidates", func(ctx context.Context) ([]store.Candidate, error) { return a.ListCandidates(ctx, now) },
		func(ctx context.Context) ([]store.Candidate, error) { return b.ListCandidates(ctx, now) })
	da, _, err := a.ListDetections(ctx, store.DetectionFilter{})
	must(t, err)
	db, _, err := b.ListDetections(ctx, store.DetectionFilter{})
	must(t, err)
	if len(da) != len(db) {
		t.Fatalf("%s: %d detections, want %d", name, len(db), len(da))
	}
	for i := range da {
		if !proto.Equal(da[i], db[i]) {
			t.Errorf("%s: detection %v, want %v", name, db[i], da[i])
		}
	}
	for _, id := range []string{"r1", "r2"} {
		ra, err := a.GetRecovery(ctx, id)
		must(t, err)
		rb, err := b.GetRecovery(ctx, id)
		must(t, err)
		if !proto.Equal(ra, rb) {
			t.Errorf("%s: recovery %v, want %v", name, rb, ra)
		}
	}
}

// equal fails unless both reads return equal values.
func equal[T any](t *testing.T, what string, a, b func(context.Context) (T, error)) {
	t.Helper()
	x, err := a(context.Background())
	must(t, err)
	y, err := b(context.Background())
	must(t, err)
	if !reflect.DeepEqual(x, y) {
		t.Errorf("%s: %+v, want %+v", what, y, x)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
