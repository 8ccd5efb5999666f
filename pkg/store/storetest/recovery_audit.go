package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/vigil-db/vigil/pkg/store"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// NewRecovery returns a succeeded DeadMaster recovery of cluster, started
// at the contract suite's time started (seconds after its epoch), with one step.
func NewRecovery(id, cluster string, started int) *recoveryv1.Recovery {
	return &recoveryv1.Recovery{
		Id:             id,
		DetectionId:    "det-" + id,
		Analysis:       "DeadMaster",
		Cluster:        cluster,
		ClusterAlias:   cluster + "-alias",
		FailedInstance: &topologyv1.InstanceKey{Host: "db-1", Port: 3306},
		Successor:      &topologyv1.InstanceKey{Host: "db-2", Port: 3306},
		LostReplicas:   []*recoveryv1.LostReplica{{Instance: &topologyv1.InstanceKey{Host: "db-3", Port: 3306}, Reason: "delayed"}},
		FencingToken:   42,
		StartedBy:      "automated",
		Outcome:        recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SUCCEEDED,
		StartedAt:      timestamppb.New(at(started)),
		EndedAt:        timestamppb.New(at(started + 1)),
		Steps:          []*recoveryv1.RecoveryStep{{Name: "promote", Ok: true, Message: "read_only=0", At: timestamppb.New(at(started))}},
	}
}

func saveRecovery(t *testing.T, s store.Store, r *recoveryv1.Recovery) {
	t.Helper()
	if err := s.SaveRecovery(context.Background(), r); err != nil {
		t.Fatalf("SaveRecovery(%s): %v", r.GetId(), err)
	}
}

func listRecoveries(t *testing.T, s store.Store, f store.RecoveryFilter) ([]*recoveryv1.Recovery, string) {
	t.Helper()
	list, next, err := s.ListRecoveries(context.Background(), f)
	if err != nil {
		t.Fatalf("ListRecoveries(%+v): %v", f, err)
	}
	return list, next
}

func recoveryIDs(list []*recoveryv1.Recovery) []string {
	var ids []string
	for _, r := range list {
		ids = append(ids, r.GetId())
	}
	return ids
}

func testRecoveriesSaveGet(t *testing.T, s store.Store) {
	ctx := context.Background()
	r := NewRecovery("r1", "c1", 0)
	r.Outcome = recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_RUNNING
	saveRecovery(t, s, r)
	r.Outcome = recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SUCCEEDED
	r.Steps = append(r.Steps, &recoveryv1.RecoveryStep{Name: "publish", Ok: true})
	saveRecovery(t, s, r)
	r.Steps[0].Name = "changed after save" // the store keeps its own copy

	got, err := s.GetRecovery(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	want := NewRecovery("r1", "c1", 0)
	want.Steps = append(want.Steps, &recoveryv1.RecoveryStep{Name: "publish", Ok: true})
	if !proto.Equal(got, want) {
		t.Errorf("GetRecovery = %v\nwant %v", got, want)
	}
	list, _ := listRecoveries(t, s, store.RecoveryFilter{})
	if len(list) != 1 || len(list[0].GetSteps()) != 0 || list[0].GetOutcome() != want.GetOutcome() {
		t.Errorf("ListRecoveries = %v, want r1 without steps", list)
	}
	if _, err := s.GetRecovery(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetRecovery(unknown) = %v, want ErrNotFound", err)
	}
}

func testRecoveriesFilterAndOrder(t *testing.T, s store.Store) {
	saveRecovery(t, s, NewRecovery("a", "c1", 1))
	saveRecovery(t, s, NewRecovery("b", "c2", 3))
	saveRecovery(t, s, NewRecovery("c", "c1", 2))
	saveRecovery(t, s, NewRecovery("d", "c1", 2)) // same started_at as c: greater id first

	for _, tt := range []struct {
		f    store.RecoveryFilter
		want []string
	}{
		{store.RecoveryFilter{}, []string{"b", "d", "c", "a"}},
		{store.RecoveryFilter{Cluster: "c1"}, []string{"d", "c", "a"}},
		{store.RecoveryFilter{Cluster: "c2-alias"}, []string{"b"}},
		{store.RecoveryFilter{DetectionID: "det-c"}, []string{"c"}},
		{store.RecoveryFilter{Cluster: "none"}, nil},
	} {
		list, _ := listRecoveries(t, s, tt.f)
		if got := recoveryIDs(list); fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("ListRecoveries(%+v) = %v, want %v", tt.f, got, tt.want)
		}
	}
}

