package analysis

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-db/vigil/pkg/candidate"
	"github.com/vigil-db/vigil/pkg/topology"
)

// Structure warning codes: properties of a cluster that would make a
// recovery fail or lose data. Reported, never acted on.
const (
	WarnNoPromotableReplica       = "NoPromotableReplica"
	WarnMixedBinlogFormats        = "MixedBinlogFormats"
	WarnMixedMajorVersions        = "MixedMajorVersions"
	WarnDifferentGTIDModes        = "DifferentGTIDModes"
	WarnErrantGTID                = "ErrantGTID"
	WarnWritableReplicas          = "WritableReplicas"
	WarnSemiSyncFellBackToAsync   = "SemiSyncFellBackToAsync"
	WarnRecoveryWouldLoseReplicas = "RecoveryWouldLoseReplicas"
)

// Warning is one structure warning about a cluster.
type Warning struct {
	Code        string
	Instances   []topology.InstanceKey
	Description string
}

// warnings checks the structure of a cluster from what its instances last
// said.
func warnings(c *topology.Cluster, facts []*Facts) []Warning {
	var out []Warning
	add := func(code string, keys []topology.InstanceKey, format string, args ...any) {
		if len(keys) > 0 {
			out = append(out, Warning{Code: code, Instances: keys, Description: fmt.Sprintf(format, args...)})
		}
	}
	var root *Facts
	formats := map[string][]topology.InstanceKey{}
	majors := map[string][]topology.InstanceKey{}
	gtidModes := map[string][]topology.InstanceKey{}
	var errant, writable []topology.InstanceKey
	for _, f := range facts {
		if f.Key == c.Master {
			root = f
		}
		srv := f.Snapshot.GetServer()
		if srv == nil {
			continue
		}
		if srv.GetLogBin() {
			formats[srv.GetBinlogFormat()] = append(formats[srv.GetBinlogFormat()], f.Key)
		}
		majors[srv.GetMajorVersion()] = append(majors[srv.GetMajorVersion()], f.Key)
		if f.HasMaster {
			mode := gtidMode(f)
			gtidModes[mode] = append(gtidModes[mode], f.Key)
			if f.Errant != "" {
				errant = append(errant, f.Key)
			}
			if !srv.GetReadOnly() && !f.IsCoMaster {
				writable = append(writable, f.Key)
			}
		}
	}
	if len(formats) > 1 {
		add(WarnMixedBinlogFormats, allKeys(formats), "binlog formats differ: %s", mapText(formats))
	}
	if len(majors) > 1 {
		add(WarnMixedMajorVersions, allKeys(majors), "major versions differ: %s", mapText(majors))
	}
	if len(gtidModes) > 1 {
		add(WarnDifferentGTIDModes, allKeys(gtidModes), "replicas replicate in different modes: %s", mapText(gtidModes))
	}
	add(WarnErrantGTID, errant, "replicas executed transactions their master never had")
	add(WarnWritableReplicas, writable, "replicas are not read-only")
	if root == nil || root.Snapshot == nil {
		return out
	}
	ss := root.Snapshot.GetServer().GetSemiSync()
	if ss.GetSourceEnabled() && !ss.GetSourceStatus() {
		add(WarnSemiSyncFellBackToAsync, []topology.InstanceKey{root.Key}, "semi-sync is enabled on the master but it fell back to asynchronous replication")
	}
	if len(root.Replicas) > 0 {
		refused, lost := promotion(root, facts)
		if len(refused) > 0 {
			add(WarnNoPromotableReplica, []topology.InstanceKey{root.Key}, "if the master died now no replica could be promoted: %s", verdictText(refused))
		}
		add(WarnRecoveryWouldLoseReplicas, verdictKeys(lost), "if the master died now these replicas would be lost: %s", verdictText(lost))
	}
	return out
}

// promotion answers "if the master died now": the candidate choice of
// ARCHITECTURE §6.1 over its direct replicas as they last were, the same
// rules the recovery applies. It returns the replicas none of which could
// be promoted (with why), or those a promotion would lose.
func promotion(root *Facts, facts []*Facts) (noCandidate []candidate.Verdict, lost []candidate.Verdict) {
	byKey := map[topology.InstanceKey]*Facts{}
	for _, f := range facts {
		byKey[f.Key] = f
	}
	in := candidate.Input{Dead: root.Snapshot, Live: root.Valid()}
	for _, r := range root.Replicas {
		f := byKey[r.Key]
		if f == nil {
			continue
		}
		in.Replicas = append(in.Replicas, candidate.Replica{
			Key: r.Key, Snapshot: f.Snapshot, Valid: f.Valid() && f.Snapshot != nil, Errant: f.Errant != "",
			Rule: f.Snapshot.GetClassification().GetPromotionRule(),
		})
	}
	choice, err := candidate.Choose(in)
	if err != nil {
		return choice.Refused, nil
	}
	return nil, choice.Lost
}

// gtidMode names how a replica replicates: MySQL auto-position, a MariaDB
// GTID mode, or file and position.
func gtidMode(f *Facts) string {
	ch := channelFrom(f.Snapshot, f.Master)
	switch {
	case ch.GetUsingGtid() != "" && ch.GetUsingGtid() != "No":
		return "gtid:" + strings.ToLower(ch.GetUsingGtid())
	case ch.GetAutoPosition():
		return "gtid:auto_position"
	}
	return "file:pos"
}

// versionLess compares major versions such as "8.0" and "10.11" numerically.
func versionLess(a, b string) bool {
	amaj, amin := majorMinor(a)
	bmaj, bmin := majorMinor(b)
	return amaj < bmaj || (amaj == bmaj && amin < bmin)
}

func majorMinor(v string) (int, int) {
	maj, min, _ := strings.Cut(v, ".")
	x, _ := strconv.Atoi(maj)
	y, _ := strconv.Atoi(min)
	return x, y
}

func verdictKeys(vs []candidate.Verdict) []topology.InstanceKey {
	var out []topology.InstanceKey
	for _, v := range vs {
		out = append(out, v.Key)
	}
	return out
}

// verdictText names each replica and why, as "host:port: rule (reason)".
func verdictText(vs []candidate.Verdict) string {
	var parts []string
	for _, v := range vs {
		text := v.Key.String() + ": "
		if v.Rule != "" {
			text += v.Rule + " "
		}
		parts = append(parts, text+"("+v.Reason+")")
	}
	return strings.Join(parts, "; ")
}

func allKeys(m map[string][]topology.InstanceKey) []topology.InstanceKey {
	var out []topology.InstanceKey
	for _, ks := range m {
		out = append(out, ks...)
	}
	topology.SortKeys(out)
	return out
}

func mapText(m map[string][]topology.InstanceKey) string {
	var parts []string
	for v, ks := range m {
		parts = append(parts, fmt.Sprintf("%s on %d", v, len(ks)))
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}
