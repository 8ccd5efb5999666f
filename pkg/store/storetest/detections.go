package storetest

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/topology"
	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
)

// NewDetection returns a started DeadMaster detection of the master key of
// cluster (alias cluster+"-eu"), detected at detected, with the evidence of
// two observers.
func NewDetection(id, cluster string, key topology.InstanceKey, detected time.Time) *analyzerv1.Detection {
	replica := topology.InstanceKey{Host: "db-" + cluster + "-9.dc1.example.com", Port: 3306}
	return &analyzerv1.Detection{
		Id:              id,
		Code:            "DeadMaster",
		Cluster:         cluster,
		ClusterAlias:    cluster + "-eu",
		Instance:        key.Proto(),
		State:           analyzerv1.DetectionState_DETECTION_STATE_STARTED,
		DetectedAt:      timestamppb.New(detected),
		ChangedAt:       timestamppb.New(detected),
		SuggestedAction: analyzerv1.Action_ACTION_RECOVER_MASTER,
		Description:     fmt.Sprintf("master %s is unreachable and its replicas lost it", key),
		Evidence: []*analyzerv1.Evidence{
			{Instance: key.Proto(), ObserverId: "discovery-dc1", ObservedAt: timestamppb.New(detected), Statement: "unreachable: connection refused"},
			{Instance: replica.Proto(), ObserverId: "discovery-dc1", ObservedAt: timestamppb.New(detected), Statement: "replica IO thread Connecting (errno 2003)"},
		},
	}
}

func saveDetections(t *testing.T, s store.Store, ds ...*analyzerv1.Detection) {
	t.Helper()
	if err := s.SaveDetections(context.Background(), ds); err != nil {
		t.Fatalf("SaveDetections(%d detections): %v", len(ds), err)
	}
}

// listDetections returns every detection f selects, reading page after page.
func listDetections(t *testing.T, s store.Store, f store.DetectionFilter) []*analyzerv1.Detection {
	t.Helper()
	var all []*analyzerv1.Detection
	for page := 0; ; page++ {
		ds, next, err := s.ListDetections(context.Background(), f)
		if err != nil {
			t.Fatalf("ListDetections(%+v): %v", f, err)
		}
		all = append(all, ds...)
		if next == "" {
			return all
		}
		if page > 1000 {
			t.Fatalf("ListDetections(%+v) is still returning pages after %d", f, page)
		}
		f.PageToken = next
	}
}

func ids(ds []*analyzerv1.Detection) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.GetId()
	}
	return out
}

// checkDetections compares got with want, message by message.
func checkDetections(t *testing.T, what string, got, want []*analyzerv1.Detection) {
	t.Helper()
	if !slices.Equal(ids(got), ids(want)) {
		t.Errorf("%s = %q, want %q", what, ids(got), ids(want))
		return
	}
	for i := range want {
		if !proto.Equal(got[i], want[i]) {
			t.Errorf("%s: detection %q =\n\t%v\nwant\n\t%v", what, want[i].GetId(), got[i], want[i])
		}
	}
}

func testDetectionsUpsert(t *testing.T, s store.Store) {
	a, b, c := key("db1", 3306), key("db2", 3306), key("db3", 3306)
	d1, d2 := NewDetection("d1", "orders", a, at(1)), NewDetection("d2", "users", b, at(2))
	saveDetections(t, s, d1, d2)
	checkDetections(t, "ListDetections after saving", listDetections(t, s, store.DetectionFilter{}), []*analyzerv1.Detection{d2, d1})

	update := proto.CloneOf(d1)
	update.State = analyzerv1.DetectionState_DETECTION_STATE_CHANGED
	update.ChangedAt = timestamppb.New(at(5))
	update.SuggestedAction = analyzerv1.Action_ACTION_DETECT_ONLY
	update.Description = "master is unreachable, one replica still replicates"
	update.Evidence = update.Evidence[:1]
	update.Downtimed = true
	want := proto.CloneOf(update)
	// A detection keeps the identity it was first saved with.
	update.Code, update.Cluster, update.ClusterAlias = "UnreachableMaster", "users", "users-eu"
	update.Instance, update.DetectedAt = c.Proto(), timestamppb.New(at(9))
	saveDetections(t, s, update)

	checkDetections(t, "ListDetections after updating d1", listDetections(t, s, store.DetectionFilter{}), []*analyzerv1.Detection{d2, want})
	checkDetections(t, "ListDetections of orders", listDetections(t, s, store.DetectionFilter{Cluster: "orders"}), []*analyzerv1.Detection{want})
	checkDetections(t, "ListDetections of users", listDetections(t, s, store.DetectionFilter{Cluster: "users"}), []*analyzerv1.Detection{d2})
	checkDetections(t, "ListDetections of "+c.String(), listDetections(t, s, store.DetectionFilter{Instance: c}), nil)
	checkDetections(t, "ListDetections of "+a.String(), listDetections(t, s, store.DetectionFilter{Instance: a}), []*analyzerv1.Detection{want})
}

