package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/topology"
)

func listKeys(t *testing.T, s store.Store) []topology.InstanceKey {
	t.Helper()
	keys, err := s.ListInstanceKeys(context.Background())
	if err != nil {
		t.Fatalf("ListInstanceKeys: %v", err)
	}
	return keys
}

// testRegister: registered and stored instances are listed once each, in
// order; registering again changes nothing; a registered instance has no
// snapshot, so it is not among the stored instances.
func testRegister(t *testing.T, s store.Store) {
	ctx := context.Background()
	stored, a, b := key("db2", 3306), key("db1", 3307), key("db1", 3306)
	save(t, s, NewSnapshot(stored, at(1), true))
	if err := s.RegisterInstances(ctx, []topology.InstanceKey{a, stored, b, a}); err != nil {
		t.Fatalf("RegisterInstances: %v", err)
	}
	if err := s.RegisterInstances(ctx, []topology.InstanceKey{b}); err != nil {
		t.Fatalf("RegisterInstances again: %v", err)
	}
	if err := s.RegisterInstances(ctx, nil); err != nil {
		t.Fatalf("RegisterInstances(nil): %v", err)
	}
	want := []topology.InstanceKey{b, a, stored}
	if got := listKeys(t, s); !slices.Equal(got, want) {
		t.Errorf("ListInstanceKeys = %v, want %v", got, want)
	}
	list, err := s.ListInstances(ctx)
	if err != nil || len(list) != 1 || list[0].Key != stored {
		t.Errorf("ListInstances = %v, %v; want only the stored %s", list, err, stored)
	}
	if _, err := s.GetInstance(ctx, a); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetInstance(registered %s): error = %v, want ErrNotFound", a, err)
	}
	// A snapshot of a registered instance stores it as any other.
	save(t, s, NewSnapshot(a, at(2), true))
	if got := listKeys(t, s); !slices.Equal(got, want) {
		t.Errorf("ListInstanceKeys after a snapshot = %v, want %v", got, want)
	}
}

// testRegisterDelete: DeleteInstance forgets a registered instance, and a
// stored one that was also registered, for good.
func testRegisterDelete(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := key("db1", 3306), key("db2", 3306)
	save(t, s, NewSnapshot(b, at(1), true))
	if err := s.RegisterInstances(ctx, []topology.InstanceKey{a, b}); err != nil {
		t.Fatalf("RegisterInstances: %v", err)
	}
	for _, k := range []topology.InstanceKey{a, b} {
		if err := s.DeleteInstance(ctx, k); err != nil {
			t.Fatalf("DeleteInstance(%s): %v", k, err)
		}
		if err := s.DeleteInstance(ctx, k); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("DeleteInstance(%s) twice: error = %v, want ErrNotFound", k, err)
		}
	}
	if got := listKeys(t, s); len(got) != 0 {
		t.Errorf("ListInstanceKeys after deleting all = %v, want none", got)
	}
}

// testRegisterInvalid: one bad key refuses the whole batch.
func testRegisterInvalid(t *testing.T, s store.Store) {
	ctx := context.Background()
	for name, bad := range map[string]topology.InstanceKey{"no host": {Port: 3306}, "no port": {Host: "db1"}} {
		err := s.RegisterInstances(ctx, []topology.InstanceKey{key("db9", 3306), bad})
		if !errors.Is(err, store.ErrInvalidArgument) {
			t.Errorf("%s: error = %v, want ErrInvalidArgument", name, err)
		}
	}
	if got := listKeys(t, s); len(got) != 0 {
		t.Errorf("ListInstanceKeys after refused batches = %v, want none", got)
	}
}
