package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
)

// recoveryCodes are the codes recovery acts on: a scenario that must not
// fail over asserts none of them ever appears.
var recoveryCodes = []string{
	"DeadMaster", "DeadMasterAndSomeReplicas", "DeadIntermediateMaster", "DeadIntermediateMasterAndSomeReplicas",
	"DeadIntermediateMasterWithSingleReplicaFailingToConnect", "AllIntermediateMasterReplicasFailingToConnectOrDead",
	"DeadCoMaster", "DeadCoMasterAndSomeReplicas",
}

// eventLog records every failure event of a stack, with when it arrived.
type eventLog struct {
	mu     sync.Mutex
	events []receivedEvent
}

type receivedEvent struct {
	det *analyzerv1.Detection
	at  time.Time
}

// followEvents subscribes to the analyzer's failure events until the test ends.
func followEvents(t *testing.T, s *stack) *eventLog {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := s.analyzer.StreamFailureEvents(ctx, &analyzerv1.StreamFailureEventsRequest{Subscriber: t.Name()})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	l := &eventLog{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			msg, err := stream.Recv()
			if err != nil {
				return
			}
			if d := msg.GetDetection(); d != nil {
				l.mu.Lock()
				l.events = append(l.events, receivedEvent{det: d, at: time.Now()})
				l.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return l
}

// find returns when a detection of code on instance started (or changed
// into being), if it did.
func (l *eventLog) find(code, instance string) (*analyzerv1.Detection, time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.events {
		if e.det.GetCode() == code && keyString(e.det.GetInstance()) == instance &&
			e.det.GetState() != analyzerv1.DetectionState_DETECTION_STATE_CLEARED {
			return e.det, e.at, true
		}
	}
	return nil, time.Time{}, false
}

// waitFor waits for a detection of code on instance and returns it.
func (l *eventLog) waitFor(t *testing.T, code, instance string, within time.Duration) (*analyzerv1.Detection, time.Time) {
	t.Helper()
	var det *analyzerv1.Detection
	var at time.Time
	eventually(t, within, code+" on "+instance, func() error {
		var ok bool
		if det, at, ok = l.find(code, instance); !ok {
			return fmt.Errorf("events so far: %s", l.summary())
		}
		return nil
	})
	return det, at
}

// waitForCleared waits until the detection with id has cleared.
func (l *eventLog) waitForCleared(t *testing.T, id string, within time.Duration) {
	t.Helper()
	eventually(t, within, "detection "+id+" cleared", func() error {
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, e := range l.events {
			if e.det.GetId() == id && e.det.GetState() == analyzerv1.DetectionState_DETECTION_STATE_CLEARED {
				return nil
			}
		}
		return fmt.Errorf("events so far: %s", l.summaryLocked())
	})
}

// assertNone fails if any of codes was ever detected.
func (l *eventLog) assertNone(t *testing.T, codes ...string) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.events {
		for _, c := range codes {
			if e.det.GetCode() == c {
				t.Errorf("%s detected on %s, must not be: %s", c, keyString(e.det.GetInstance()), e.det.GetDescription())
			}
		}
	}
}

func (l *eventLog) summary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.summaryLocked()
}

func (l *eventLog) summaryLocked() string {
	var parts []string
	for _, e := range l.events {
		parts = append(parts, fmt.Sprintf("%s %s %s", e.det.GetState(), e.det.GetCode(), keyString(e.det.GetInstance())))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "; ")
}
