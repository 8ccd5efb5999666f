package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/vigil-db/vigil/pkg/store"
)

func testRecoveriesDefault(t *testing.T, s store.Store) {
	got, err := s.GetGlobalRecoveries(context.Background())
	if err != nil {
		t.Fatalf("GetGlobalRecoveries: %v", err)
	}
	if got != (store.GlobalRecoveries{Enabled: true}) {
		t.Errorf("GetGlobalRecoveries when never set = %+v, want Enabled and nothing else", got)
	}
}

func testRecoveriesSet(t *testing.T, s store.Store) {
	ctx := context.Background()
	paris := time.FixedZone("CET", 3600)
	steps := []store.GlobalRecoveries{
		{Enabled: false, UpdatedBy: "alice@example.com", UpdatedAt: at(1)},
		{Enabled: true, UpdatedBy: "bob", UpdatedAt: at(2).In(paris)},
		{Enabled: false, UpdatedBy: "carol", UpdatedAt: at(3).Add(789 * time.Nanosecond)},
	}
	for _, g := range steps {
		if err := s.SetGlobalRecoveries(ctx, g); err != nil {
			t.Fatalf("SetGlobalRecoveries(%+v): %v", g, err)
		}
		got, err := s.GetGlobalRecoveries(ctx)
		if err != nil {
			t.Fatalf("GetGlobalRecoveries: %v", err)
		}
		want := g
		want.UpdatedAt = g.UpdatedAt.UTC().Truncate(time.Microsecond)
		if got.Enabled != want.Enabled || got.UpdatedBy != want.UpdatedBy {
			t.Errorf("GetGlobalRecoveries = %+v, want %+v", got, want)
		}
		checkTime(t, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	}

	w := startWindow()
	if err := s.SetGlobalRecoveries(ctx, store.GlobalRecoveries{Enabled: true, UpdatedBy: "dave"}); err != nil {
		t.Fatalf("SetGlobalRecoveries without UpdatedAt: %v", err)
	}
	w.end()
	got, err := s.GetGlobalRecoveries(ctx)
	if err != nil {
		t.Fatalf("GetGlobalRecoveries: %v", err)
	}
	if !got.Enabled || got.UpdatedBy != "dave" {
		t.Errorf("GetGlobalRecoveries = %+v, want Enabled by dave", got)
	}
	w.check(t, "UpdatedAt set without a time", got.UpdatedAt)
}
