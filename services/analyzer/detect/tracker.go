// Package detect follows detections through their life: a problem found by
// the analysis starts a detection with a stable id, a change in its
// evidence changes it, and its absence from a later analysis clears it.
package detect

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/vigil-db/vigil/pkg/topology"
	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
	"github.com/vigil-db/vigil/services/analyzer/analysis"
)

// Tracker holds the active detections. It is safe for concurrent use.
type Tracker struct {
	mu     sync.Mutex
	active map[id]*entry
}

// id identifies a problem: one code on one instance.
type id struct {
	instance topology.InstanceKey
	code     string
}

type entry struct {
	det       *analyzerv1.Detection // never changed after it is handed out
	signature string
}

// NewTracker returns a tracker with no active detection.
func NewTracker() *Tracker {
	return &Tracker{active: make(map[id]*entry)}
}

// Scope is the part of the world one analysis covered: a cluster and its
// instances. Detections inside it that the analysis did not find again are
// cleared.
type Scope struct {
	Cluster string
	Alias   string
	Members []topology.InstanceKey
}

// Update records the problems one analysis of scope found and returns the
// detections that started, changed or cleared, in that order of kind.
func (t *Tracker) Update(scope Scope, problems []analysis.Problem, now time.Time) []*analyzerv1.Detection {
	t.mu.Lock()
	defer t.mu.Unlock()
	var changes []*analyzerv1.Detection
	found := make(map[id]bool, len(problems))
	for _, p := range problems {
		k := id{p.Instance, p.Code}
		found[k] = true
		e, ok := t.active[k]
		if !ok {
			d := newDetection(scope, p, now)
			t.active[k] = &entry{det: d, signature: signature(d)}
			changes = append(changes, d)
			continue
		}
		d := proto.Clone(e.det).(*analyzerv1.Detection)
		fill(d, scope, p)
		if sig := signature(d); sig != e.signature {
			d.State = analyzerv1.DetectionState_DETECTION_STATE_CHANGED
			d.ChangedAt = timestamppb.New(now)
			e.det, e.signature = d, sig
			changes = append(changes, d)
		}
	}
	members := make(map[topology.InstanceKey]bool, len(scope.Members))
	for _, m := range scope.Members {
		members[m] = true
	}
	for k, e := range t.active {
		inScope := members[k.instance] || e.det.GetCluster() == scope.Cluster
		if inScope && !found[k] {
			changes = append(changes, t.clearLocked(k, now))
		}
	}
	return changes
}

// Load makes the given detections active again, as a restarted analyzer
// found them in the store: an analysis that finds the same problem again
// keeps its id and, when nothing about it changed, reports no change.
// Cleared detections are ignored.
func (t *Tracker) Load(ds []*analyzerv1.Detection) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, d := range ds {
		key, err := topology.KeyFromProto(d.GetInstance())
		if err != nil || d.GetState() == analyzerv1.DetectionState_DETECTION_STATE_CLEARED {
			continue
		}
		t.active[id{key, d.GetCode()}] = &entry{det: d, signature: signature(d)}
	}
}

// Retain clears every detection whose cluster is not in clusters and whose
// instance is not in any of them: what a vanished cluster left behind.
func (t *Tracker) Retain(clusters map[string]bool, instances map[topology.InstanceKey]bool, now time.Time) []*analyzerv1.Detection {
	t.mu.Lock()
	defer t.mu.Unlock()
	var changes []*analyzerv1.Detection
	for k, e := range t.active {
		if !clusters[e.det.GetCluster()] && !instances[k.instance] {
			changes = append(changes, t.clearLocked(k, now))
		}
	}
	return changes
}

func (t *Tracker) clearLocked(k id, now time.Time) *analyzerv1.Detection {
	d := proto.Clone(t.active[k].det).(*analyzerv1.Detection)
	d.State = analyzerv1.DetectionState_DETECTION_STATE_CLEARED
	d.ChangedAt = timestamppb.New(now)
	d.ClearedAt = timestamppb.New(now)
	delete(t.active, k)
	return d
}

// ActiveSince returns when the detection of code on key started, if active.
func (t *Tracker) ActiveSince(key topology.InstanceKey, code string) (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.active[id{key, code}]
	if !ok {
		return time.Time{}, false
	}
	return e.det.GetDetectedAt().AsTime(), true
}

// Active returns the active detections that keep says to keep, oldest first.
func (t *Tracker) Active(keep func(*analyzerv1.Detection) bool) []*analyzerv1.Detection {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []*analyzerv1.Detection
	for _, e := range t.active {
		if keep == nil || keep(e.det) {
			out = append(out, e.det)
		}
	}
	slices.SortFunc(out, func(a, b *analyzerv1.Detection) int {
		if c := a.GetDetectedAt().AsTime().Compare(b.GetDetectedAt().AsTime()); c != 0 {
			return c
		}
		return strings.Compare(a.GetId(), b.GetId())
	})
	return out
}

func newDetection(scope Scope, p analysis.Problem, now time.Time) *analyzerv1.Detection {
	d := &analyzerv1.Detection{
		Id:         newID(),
		Code:       p.Code,
		Instance:   p.Instance.Proto(),
		State:      analyzerv1.DetectionState_DETECTION_STATE_STARTED,
		DetectedAt: timestamppb.New(now),
		ChangedAt:  timestamppb.New(now),
	}
	fill(d, scope, p)
	return d
}

// fill copies what may change over a detection's life.
func fill(d *analyzerv1.Detection, scope Scope, p analysis.Problem) {
	d.Cluster, d.ClusterAlias = scope.Cluster, scope.Alias
	d.SuggestedAction = p.Action
	d.Description = p.Description
	d.Downtimed = p.Downtimed
	d.Evidence = d.Evidence[:0]
	for _, e := range p.Evidence {
		d.Evidence = append(d.Evidence, &analyzerv1.Evidence{
			Instance:   e.Instance.Proto(),
			ObserverId: e.Observer,
			ObservedAt: timestamppb.New(e.ObservedAt),
			Statement:  e.Statement,
		})
	}
}

// signature is what makes a detection "changed": everything but times and
// state. It is taken from the detection itself, so that one loaded from the
// store compares as it did before.
func signature(d *analyzerv1.Detection) string {
	lines := []string{fmt.Sprintf("%s|%s|%s|%v|%s", d.GetCode(), d.GetCluster(), d.GetSuggestedAction(), d.GetDowntimed(), d.GetDescription())}
	for _, e := range d.GetEvidence() {
		lines = append(lines, fmt.Sprintf("%s:%d|%s|%s", e.GetInstance().GetHost(), e.GetInstance().GetPort(), e.GetObserverId(), e.GetStatement()))
	}
	slices.Sort(lines[1:])
	return strings.Join(lines, "\n")
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
