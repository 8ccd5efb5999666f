package fanout

import (
	"errors"
	"testing"
)

func TestSubscribeStartsFromCurrentState(t *testing.T) {
	h := New[int, string](10)
	h.Set(1, "a")
	h.Set(2, "b")
	h.Set(1, "a2")
	s := h.Subscribe()
	defer s.Close()
	if len(s.Initial) != 2 {
		t.Fatalf("initial = %v, want 2 values", s.Initial)
	}
	h.Set(3, "c")
	h.Remove(1, "gone")
	if e := <-s.Events(); e.Key != 3 || e.Value != "c" || e.Removed {
		t.Errorf("first event = %+v", e)
	}
	if e := <-s.Events(); e.Key != 1 || !e.Removed || e.Value != "gone" {
		t.Errorf("second event = %+v", e)
	}
	if _, ok := h.Get(1); ok {
		t.Error("removed key still has a value")
	}
}

func TestSlowSubscriberIsEnded(t *testing.T) {
	h := New[int, int](2)
	slow := h.Subscribe()
	fast := h.Subscribe()
	for i := range 3 {
		h.Set(i, i)
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
	fast.Close()
	if fast.Err() != nil {
		t.Errorf("closed subscription Err() = %v", fast.Err())
	}
}
