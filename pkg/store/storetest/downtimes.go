package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/topology"
)

func beginDowntime(t *testing.T, s store.Store, d store.Downtime) {
	t.Helper()
	if err := s.BeginDowntime(context.Background(), d); err != nil {
		t.Fatalf("BeginDowntime(%+v): %v", d, err)
	}
}

func checkDowntimes(t *testing.T, s store.Store, now time.Time, want ...store.Downtime) {
	t.Helper()
	got, err := s.ListDowntimes(context.Background(), now)
	if err != nil {
		t.Fatalf("ListDowntimes(%v): %v", now, err)
	}
	same := len(got) == len(want)
	for i := 0; same && i < len(got); i++ {
		g, w := got[i], want[i]
		same = g.Key == w.Key && g.Owner == w.Owner && g.Reason == w.Reason &&
			g.StartedAt.Equal(w.StartedAt) && g.EndsAt.Equal(w.EndsAt) &&
			g.StartedAt.Location() == time.UTC && g.EndsAt.Location() == time.UTC
	}
	if !same {
		t.Errorf("ListDowntimes(%v) =\n\t%+v\nwant (times in UTC)\n\t%+v", now, got, want)
	}
}

func testDowntimesBegin(t *testing.T, s store.Store) {
	a, b, c := key("db2", 3306), key("db10", 3306), key("db2", 3305)
	paris := time.FixedZone("CET", 3600)
	da := store.Downtime{Key: a, Owner: "alice@example.com", Reason: "disk replacement", StartedAt: at(0), EndsAt: at(3600)}
	db := store.Downtime{Key: b, Owner: "bob", StartedAt: at(10).In(paris), EndsAt: at(100).Add(789 * time.Nanosecond)}
	dc := store.Downtime{Key: c, Owner: "carol", Reason: "upgrade", StartedAt: at(20), EndsAt: at(7200)}
	for _, d := range []store.Downtime{da, db, dc} {
		beginDowntime(t, s, d)
	}
	wantB := db
	wantB.StartedAt, wantB.EndsAt = at(10), at(100)
	checkDowntimes(t, s, at(50), wantB, dc, da)
	checkDowntimes(t, s, at(5), wantB, dc, da) // not yet started, but in force until it ends
	checkDowntimes(t, s, at(100), dc, da)
	checkDowntimes(t, s, at(3599).Add(time.Second-time.Nanosecond), dc, da)
	checkDowntimes(t, s, at(3600), dc)
	checkDowntimes(t, s, at(7200))
}

func testDowntimesReplace(t *testing.T, s store.Store) {
	a := key("db1", 3306)
	beginDowntime(t, s, store.Downtime{Key: a, Owner: "alice", Reason: "maintenance", StartedAt: at(0), EndsAt: at(100)})
	shorter := store.Downtime{Key: a, Owner: "bob", Reason: "done early", StartedAt: at(10), EndsAt: at(20)}
	beginDowntime(t, s, shorter)
	checkDowntimes(t, s, at(15), shorter)
	checkDowntimes(t, s, at(50))

	// An expired downtime is replaced too.
	again := store.Downtime{Key: a, Owner: "carol", StartedAt: at(60), EndsAt: at(70)}
	beginDowntime(t, s, again)
	checkDowntimes(t, s, at(65), again)
}

func testDowntimesEnd(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := key("db1", 3306), key("db2", 3306)
	da := store.Downtime{Key: a, Owner: "alice", StartedAt: at(0), EndsAt: at(100)}
	db := store.Downtime{Key: b, Owner: "bob", StartedAt: at(0), EndsAt: at(100)}
	beginDowntime(t, s, da)
	beginDowntime(t, s, db)

	if err := s.EndDowntime(ctx, a, at(50)); err != nil {
		t.Fatalf("EndDowntime(%s): %v", a, err)
	}
	checkDowntimes(t, s, at(50), db)
	checkDowntimes(t, s, at(1), db)
	if err := s.EndDowntime(ctx, a, at(50)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("EndDowntime(%s) twice: error = %v, want ErrNotFound", a, err)
	}
	for _, k := range []topology.InstanceKey{key("db1", 3307), key("db3", 3306)} {
		if err := s.EndDowntime(ctx, k, at(50)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("EndDowntime(%s) of an instance never downtimed: error = %v, want ErrNotFound", k, err)
		}
	}
}