func testDetectionsDuplicates(t *testing.T, s store.Store) {
	a := key("db1", 3306)
	first := NewDetection("d1", "orders", a, at(1))
	last := NewDetection("d1", "users", key("db2", 3306), at(3))
	last.State, last.Description = analyzerv1.DetectionState_DETECTION_STATE_CHANGED, "the last in the batch"
	saveDetections(t, s, first, NewDetection("d2", "orders", a, at(2)), last)

	want := proto.CloneOf(last)
	want.Cluster, want.ClusterAlias, want.Instance, want.DetectedAt = first.Cluster, first.ClusterAlias, first.Instance, first.DetectedAt
	got := listDetections(t, s, store.DetectionFilter{Cluster: "orders"})
	checkDetections(t, "ListDetections", got, []*analyzerv1.Detection{NewDetection("d2", "orders", a, at(2)), want})
}

func testDetectionsClear(t *testing.T, s store.Store) {
	d1, d2 := NewDetection("d1", "orders", key("db1", 3306), at(1)), NewDetection("d2", "orders", key("db2", 3306), at(2))
	saveDetections(t, s, d1, d2)
	checkDetections(t, "active detections", listDetections(t, s, store.DetectionFilter{ActiveOnly: true}), []*analyzerv1.Detection{d2, d1})

	cleared := proto.CloneOf(d1)
	cleared.State = analyzerv1.DetectionState_DETECTION_STATE_CLEARED
	cleared.ChangedAt, cleared.ClearedAt = timestamppb.New(at(10)), timestamppb.New(at(10))
	saveDetections(t, s, cleared)
	checkDetections(t, "active detections after clearing d1", listDetections(t, s, store.DetectionFilter{ActiveOnly: true}), []*analyzerv1.Detection{d2})
	checkDetections(t, "active detections of orders after clearing d1",
		listDetections(t, s, store.DetectionFilter{Cluster: "orders", ActiveOnly: true}), []*analyzerv1.Detection{d2})
	checkDetections(t, "all detections after clearing d1", listDetections(t, s, store.DetectionFilter{}), []*analyzerv1.Detection{d2, cleared})
}

func testDetectionsFilter(t *testing.T, s store.Store) {
	a, b, c := key("db1", 3306), key("db2", 3306), key("db3", 3306)
	o1 := NewDetection("o1", "orders", a, at(1))
	o2 := NewDetection("o2", "orders", b, at(2))
	o2.ClearedAt = timestamppb.New(at(3))
	u1 := NewDetection("u1", "users", c, at(3))
	u1.ClusterAlias = ""
	// A cluster whose alias is another cluster's name.
	x1 := NewDetection("x1", "db5:3306", a, at(4))
	x1.ClusterAlias = "orders"
	saveDetections(t, s, o1, o2, u1, x1)

	tests := []struct {
		name   string
		filter store.DetectionFilter
		want   []string
	}{
		{"all", store.DetectionFilter{}, []string{"x1", "u1", "o2", "o1"}},
		{"cluster name or alias", store.DetectionFilter{Cluster: "orders"}, []string{"x1", "o2", "o1"}},
		{"cluster alias", store.DetectionFilter{Cluster: "orders-eu"}, []string{"o2", "o1"}},
		{"cluster without alias", store.DetectionFilter{Cluster: "users"}, []string{"u1"}},
		{"unknown cluster", store.DetectionFilter{Cluster: "nope"}, nil},
		{"instance", store.DetectionFilter{Instance: a}, []string{"x1", "o1"}},
		{"instance on another port", store.DetectionFilter{Instance: key("db1", 3307)}, nil},
		{"cluster and instance", store.DetectionFilter{Cluster: "orders-eu", Instance: a}, []string{"o1"}},
		{"active", store.DetectionFilter{ActiveOnly: true}, []string{"x1", "u1", "o1"}},
		{"active of cluster", store.DetectionFilter{Cluster: "orders", ActiveOnly: true}, []string{"x1", "o1"}},
		{"active of instance", store.DetectionFilter{Instance: b, ActiveOnly: true}, nil},
		{"every filter, paged", store.DetectionFilter{Cluster: "orders", Instance: a, ActiveOnly: true, PageSize: 1}, []string{"x1", "o1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ids(listDetections(t, s, tt.filter)); !slices.Equal(got, tt.want) {
				t.Errorf("ListDetections(%+v) = %q, want %q", tt.filter, got, tt.want)
			}
		})
	}
}

