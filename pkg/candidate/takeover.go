package candidate

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// Rules that apply only while the master is alive (Input.Live): a replica
// named by an operator must be one of its replicas, and a candidate must be
// replicating from it now to be sure to catch up.
const (
	RuleNotReplica     = "not-a-replica"
	RuleNotReplicating = "not-replicating"
)

// RefusedError is a designated replica that may not take over, with the rule.
type RefusedError struct{ Verdict Verdict }

func (e *RefusedError) Error() string {
	return fmt.Sprintf("%s cannot take over: %s (%s)", e.Verdict.Key, e.Verdict.Rule, e.Verdict.Reason)
}

// Takeover picks the replica that takes over from a live master in a
// planned takeover, or checks the designated one (when not zero). in.Dead
// is the live master's snapshot. Every replica catches up before the
// promotion, so data does not decide: the promotion rule, the master's data
// centre and environment do, then the most advanced position. It returns a
// *RefusedError naming the rule when the designated replica may not take
// over, and ErrNoCandidate when no replica may.
func Takeover(in Input, designated topology.InstanceKey) (Choice, error) {
	all := readReplicas(in)
	var choice Choice
	var eligible []replica
	for _, r := range all {
		if rule, reason := refusal(r, all, true); rule != "" {
			choice.Refused = append(choice.Refused, Verdict{Key: r.Key, Rule: rule, Reason: reason})
			if r.Key == designated {
				return choice, &RefusedError{Verdict: Verdict{Key: r.Key, Rule: rule, Reason: reason}}
			}
			continue
		}
		eligible = append(eligible, r)
	}
	if !designated.IsZero() {
		i := slices.IndexFunc(eligible, func(r replica) bool { return r.Key == designated })
		if i < 0 {
			return choice, &RefusedError{Verdict: Verdict{Key: designated, Rule: RuleNotReplica, Reason: "it is not a direct replica of the master"}}
		}
		eligible = eligible[i : i+1]
	}
	if len(eligible) == 0 {
		return choice, ErrNoCandidate
	}
	home := slices.MaxFunc(eligible, func(a, b replica) int {
		return cmp.Or(compareHomes(a, b, in.Dead), a.pos.compare(b.pos), topology.CompareKeys(b.Key, a.Key))
	})
	choice.DataHolder, choice.Promote = home.Key, home.Key
	for _, r := range all {
		switch {
		case r.Key == home.Key:
		case !r.Valid || r.Snapshot == nil:
			choice.Lost = append(choice.Lost, Verdict{Key: r.Key, Reason: "unreachable"})
		case compareVersions(home.major, r.major) > 0:
			choice.Lost = append(choice.Lost, Verdict{Key: r.Key, Reason: "its major version is older than the new master's"})
		}
	}
	return choice, nil
}

// replicating reports whether both threads of the default channel run.
func replicating(s *topologyv1.Snapshot) bool {
	ch := channel(s)
	return ch.GetIoThread() == topologyv1.ThreadState_THREAD_STATE_YES && ch.GetSqlThread() == topologyv1.ThreadState_THREAD_STATE_YES
}
