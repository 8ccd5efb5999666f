// Package coordtest is the contract suite every coord.Coordinator passes.
package coordtest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vigil-db/vigil/pkg/coord"
)

// Backend is what the suite needs of an implementation.
type Backend struct {
	// New returns a coordinator on an empty namespace, closed when the
	// test ends.
	New func(t *testing.T) coord.Coordinator
	// Lose makes the coordination service end s the way a crash or a
	// partition would (for etcd: revoke its lease behind its back).
	Lose func(t *testing.T, s coord.Session)
}

// Run runs the contract suite against b.
func Run(t *testing.T, b Backend) {
	tests := []struct {
		name string
		run  func(t *testing.T, c coord.Coordinator, b Backend)
	}{
		{"LockExcludesOtherSessions", testLockExcludes},
		{"LockExcludesWithinASession", testLockExcludesWithinASession},
		{"TokenGrowsWithEveryAcquisition", testTokenGrows},
		{"NamesAreIndependent", testNamesIndependent},
		{"GuardedPutNeedsTheLock", testGuardedPut},
		{"ClosedSessionReleasesItsLocks", testSessionClose},
		{"LostSessionReleasesItsLocks", testSessionLost},
		{"WatchSeesChangesUnderItsPrefix", testWatch},
		{"SessionKeysLiveWithTheSession", testSessionKeys},
		{"SessionKeysGoWithALostSession", testSessionKeysLost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, b.New(t), b) })
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func session(t *testing.T, c coord.Coordinator) coord.Session {
	t.Helper()
	s, err := c.NewSession(ctxT(t), 5*time.Second)
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func lock(t *testing.T, s coord.Session, name string) coord.Lock {
	t.Helper()
	l, err := s.Lock(ctxT(t), name)
	if err != nil {
		t.Fatalf("Lock(%s): %v", name, err)
	}
	return l
}

// lockFails checks that s cannot take name within a short wait.
func lockFails(t *testing.T, s coord.Session, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if l, err := s.Lock(ctx, name); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second Lock(%s) = %v, %v; want it to wait until its context ends", name, l, err)
	}
}