func testDowntimesExpired(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := key("db1", 3306)
	d := store.Downtime{Key: a, Owner: "alice", StartedAt: at(0), EndsAt: at(10)}
	beginDowntime(t, s, d)
	checkDowntimes(t, s, at(10).Add(-time.Microsecond), d)
	checkDowntimes(t, s, at(10))
	checkDowntimes(t, s, at(11))

	if err := s.EndDowntime(ctx, a, at(10)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("EndDowntime(%s) once expired: error = %v, want ErrNotFound", a, err)
	}
	// Ending it forgot it all the same.
	checkDowntimes(t, s, at(5))
}

func testDowntimesInvalid(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := key("db1", 3306)
	valid := store.Downtime{Key: a, Owner: strings.Repeat("é", store.MaxDowntimeOwner), Reason: strings.Repeat("ü", store.MaxDowntimeReason), StartedAt: at(0), EndsAt: at(100)}
	beginDowntime(t, s, valid)

	change := func(f func(d *store.Downtime)) store.Downtime {
		d := store.Downtime{Key: key("db2", 3306), Owner: "bob", Reason: "upgrade", StartedAt: at(0), EndsAt: at(100)}
		f(&d)
		return d
	}
	tests := map[string]store.Downtime{
		"port 0":                       change(func(d *store.Downtime) { d.Key.Port = 0 }),
		"empty host":                   change(func(d *store.Downtime) { d.Key.Host = "" }),
		"bad host":                     change(func(d *store.Downtime) { d.Key.Host = "db/2" }),
		"ends when it starts":          change(func(d *store.Downtime) { d.EndsAt = d.StartedAt }),
		"ends before it starts":        change(func(d *store.Downtime) { d.EndsAt = at(-1) }),
		"ends in the same microsecond": change(func(d *store.Downtime) { d.EndsAt = d.StartedAt.Add(999 * time.Nanosecond) }),
		"no start":                     change(func(d *store.Downtime) { d.StartedAt = time.Time{} }),
		"no end":                       change(func(d *store.Downtime) { d.EndsAt = time.Time{} }),
		"ends after year 9999":         change(func(d *store.Downtime) { d.EndsAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }),
		"owner too long":               change(func(d *store.Downtime) { d.Owner = strings.Repeat("o", store.MaxDowntimeOwner+1) }),
		"reason too long":              change(func(d *store.Downtime) { d.Reason = strings.Repeat("r", store.MaxDowntimeReason+1) }),
		"owner not UTF-8":              change(func(d *store.Downtime) { d.Owner = "bob\xff" }),
		"reason with a NUL":            change(func(d *store.Downtime) { d.Reason = "up\x00grade" }),
	}
	for name, d := range tests {
		if err := s.BeginDowntime(ctx, d); !errors.Is(err, store.ErrInvalidArgument) {
			t.Errorf("BeginDowntime with %s: error = %v, want ErrInvalidArgument", name, err)
		}
	}
	if err := s.EndDowntime(ctx, topology.InstanceKey{Host: "db1"}, at(1)); !errors.Is(err, store.ErrInvalidArgument) {
		t.Errorf("EndDowntime of a key without port: error = %v, want ErrInvalidArgument", err)
	}
	if err := s.EndDowntime(ctx, a, time.Time{}); !errors.Is(err, store.ErrInvalidArgument) {
		t.Errorf("EndDowntime at the zero time: error = %v, want ErrInvalidArgument", err)
	}
	if _, err := s.ListDowntimes(ctx, time.Time{}); !errors.Is(err, store.ErrInvalidArgument) {
		t.Errorf("ListDowntimes at the zero time: error = %v, want ErrInvalidArgument", err)
	}
	checkDowntimes(t, s, at(1), valid)
}