func testDetectionsOrder(t *testing.T, s store.Store) {
	a := key("db1", 3306)
	in := []struct {
		id string
		at time.Time
	}{
		{"old", at(1)}, {"d-10", at(5)}, {"n1", at(7).Add(999 * time.Nanosecond)}, {"D-1", at(5)},
		{"older", at(-100000)}, {"d_1", at(5)}, {"n2", at(7)}, {"d-9", at(5)},
	}
	var ds []*analyzerv1.Detection
	for _, d := range in {
		ds = append(ds, NewDetection(d.id, "orders", a, d.at))
	}
	saveDetections(t, s, ds...)
	// Newest first at microsecond precision (n1 and n2 tie), then ids
	// bytewise descending.
	want := []string{"n2", "n1", "d_1", "d-9", "d-10", "D-1", "old", "older"}
	for _, size := range []int{0, 1, 3} {
		if got := ids(listDetections(t, s, store.DetectionFilter{PageSize: size})); !slices.Equal(got, want) {
			t.Errorf("ListDetections with page size %d = %q, want %q", size, got, want)
		}
	}
	got := listDetections(t, s, store.DetectionFilter{})
	if ns := got[1].GetDetectedAt().GetNanos(); ns != int32(at(7).Nanosecond()+999) {
		t.Errorf("stored detected_at nanos of n1 = %d, want the detection unchanged (%d)", ns, at(7).Nanosecond()+999)
	}
}

func testDetectionsPages(t *testing.T, s store.Store) {
	const n = 250
	ds := make([]*analyzerv1.Detection, n)
	for i := range ds {
		// Three detections a second, so pages end inside a tie; every other
		// one of orders.
		cluster := "orders"
		if i%2 == 1 {
			cluster = "users"
		}
		ds[i] = NewDetection(fmt.Sprintf("det-%03d", (i*7)%n), cluster, key(fmt.Sprintf("db%d", i%5), 3306), at(i/3))
	}
	saveDetections(t, s, ds...)
	want := slices.Clone(ds)
	slices.SortFunc(want, func(a, b *analyzerv1.Detection) int {
		if c := b.GetDetectedAt().AsTime().Compare(a.GetDetectedAt().AsTime()); c != 0 {
			return c
		}
		return strings.Compare(b.GetId(), a.GetId())
	})

	ctx := context.Background()
	var got []*analyzerv1.Detection
	f := store.DetectionFilter{PageSize: 100}
	for i, wantLen := range []int{100, 100, 50} {
		page, next, err := s.ListDetections(ctx, f)
		if err != nil {
			t.Fatalf("ListDetections page %d: %v", i+1, err)
		}
		if len(page) != wantLen || (next == "") != (i == 2) {
			t.Fatalf("ListDetections page %d = %d detections and next token %q, want %d and a token only before the last page",
				i+1, len(page), next, wantLen)
		}
		got = append(got, page...)
		if i == 0 {
			// A newer detection saved meanwhile shifts no page.
			saveDetections(t, s, NewDetection("newest", "orders", key("db1", 3306), at(1000)))
		}
		f.PageToken = next
	}
	seen := make(map[string]bool)
	for _, d := range got {
		if seen[d.GetId()] {
			t.Errorf("detection %q listed twice", d.GetId())
		}
		seen[d.GetId()] = true
	}
	checkDetections(t, "ListDetections pages", got, want)

	orders := listDetections(t, s, store.DetectionFilter{Cluster: "orders", PageSize: 100})
	if len(orders) != n/2+1 {
		t.Errorf("ListDetections of orders by pages of 100 = %d detections, want %d", len(orders), n/2+1)
	}
}

