// Package storetest is the contract suite every store.Store implementation
// must pass, so that the services see the same behaviour from each.
package storetest

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// Run runs the contract suite. newStore must return a fresh, empty store for
// each subtest and arrange for it to be closed (t.Cleanup); subtests run in
// parallel.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, s store.Store)
	}{
		{"SaveSnapshots/NewInstances", testSaveNew},
		{"SaveSnapshots/BatchUpsert", testSaveUpsert},
		{"SaveSnapshots/OlderDoesNotOverwrite", testSaveOlder},
		{"SaveSnapshots/SameProbeFinishedOverwrites", testSaveSameTime},
		{"SaveSnapshots/LastGoodOnlyWhenGood", testLastSeen},
		{"SaveSnapshots/DuplicateKeysInBatch", testSaveDuplicates},
		{"SaveSnapshots/KeepsCluster", testSaveKeepsCluster},
		{"SaveSnapshots/InvalidBatchRefused", testSaveInvalid},
		{"SaveSnapshots/EmptyBatchIsNoOp", testSaveEmpty},
		{"SaveSnapshots/ThousandSnapshots", testSaveThousand},
		{"SaveSnapshots/Concurrent", testSaveConcurrent},
		{"SaveSnapshots/TimesUTCMicroseconds", testTimes},
		{"ListInstances/Ordered", testListOrdered},
		{"GetInstance/NotFound", testGetNotFound},
		{"DeleteInstance", testDelete},
		{"RegisterInstances/ListedWithStored", testRegister},
		{"RegisterInstances/DeleteRegistered", testRegisterDelete},
		{"RegisterInstances/InvalidRefused", testRegisterInvalid},
		{"ReplaceClusters/AssignsAndLists", testClusters},
		{"ReplaceClusters/ReplacesAndUnassigns", testClustersReplace},
		{"ReplaceClusters/InvalidRefused", testClustersInvalid},
		{"ReplaceClusters/Concurrent", testClustersConcurrent},
		{"GlobalRecoveries/DefaultEnabled", testRecoveriesDefault},
		{"GlobalRecoveries/Set", testRecoveriesSet},
		{"Detections/UpsertByID", testDetectionsUpsert},
		{"Detections/DuplicateIDsInBatch", testDetectionsDuplicates},
		{"Detections/ClearAndActiveOnly", testDetectionsClear},
		{"Detections/Filter", testDetectionsFilter},
		{"Detections/NewestFirst", testDetectionsOrder},
		{"Detections/Pages", testDetectionsPages},
		{"Detections/PageSize", testDetectionsPageSize},
		{"Detections/BadRequest", testDetectionsBadRequest},
		{"Detections/InvalidBatchRefused", testDetectionsInvalid},
		{"Detections/Concurrent", testDetectionsConcurrent},
		{"Downtimes/BeginAndList", testDowntimesBegin},
		{"Downtimes/Replace", testDowntimesReplace},
		{"Downtimes/End", testDowntimesEnd},
		{"Downtimes/ExpiredNotListed", testDowntimesExpired},
		{"Downtimes/InvalidRefused", testDowntimesInvalid},
		{"Candidates/RegisterAndList", testCandidatesRegister},
		{"Candidates/Replace", testCandidatesReplace},
		{"Candidates/ExpiredNotListed", testCandidatesExpired},
		{"Candidates/InvalidRefused", testCandidatesInvalid},
		{"Recoveries/SaveAndGet", testRecoveriesSaveGet},
		{"Recoveries/FilterAndOrder", testRecoveriesFilterAndOrder},
		{"Recoveries/Pages", testRecoveriesPages},
		{"Recoveries/Acknowledge", testRecoveriesAcknowledge},
		{"Recoveries/InvalidRefused", testRecoveriesInvalid},
		{"Copies/Instances", testCopiesInstances},
		{"Copies/Clusters", testCopiesClusters},
		{"Copies/Detections", testCopiesDetections},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, newStore(t))
		})
	}
}

// at returns the probe_finished n seconds into the tests' timeline, in whole
// microseconds so that stored times compare equal.
func at(n int) time.Time {
	return time.Date(2030, time.January, 2, 3, 4, 5, 123456000, time.UTC).Add(time.Duration(n) * time.Second)
}

func key(host string, port uint16) topology.InstanceKey {
	return topology.InstanceKey{Host: host, Port: port}
}

func save(t *testing.T, s store.Store, snaps ...*topologyv1.Snapshot) {
	t.Helper()
	if err := s.SaveSnapshots(context.Background(), snaps); err != nil {
		t.Fatalf("SaveSnapshots(%d snapshots): %v", len(snaps), err)
	}
}

func get(t *testing.T, s store.Store, k topology.InstanceKey) store.Instance {
	t.Helper()
	inst, err := s.GetInstance(context.Background(), k)
	if err != nil {
		t.Fatalf("GetInstance(%s): %v", k, err)
	}
	return inst
}

// checkInstance compares every field of got with want; want.UpdatedAt is not
// compared when zero.
func checkInstance(t *testing.T, got, want store.Instance) {
	t.Helper()
	if got.Key != want.Key {
		t.Errorf("Key = %v, want %v", got.Key, want.Key)
	}
	if !proto.Equal(got.Snapshot, want.Snapshot) {
		t.Errorf("%s: Snapshot = %v, want %v", want.Key, got.Snapshot, want.Snapshot)
	}
	if got.Cluster != want.Cluster {
		t.Errorf("%s: Cluster = %q, want %q", want.Key, got.Cluster, want.Cluster)
	}
	checkTime(t, want.Key.String()+": FirstSeen", got.FirstSeen, want.FirstSeen)
	checkTime(t, want.Key.String()+": LastSeen", got.LastSeen, want.LastSeen)
	if !want.UpdatedAt.IsZero() {
		checkTime(t, want.Key.String()+": UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	}
}

func checkTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) || (!got.IsZero() && got.Location() != time.UTC) {
		t.Errorf("%s = %v, want %v (UTC)", what, got, want)
	}
}

// window records the time around a call, at the precision stores keep.
type window struct{ from, to time.Time }

func startWindow() window { return window{from: time.Now().Truncate(time.Microsecond)} }

func (w *window) end() { w.to = time.Now() }

func (w window) check(t *testing.T, what string, got time.Time) {
	t.Helper()
	if got.Before(w.from) || got.After(w.to) || got.Location() != time.UTC {
		t.Errorf("%s = %v, want UTC between %v and %v", what, got, w.from, w.to)
	}
}
