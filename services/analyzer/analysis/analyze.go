package analysis

import (
	"fmt"
	"strings"

	"github.com/vigil-db/vigil/pkg/topology"
	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// Problem is one code found on one instance.
type Problem struct {
	Code        string
	Instance    topology.InstanceKey
	Action      analyzerv1.Action
	Description string
	Downtimed   bool
	// Evidence holds what the observers said of the instance and of each of
	// its replicas.
	Evidence []InstanceEvidence
	// Replicas are the instance's direct replicas.
	Replicas []topology.InstanceKey
	// Related are the instances to read again with it when the evidence
	// needs refreshing: its master, if any, and its replicas.
	Related []topology.InstanceKey
}

// InstanceEvidence is one statement about one instance.
type InstanceEvidence struct {
	Instance topology.InstanceKey
	Evidence
}

// Analyze runs the rules over every instance of one cluster and returns the
// problems found and the structure warnings of the cluster.
func Analyze(in Input, cfg Config) ([]Problem, []Warning) {
	facts := buildFacts(in, cfg)
	var problems []Problem
	for _, f := range facts {
		if in.Ignored(f.Key) {
			continue
		}
		for _, r := range failureRules {
			if r.Match(f, cfg) {
				problems = append(problems, problem(r, f))
				break
			}
		}
		for _, r := range independentRules {
			if r.Match(f, cfg) {
				problems = append(problems, problem(r, f))
			}
		}
	}
	return problems, warnings(in.Cluster, facts)
}

func problem(r Rule, f *Facts) Problem {
	p := Problem{
		Code:        r.Code,
		Instance:    f.Key,
		Action:      r.Action,
		Description: describe(r.Code, f),
		Downtimed:   f.Downtimed,
	}
	for _, e := range f.Health.Evidence {
		p.Evidence = append(p.Evidence, InstanceEvidence{Instance: f.Key, Evidence: e})
	}
	if f.HasMaster {
		p.Related = append(p.Related, f.Master)
	}
	for _, rep := range f.Replicas {
		p.Replicas = append(p.Replicas, rep.Key)
		p.Related = append(p.Related, rep.Key)
		for _, e := range rep.Health.Evidence {
			if rep.Valid() {
				e.Statement = "replica " + channelText(rep.Channel, rep.Lagging)
			}
			p.Evidence = append(p.Evidence, InstanceEvidence{Instance: rep.Key, Evidence: e})
		}
	}
	return p
}

// channelText says how a replica's channel is doing, for evidence.
func channelText(ch *topologyv1.ReplicationChannel, lagging bool) string {
	if ch == nil {
		return "has no replication channel"
	}
	parts := []string{
		"IO " + threadText(ch.GetIoThread()),
		"SQL " + threadText(ch.GetSqlThread()),
	}
	if ch.GetLastIoErrno() != 0 {
		parts = append(parts, fmt.Sprintf("last IO errno %d", ch.GetLastIoErrno()))
	}
	if ch.GetLastSqlErrno() != 0 {
		parts = append(parts, fmt.Sprintf("last SQL errno %d", ch.GetLastSqlErrno()))
	}
	if lagging {
		parts = append(parts, "lagging")
	}
	return strings.Join(parts, ", ")
}

func threadText(t topologyv1.ThreadState) string {
	switch t {
	case topologyv1.ThreadState_THREAD_STATE_YES:
		return "Yes"
	case topologyv1.ThreadState_THREAD_STATE_CONNECTING:
		return "Connecting"
	case topologyv1.ThreadState_THREAD_STATE_NO:
		return "No"
	}
	return "unknown"
}
