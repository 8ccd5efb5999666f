package discovery

import (
	"testing"
	"time"

	"github.com/vigil-db/vigil/pkg/topology"
)

func closed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func TestFirstPass(t *testing.T) {
	a, b := topology.InstanceKey{Host: "h", Port: 1}, topology.InstanceKey{Host: "h", Port: 2}
	f := newFirstPass()
	f.probed(a) // before start: not counted, and not done
	if closed(f.Done()) {
		t.Fatal("done before start")
	}
	f.start([]topology.InstanceKey{a, b}, time.Hour)
	f.probed(a)
	if closed(f.Done()) {
		t.Fatal("done with b not probed")
	}
	f.probed(b)
	if !closed(f.Done()) {
		t.Fatal("not done after every instance was probed")
	}

	empty := newFirstPass()
	empty.start(nil, time.Hour)
	if !closed(empty.Done()) {
		t.Error("nothing to wait for, yet not done")
	}

	bounded := newFirstPass()
	bounded.start([]topology.InstanceKey{a}, time.Millisecond)
	select {
	case <-bounded.Done():
	case <-time.After(5 * time.Second):
		t.Error("bound did not end the wait")
	}
}
