package hub

import (
	"errors"
	"testing"

	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

func snap(port uint16) *topologyv1.Snapshot {
	return &topologyv1.Snapshot{Key: topology.InstanceKey{Host: "h", Port: port}.Proto()}
}

func TestSubscribeStartsFromLatest(t *testing.T) {
	h := New(10)
	h.Publish(snap(1))
	h.Publish(snap(2))
	h.Publish(snap(1))
	s := h.Subscribe()
	defer s.Close()
	if len(s.Initial) != 2 {
		t.Fatalf("initial = %d snapshots, want 2", len(s.Initial))
	}
	h.Publish(snap(3))
	h.Forget(topology.InstanceKey{Host: "h", Port: 1})
	if e := <-s.Events(); e.Snapshot.GetKey().GetPort() != 3 {
		t.Errorf("first event = %v, want snapshot of port 3", e)
	}
	if e := <-s.Events(); e.Forgotten.Port != 1 {
		t.Errorf("second event = %v, want port 1 forgotten", e)
	}
	if _, ok := h.Latest(topology.InstanceKey{Host: "h", Port: 1}); ok {
		t.Error("forgotten instance still has a latest snapshot")
	}
}

func TestSlowSubscriberIsEnded(t *testing.T) {
	h := New(2)
	slow := h.Subscribe()
	fast := h.Subscribe()
	for i := range 3 {
		h.Publish(snap(uint16(i + 1)))
		<-fast.Events()
	}
	select {
	case <-slow.Done():
	default:
		t.Fatal("slow subscriber still open")
	}
	if !errors.Is(slow.Err(), ErrTooSlow) {
		t.Errorf("slow.Err() = %v", slow.Err())
	}
	select {
	case <-fast.Done():
		t.Fatal("fast subscriber ended")
	default:
	}
	fast.Close()
	fast.Close() // closing twice is harmless
	if fast.Err() != nil {
		t.Errorf("closed subscription Err() = %v", fast.Err())
	}
}