func testDetectionsPageSize(t *testing.T, s store.Store) {
	const n = store.MaxPageSize + 1
	ds := make([]*analyzerv1.Detection, n)
	for i := range ds {
		ds[i] = NewDetection(fmt.Sprintf("det-%04d", i), "orders", key("db1", 3306), at(i))
	}
	saveDetections(t, s, ds...)
	tests := []struct{ size, want int }{
		{0, store.DefaultPageSize},
		{1, 1},
		{store.MaxPageSize, store.MaxPageSize},
		{store.MaxPageSize + 1, store.MaxPageSize},
		{1 << 30, store.MaxPageSize},
	}
	for _, tt := range tests {
		page, next, err := s.ListDetections(context.Background(), store.DetectionFilter{PageSize: tt.size})
		if err != nil || len(page) != tt.want || next == "" {
			t.Errorf("ListDetections with page size %d = %d detections, next token %q, %v; want %d and a token",
				tt.size, len(page), next, err, tt.want)
		}
	}
	if _, _, err := s.ListDetections(context.Background(), store.DetectionFilter{PageSize: -1}); !errors.Is(err, store.ErrInvalidArgument) {
		t.Errorf("ListDetections with page size -1: error = %v, want ErrInvalidArgument", err)
	}
}

func testDetectionsBadRequest(t *testing.T, s store.Store) {
	saveDetections(t, s, NewDetection("d1", "orders", key("db1", 3306), at(1)), NewDetection("d2", "orders", key("db1", 3306), at(2)))
	token := func(raw string) string { return base64.RawURLEncoding.EncodeToString([]byte(raw)) }
	tests := map[string]store.DetectionFilter{
		"token not base64":           {PageToken: "not a token!"},
		"token without id":           {PageToken: token("1893553445123456")},
		"token with an empty id":     {PageToken: token("1893553445123456/")},
		"token without a time":       {PageToken: token("/d1")},
		"token with a bad time":      {PageToken: token("soon/d1")},
		"token out of time range":    {PageToken: token("9223372036854775807/d1")},
		"token with padding":         {PageToken: base64.URLEncoding.EncodeToString([]byte("1893553445123456/d1"))},
		"token with a NUL id":        {PageToken: token("1893553445123456/d\x001")},
		"instance with port 0":       {Instance: topology.InstanceKey{Host: "db1"}},
		"instance with empty host":   {Instance: topology.InstanceKey{Port: 3306}},
		"instance with a bad host":   {Instance: topology.InstanceKey{Host: "db 1", Port: 3306}},
		"negative page size":         {PageSize: -5},
		"bad token and other filter": {Cluster: "orders", ActiveOnly: true, PageToken: "%%%"},
	}
	for name, f := range tests {
		if _, _, err := s.ListDetections(context.Background(), f); !errors.Is(err, store.ErrInvalidArgument) {
			t.Errorf("ListDetections with %s: error = %v, want ErrInvalidArgument", name, err)
		}
	}
	// A token stays valid when its detection is gone from the results.
	_, next, err := s.ListDetections(context.Background(), store.DetectionFilter{PageSize: 1})
	if err != nil || next == "" {
		t.Fatalf("ListDetections with page size 1 = token %q, %v; want a token", next, err)
	}
	page, next, err := s.ListDetections(context.Background(), store.DetectionFilter{Cluster: "users", PageToken: next})
	if err != nil || len(page) != 0 || next != "" {
		t.Errorf("ListDetections of another filter with that token = %d detections, token %q, %v; want none and no error", len(page), next, err)
	}
}