func testLockExcludes(t *testing.T, c coord.Coordinator, _ Backend) {
	s1, s2 := session(t, c), session(t, c)
	first := lock(t, s1, "locks/cluster-a")
	lockFails(t, s2, "locks/cluster-a")

	got := make(chan coord.Lock, 1)
	go func() {
		l, err := s2.Lock(ctxT(t), "locks/cluster-a")
		if err != nil {
			t.Errorf("waiting Lock: %v", err)
		}
		got <- l
	}()
	if err := first.Unlock(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	select {
	case second := <-got:
		if second != nil && second.Token() <= first.Token() {
			t.Errorf("token %d after %d, want greater", second.Token(), first.Token())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("waiting Lock not granted 5s after Unlock")
	}
	if err := first.Check(ctxT(t)); !errors.Is(err, coord.ErrLockLost) {
		t.Errorf("Check of an unlocked lock = %v, want ErrLockLost", err)
	}
}

// testLockExcludesWithinASession takes a name twice through one session, as
// two recoveries of one process do: the second waits for the first.
func testLockExcludesWithinASession(t *testing.T, c coord.Coordinator, _ Backend) {
	s := session(t, c)
	first := lock(t, s, "locks/cluster-a")
	lockFails(t, s, "locks/cluster-a")
	if err := first.Check(ctxT(t)); err != nil {
		t.Fatalf("Check of the first lock after a second Lock gave up = %v", err)
	}
	got := make(chan coord.Lock, 1)
	go func() {
		l, err := s.Lock(ctxT(t), "locks/cluster-a")
		if err != nil {
			t.Errorf("waiting Lock: %v", err)
		}
		got <- l
	}()
	if err := first.Unlock(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	select {
	case second := <-got:
		if second == nil {
			return
		}
		if err := second.Check(ctxT(t)); err != nil || second.Token() <= first.Token() {
			t.Errorf("second lock: Check %v, token %d after %d", err, second.Token(), first.Token())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("waiting Lock not granted 5s after Unlock")
	}
}

func testTokenGrows(t *testing.T, c coord.Coordinator, _ Backend) {
	s := session(t, c)
	var last int64
	for i := range 3 {
		l := lock(t, s, "locks/cluster-a")
		if l.Token() <= last {
			t.Errorf("acquisition %d: token %d, want above %d", i, l.Token(), last)
		}
		last = l.Token()
		if err := l.Unlock(ctxT(t)); err != nil {
			t.Fatal(err)
		}
	}
}

func testNamesIndependent(t *testing.T, c coord.Coordinator, _ Backend) {
	s1, s2 := session(t, c), session(t, c)
	lock(t, s1, "locks/cluster-a")
	b := lock(t, s2, "locks/cluster-b")
	if err := b.Check(ctxT(t)); err != nil {
		t.Errorf("Check = %v", err)
	}
}

func testGuardedPut(t *testing.T, c coord.Coordinator, _ Backend) {
	s := session(t, c)
	l := lock(t, s, "locks/cluster-a")
	if err := l.Put(ctxT(t), "masters/cluster-a", []byte("db2:3306")); err != nil {
		t.Fatalf("Put while holding the lock: %v", err)
	}
	v, ok, err := c.Get(ctxT(t), "masters/cluster-a")
	if err != nil || !ok || string(v) != "db2:3306" {
		t.Errorf("Get = %q, %v, %v; want db2:3306", v, ok, err)
	}
	if _, ok, err := c.Get(ctxT(t), "masters/none"); err != nil || ok {
		t.Errorf("Get of a key never set = %v, %v; want not found", ok, err)
	}
	if err := l.Unlock(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if err := l.Put(ctxT(t), "masters/cluster-a", []byte("db3:3306")); !errors.Is(err, coord.ErrLockLost) {
		t.Errorf("Put after Unlock = %v, want ErrLockLost", err)
	}
	if v, _, _ := c.Get(ctxT(t), "masters/cluster-a"); string(v) != "db2:3306" {
		t.Errorf("value after a refused Put = %q, want db2:3306 unchanged", v)
	}
}

// checkLost checks what every holder of a lock whose session ended must see.
func checkLost(t *testing.T, c coord.Coordinator, s coord.Session, l coord.Lock) {
	t.Helper()
	select {
	case <-s.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Done not closed 10s after the session ended")
	}
	if err := l.Check(ctxT(t)); !errors.Is(err, coord.ErrLockLost) {
		t.Errorf("Check = %v, want ErrLockLost", err)
	}
	if err := l.Put(ctxT(t), "masters/cluster-a", []byte("stale")); !errors.Is(err, coord.ErrLockLost) {
		t.Errorf("Put = %v, want ErrLockLost", err)
	}
	if v, ok, _ := c.Get(ctxT(t), "masters/cluster-a"); ok {
		t.Errorf("a refused Put wrote %q", v)
	}
	if _, err := s.Lock(ctxT(t), "locks/cluster-b"); !errors.Is(err, coord.ErrSessionDone) {
		t.Errorf("Lock on an ended session = %v, want ErrSessionDone", err)
	}
	next := lock(t, session(t, c), "locks/cluster-a")
	if next.Token() <= l.Token() {
		t.Errorf("next token %d, want above %d", next.Token(), l.Token())
	}
}

func testSessionClose(t *testing.T, c coord.Coordinator, _ Backend) {
	s := session(t, c)
	l := lock(t, s, "locks/cluster-a")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checkLost(t, c, s, l)
}

func testSessionLost(t *testing.T, c coord.Coordinator, b Backend) {
	s := session(t, c)
	l := lock(t, s, "locks/cluster-a")
	b.Lose(t, s)
	checkLost(t, c, s, l)
}

func testWatch(t *testing.T, c coord.Coordinator, _ Backend) {
	ctx, cancel := context.WithCancel(ctxT(t))
	events := c.Watch(ctx, "masters/")
	l := lock(t, session(t, c), "locks/cluster-a")
	for _, kv := range [][2]string{{"other/x", "no"}, {"masters/cluster-a", "db1:3306"}, {"masters/cluster-a", "db2:3306"}} {
		if err := l.Put(ctxT(t), kv[0], []byte(kv[1])); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"db1:3306", "db2:3306"} {
		select {
		case e := <-events:
			if e.Key != "masters/cluster-a" || string(e.Value) != want || e.Deleted {
				t.Errorf("event = %+v, want masters/cluster-a = %s", e, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no event for %s within 5s", want)
		}
	}
	cancel()
	for range events { // closed once ctx ends
	}
}

// testSessionKeys registers two members under their sessions: both are
// listed, and one is deleted, with a watch event, when its session closes.
func testSessionKeys(t *testing.T, c coord.Coordinator, _ Backend) {
	ctx, cancel := context.WithCancel(ctxT(t))
	defer cancel()
	events := c.Watch(ctx, "members/")
	a, b := session(t, c), session(t, c)
	for s, kv := range map[coord.Session][2]string{a: {"members/a", "dc1"}, b: {"members/b", "dc2"}} {
		if err := s.Put(ctxT(t), kv[0], []byte(kv[1])); err != nil {
			t.Fatal(err)
		}
	}
	checkList(t, c, "members/", "members/a=dc1", "members/b=dc2")
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	waitDeleted(t, events, "members/a")
	checkList(t, c, "members/", "members/b=dc2")
	if err := a.Put(ctxT(t), "members/a", []byte("again")); !errors.Is(err, coord.ErrSessionDone) {
		t.Errorf("Put on a closed session = %v, want ErrSessionDone", err)
	}
}

// testSessionKeysLost loses a member's session: its key goes with it.
func testSessionKeysLost(t *testing.T, c coord.Coordinator, b Backend) {
	ctx, cancel := context.WithCancel(ctxT(t))
	defer cancel()
	events := c.Watch(ctx, "members/")
	s := session(t, c)
	if err := s.Put(ctxT(t), "members/a", []byte("dc1")); err != nil {
		t.Fatal(err)
	}
	b.Lose(t, s)
	waitDeleted(t, events, "members/a")
	checkList(t, c, "members/")
}

func checkList(t *testing.T, c coord.Coordinator, prefix string, want ...string) {
	t.Helper()
	list, err := c.List(ctxT(t), prefix)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range list {
		got = append(got, e.Key+"="+string(e.Value))
	}
	if len(got) != len(want) {
		t.Fatalf("List(%s) = %v, want %v", prefix, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("List(%s) = %v, want %v", prefix, got, want)
		}
	}
}

// waitDeleted reads events until key is deleted.
func waitDeleted(t *testing.T, events <-chan coord.Event, key string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-events:
			if e.Key == key && e.Deleted {
				return
			}
		case <-deadline:
			t.Fatalf("no deletion of %s within 10s", key)
		}
	}
}