func testRecoveriesPages(t *testing.T, s store.Store) {
	for i := range 5 {
		saveRecovery(t, s, NewRecovery(fmt.Sprint("r", i), "c1", i))
	}
	var got []string
	token := ""
	for range 5 {
		list, next := listRecoveries(t, s, store.RecoveryFilter{PageSize: 2, PageToken: token})
		got = append(got, recoveryIDs(list)...)
		if next == "" {
			break
		}
		token = next
	}
	if want := "[r4 r3 r2 r1 r0]"; fmt.Sprint(got) != want {
		t.Errorf("pages = %v, want %s", got, want)
	}
	for _, f := range []store.RecoveryFilter{{PageSize: -1}, {PageToken: "not-a-token"}} {
		if _, _, err := s.ListRecoveries(context.Background(), f); !errors.Is(err, store.ErrInvalidArgument) {
			t.Errorf("ListRecoveries(%+v) = %v, want ErrInvalidArgument", f, err)
		}
	}
}

func testRecoveriesAcknowledge(t *testing.T, s store.Store) {
	ctx := context.Background()
	saveRecovery(t, s, NewRecovery("a", "c1", 1))
	saveRecovery(t, s, NewRecovery("b", "c2", 2))
	saveRecovery(t, s, NewRecovery("c", "c1", 3))
	saveRecovery(t, s, NewRecovery("d", "c3", 4))

	n, err := s.AcknowledgeRecoveries(ctx, store.Acknowledgement{Cluster: "c1-alias", By: "ops", Comment: "checked", At: at(10)})
	if err != nil || n != 2 {
		t.Fatalf("acknowledge c1 = %d, %v; want 2", n, err)
	}
	n, err = s.AcknowledgeRecoveries(ctx, store.Acknowledgement{ID: "d", By: "ops", Comment: "one", At: at(10)})
	if err != nil || n != 1 {
		t.Fatalf("acknowledge d = %d, %v; want 1", n, err)
	}
	// Saving a recovery again keeps its acknowledgement.
	saveRecovery(t, s, NewRecovery("a", "c1", 1))
	got, err := s.GetRecovery(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if !got.GetAcknowledgedAt().AsTime().Equal(at(10)) || got.GetAcknowledgedBy() != "ops" || got.GetAcknowledgeComment() != "checked" {
		t.Errorf("acknowledged a = %v by %q (%q), want at(10) by ops (checked)", got.GetAcknowledgedAt(), got.GetAcknowledgedBy(), got.GetAcknowledgeComment())
	}
	n, err = s.AcknowledgeRecoveries(ctx, store.Acknowledgement{By: "ops", Comment: "all", At: at(11)})
	if err != nil || n != 1 {
		t.Fatalf("acknowledge all = %d, %v; want 1 (only b was left)", n, err)
	}
	if b, _ := s.GetRecovery(ctx, "b"); b.GetAcknowledgeComment() != "all" {
		t.Errorf("b acknowledged with %q, want all", b.GetAcknowledgeComment())
	}
	if _, err := s.AcknowledgeRecoveries(ctx, store.Acknowledgement{By: "ops", Comment: "x"}); !errors.Is(err, store.ErrInvalidArgument) {
		t.Errorf("acknowledge without a time = %v, want ErrInvalidArgument", err)
	}
}

func testRecoveriesInvalid(t *testing.T, s store.Store) {
	ctx := context.Background()
	noStart := NewRecovery("x", "c1", 0)
	noStart.StartedAt = nil
	badText := NewRecovery("y", "c\x00", 0)
	for name, r := range map[string]*recoveryv1.Recovery{"no id": NewRecovery("", "c1", 0), "no started_at": noStart, "NUL in cluster": badText} {
		if err := s.SaveRecovery(ctx, r); !errors.Is(err, store.ErrInvalidArgument) {
			t.Errorf("SaveRecovery(%s) = %v, want ErrInvalidArgument", name, err)
		}
	}
	if list, _ := listRecoveries(t, s, store.RecoveryFilter{}); len(list) != 0 {
		t.Errorf("refused recoveries were stored: %v", recoveryIDs(list))
	}
}
