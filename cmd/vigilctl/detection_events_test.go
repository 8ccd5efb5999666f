package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestDetectionEventsUntilInterrupted: with the stream held open, the command
// prints the events as they come and ends cleanly when its context is
// cancelled, as by Ctrl-C.
func TestDetectionEventsUntilInterrupted(t *testing.T) {
	f := startFakes(t)
	f.analyzer.mu.Lock()
	f.analyzer.holdStream = true
	f.analyzer.mu.Unlock()

	for _, args := range [][]string{{"detection-events"}, {"-c", "watch-detections"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var stdout, stderr lockedBuffer
			env := f.env()
			done := make(chan error, 1)
			go func() { done <- run(ctx, args, &stdout, &stderr, func(k string) string { return env[k] }) }()

			deadline := time.Now().Add(10 * time.Second)
			for stdout.String() != eventsText {
				select {
				case err := <-done:
					t.Fatalf("ended before it was interrupted: %v; stdout %q", err, stdout.String())
				default:
				}
				if time.Now().After(deadline) {
					t.Fatalf("stdout %q, want %q", stdout.String(), eventsText)
				}
				time.Sleep(10 * time.Millisecond)
			}
			cancel()
			select {
			case err := <-done:
				if code := report(err, &stderr); code != 0 {
					t.Errorf("exit %d after interruption, want 0; stderr %q", code, stderr.String())
				}
			case <-time.After(10 * time.Second):
				t.Fatal("still running 10s after interruption")
			}
			if got := stdout.String(); got != eventsText {
				t.Errorf("stdout %q, want %q", got, eventsText)
			}
		})
	}
}

// TestDetectionEventsError: an error ending the stream is reported, after
// the events that came before it.
func TestDetectionEventsError(t *testing.T) {
	f := startFakes(t)
	f.analyzer.mu.Lock()
	f.analyzer.streamErr = status.Error(codes.ResourceExhausted, "subscriber fell behind; reconnect to re-sync")
	f.analyzer.mu.Unlock()
	r := vigilctl(t, f.env(), "detection-events")
	if r.code != 1 {
		t.Errorf("exit %d, want 1", r.code)
	}
	if r.stdout != eventsText {
		t.Errorf("stdout %q, want %q", r.stdout, eventsText)
	}
	if want := "vigilctl: ResourceExhausted: subscriber fell behind; reconnect to re-sync\n"; r.stderr != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
}

// TestDetectionEventsJSON: --json prints every message of the stream, the
// synced marker too, one JSON object per line.
func TestDetectionEventsJSON(t *testing.T) {
	f := startFakes(t)
	r := vigilctl(t, f.env(), "-c", "detection-events", "--json")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3:\n%s", len(lines), r.stdout)
	}
	var events []map[string]map[string]any
	for _, line := range lines {
		var e map[string]map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("line %q is not a JSON object: %v", line, err)
		}
		events = append(events, e)
	}
	if got := events[0]["detection"]["id"]; got != "d1" {
		t.Errorf("event 0 detection id %v, want d1", got)
	}
	if got := events[1]["synced"]["active_count"]; got != 1.0 {
		t.Errorf("event 1 synced active_count %v, want 1", got)
	}
	if got := events[2]["detection"]["state"]; got != "DETECTION_STATE_CLEARED" {
		t.Errorf("event 2 detection state %v, want DETECTION_STATE_CLEARED", got)
	}
}

// lockedBuffer is an output the test reads while the command writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