func testDetectionsInvalid(t *testing.T, s store.Store) {
	a := key("db1", 3306)
	stored := NewDetection("d0", "orders", a, at(1))
	saveDetections(t, s, stored)
	for _, batch := range [][]*analyzerv1.Detection{nil, {}} {
		if err := s.SaveDetections(context.Background(), batch); err != nil {
			t.Errorf("SaveDetections(%#v): %v", batch, err)
		}
	}

	update := proto.CloneOf(stored)
	update.Description = "changed by a refused batch"
	good := NewDetection("d1", "orders", a, at(2))
	bad := func(change func(d *analyzerv1.Detection)) *analyzerv1.Detection {
		d := NewDetection("d2", "orders", a, at(3))
		change(d)
		return d
	}
	tests := map[string]*analyzerv1.Detection{
		"nil detection":          nil,
		"empty id":               bad(func(d *analyzerv1.Detection) { d.Id = "" }),
		"empty code":             bad(func(d *analyzerv1.Detection) { d.Code = "" }),
		"no detected_at":         bad(func(d *analyzerv1.Detection) { d.DetectedAt = nil }),
		"invalid detected_at":    bad(func(d *analyzerv1.Detection) { d.DetectedAt = &timestamppb.Timestamp{Seconds: 1, Nanos: -1} }),
		"invalid changed_at":     bad(func(d *analyzerv1.Detection) { d.ChangedAt = &timestamppb.Timestamp{Seconds: 1 << 60} }),
		"invalid cleared_at":     bad(func(d *analyzerv1.Detection) { d.ClearedAt = &timestamppb.Timestamp{Nanos: 2e9} }),
		"no instance":            bad(func(d *analyzerv1.Detection) { d.Instance = nil }),
		"instance with port 0":   bad(func(d *analyzerv1.Detection) { d.Instance.Port = 0 }),
		"instance above 65535":   bad(func(d *analyzerv1.Detection) { d.Instance.Port = 70000 }),
		"instance without host":  bad(func(d *analyzerv1.Detection) { d.Instance.Host = "" }),
		"id with a NUL":          bad(func(d *analyzerv1.Detection) { d.Id = "d\x002" }),
		"cluster not UTF-8":      bad(func(d *analyzerv1.Detection) { d.Cluster = "orders\xff" }),
		"cluster alias with NUL": bad(func(d *analyzerv1.Detection) { d.ClusterAlias = "\x00" }),
	}
	for name, d := range tests {
		if err := s.SaveDetections(context.Background(), []*analyzerv1.Detection{update, good, d}); !errors.Is(err, store.ErrInvalidArgument) {
			t.Errorf("SaveDetections with %s: error = %v, want ErrInvalidArgument", name, err)
		}
	}
	checkDetections(t, "ListDetections after refused batches", listDetections(t, s, store.DetectionFilter{}), []*analyzerv1.Detection{stored})
}

func testDetectionsConcurrent(t *testing.T, s store.Store) {
	const writers, rounds, detections = 4, 10, 30
	// Writer w saves every detection as of cluster cw: the first to save a
	// detection sets its cluster for good, whichever writer that is.
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for r := range rounds {
				ds := make([]*analyzerv1.Detection, detections)
				for i := range ds {
					// Each writer walks the ids in its own order.
					id := (i*(w+1) + r) % detections
					ds[i] = NewDetection(fmt.Sprintf("det-%02d", id), fmt.Sprintf("c%d", w), key("db1", 3306), at(id))
					ds[i].Description = fmt.Sprintf("writer %d round %d", w, r)
				}
				if err := s.SaveDetections(context.Background(), ds); err != nil {
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
	all := listDetections(t, s, store.DetectionFilter{PageSize: store.MaxPageSize})
	if len(all) != detections {
		t.Fatalf("ListDetections returned %d detections, want %d", len(all), detections)
	}
	for _, d := range all {
		// The stored message and the columns filters use must agree.
		if got := ids(listDetections(t, s, store.DetectionFilter{Cluster: d.GetCluster()})); !slices.Contains(got, d.GetId()) {
			t.Errorf("detection %q of cluster %q is not listed for its cluster", d.GetId(), d.GetCluster())
		}
	}
}
