// Package analysis decides what is wrong with a replication tree. It is pure:
// facts about a cluster (who answered which observer when, who replicates
// from whom and how) go in, problem codes come out, decided by the table of
// rules in rules.go.
package analysis

import (
	"fmt"
	"time"

	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// Observation is what one observer last said about an instance.
type Observation struct {
	Observer string
	Snapshot *topologyv1.Snapshot
	// Received is when the analyzer got the snapshot (its own clock).
	Received time.Time
	// PollInterval is how often the observer probes: with the validity
	// slack, how old its word may be and still count.
	PollInterval time.Duration
}

// Verdict is the analyzer's view of whether an instance is valid.
type Verdict int

// Verdicts. Only Valid counts as reachable and only Failed and Hung as
// invalid. The others are no evidence either way: Unknown means no connected
// observer said anything about the instance, NoAccess that Vigil's own access
// is refused, NeverReached that no probe ever reached it.
const (
	Unknown Verdict = iota
	Valid
	// Failed: a majority of observers' latest probes failed.
	Failed
	// Hung: a majority of observers have no fresh probe: the probe hangs,
	// or the server is frozen or cut off.
	Hung
	// NoAccess: no observer could read the instance, because the topology
	// user cannot log in, lacks a privilege, or TLS fails. The server
	// answered, so it is not down; what it would say is unknown.
	NoAccess
	// NeverReached: the instance failed or hung as above, but no probe has
	// ever reached it and no MySQL server ever answered at its address, so
	// nothing says it was ever up: a wrong address as likely as a dead
	// server.
	NeverReached
)

func (v Verdict) String() string {
	return [...]string{"unknown", "valid", "failed", "hung", "no access", "never reached"}[v]
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
// within their validity window (their poll interval plus slack). One
// observer cut off from a server is never enough when there are others. An
// observer refused on Vigil's own access reached the server, so it never
// votes for a failure. everGood says whether any probe ever reached the
// instance.
func judge(obs []Observation, now time.Time, slack time.Duration, everGood bool) Health {
	var h Health
	failed, hung, reachable := 0, 0, 0
	// A server that refuses Vigil for lack of connections is there.
	answered := everGood
	for _, o := range obs {
		snap := o.Snapshot
		if h.Latest == nil || snap.GetProbeFinished().AsTime().After(h.Latest.GetProbeFinished().AsTime()) {
			h.Latest = snap
		}
		window := o.PollInterval + slack
		var statement string
		switch {
		case now.Sub(o.Received) > window:
			hung++
			statement = fmt.Sprintf("no fresh probe within %s (hung or cut off)", window)
		case topology.IsAccessProblem(snap.GetErrorClass()):
			statement = fmt.Sprintf("access refused (%s, error %d): %s", errorClassText(snap.GetErrorClass()), snap.GetErrorNumber(), snap.GetError())
		case !snap.GetReachable():
			failed++
			answered = answered || snap.GetErrorClass() == topologyv1.ErrorClass_ERROR_CLASS_TOO_MANY_CONNECTIONS
			statement = fmt.Sprintf("unreachable (%s): %s", errorClassText(snap.GetErrorClass()), snap.GetError())
		default:
			reachable++
			statement = "reachable"
		}
		h.Evidence = append(h.Evidence, Evidence{Observer: o.Observer, ObservedAt: o.Received, Statement: statement})
	}
	switch n := len(obs); {
	case n == 0:
		h.Verdict = Unknown
	case 2*(failed+hung) > n && !answered:
		h.Verdict = NeverReached
	case 2*(failed+hung) > n && failed >= hung:
		h.Verdict = Failed
	case 2*(failed+hung) > n:
		h.Verdict = Hung
	case reachable > 0:
		h.Verdict = Valid
	default:
		h.Verdict = NoAccess
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
	case topologyv1.ErrorClass_ERROR_CLASS_PRIVILEGE:
		return "missing privilege"
	case topologyv1.ErrorClass_ERROR_CLASS_TLS:
		return "TLS"
	}
	return "other"
}
