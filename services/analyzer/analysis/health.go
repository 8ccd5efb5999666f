// Package analysis decides what is wrong with a replication tree. It is pure:
// facts about a cluster (who answered which observer when, who replicates
// from whom and how) go in, problem codes come out, decided by the table of
// rules in rules.go.
package analysis

import (
	"fmt"
	"time"

	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// Observation is what one observer last said about an instance.
type Observation struct {
	Observer string
	Snapshot *topologyv1.Snapshot
	// Received is when the analyzer got the snapshot (its own clock).
	Received time.Time
}

// Verdict is the analyzer's view of whether an instance is valid.
type Verdict int

// Verdicts. Only Valid counts as reachable; Unknown means no connected
// observer said anything about the instance, which is never evidence of a
// failure.
const (
	Unknown Verdict = iota
	Valid
	// Failed: a majority of observers' latest probes failed.
	Failed
	// Hung: a majority of observers have no fresh probe: the probe hangs,
	// or the server is frozen or cut off.
	Hung
)

func (v Verdict) String() string {
	return [...]string{"unknown", "valid", "failed", "hung"}[v]
}

// Health is the verdict on one instance and the observations behind it.
type Health struct {
	Verdict Verdict
	// Latest is the newest snapshot from any observer.
	Latest *topologyv1.Snapshot
	// Evidence says what each observer saw.
	Evidence []Evidence
}

// Evidence is one observer's word on one instance.
type Evidence struct {
	Observer   string
	ObservedAt time.Time
	Statement  string
}

// judge applies the quorum rule: an instance is invalid only when a
// majority of the observers that have said anything saw it fail or go quiet
// within the validity window. One observer cut off from a server is never
// enough when there are others.
func judge(obs []Observation, now time.Time, window time.Duration) Health {
	var h Health
	failed, hung := 0, 0
	for _, o := range obs {
		snap := o.Snapshot
		if h.Latest == nil || snap.GetProbeFinished().AsTime().After(h.Latest.GetProbeFinished().AsTime()) {
			h.Latest = snap
		}
		age := now.Sub(o.Received)
		var statement string
		switch {
		case age > window:
			hung++
			statement = fmt.Sprintf("no fresh probe within %s (hung or cut off)", window)
		case !snap.GetReachable():
			failed++
			statement = fmt.Sprintf("unreachable (%s): %s", errorClassText(snap.GetErrorClass()), snap.GetError())
		default:
			statement = "reachable"
		}
		h.Evidence = append(h.Evidence, Evidence{Observer: o.Observer, ObservedAt: o.Received, Statement: statement})
	}
	switch n := len(obs); {
	case n == 0:
		h.Verdict = Unknown
	case 2*(failed+hung) <= n:
		h.Verdict = Valid
	case failed >= hung:
		h.Verdict = Failed
	default:
		h.Verdict = Hung
	}
	return h
}

func errorClassText(c topologyv1.ErrorClass) string {
	switch c {
	case topologyv1.ErrorClass_ERROR_CLASS_REFUSED:
		return "refused"
	case topologyv1.ErrorClass_ERROR_CLASS_TIMEOUT:
		return "timeout"
	case topologyv1.ErrorClass_ERROR_CLASS_AUTH:
		return "auth"
	case topologyv1.ErrorClass_ERROR_CLASS_TOO_MANY_CONNECTIONS:
		return "too many connections"
	case topologyv1.ErrorClass_ERROR_CLASS_PROTOCOL:
		return "protocol"
	}
	return "other"
}
