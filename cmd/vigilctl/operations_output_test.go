package main

import (
	"bytes"
	"testing"

	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
)

// The readiness and explanations the fake serves cover one shape each; these
// cover the others.

func TestWriteReadiness(t *testing.T) {
	tests := []struct {
		name string
		r    *recoveryv1.FailoverReadiness
		want string
	}{
		{
			name: "ready",
			r:    &recoveryv1.FailoverReadiness{Cluster: "db1:3306", Master: key("db1", 3306), WouldPromote: key("db2", 3306), Ready: true},
			want: "cluster db1:3306, master db1:3306\n" +
				"if the master died now: promote db2:3306\n" +
				"gate: none\n" +
				"ready: yes\n",
		},
		{
			name: "no replica to promote",
			r: &recoveryv1.FailoverReadiness{Cluster: "db1:3306", Master: key("db1", 3306),
				Refused: []*recoveryv1.ReplicaVerdict{{Instance: key("db2", 3306), Rule: "must_not", Reason: "registered must_not by alice"}}},
			want: "cluster db1:3306, master db1:3306\n" +
				"if the master died now: promote none\n" +
				"  refused db2:3306: must_not (registered must_not by alice)\n" +
				"gate: none\n" +
				"ready: no\n",
		},
		{
			name: "empty",
			r:    &recoveryv1.FailoverReadiness{Cluster: "db1:3306"},
			want: "cluster db1:3306, master -\n" +
				"if the master died now: promote none\n" +
				"gate: none\n" +
				"ready: no\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			writeReadiness(&b, tt.r)
			if b.String() != tt.want {
				t.Errorf("got\n%s\nwant\n%s", b.String(), tt.want)
			}
		})
	}
}

func TestWriteExplanation(t *testing.T) {
	tests := []struct {
		name string
		e    *recoveryv1.Explanation
		want string
	}{
		{
			name: "dry run on a rule",
			e: &recoveryv1.Explanation{DetectionId: "d2", Analysis: "DeadMaster", Instance: key("db1", 3306),
				DetectedAt: at("2026-01-02T03:04:05Z"), Verdict: recoveryv1.Verdict_VERDICT_DRY_RUN,
				Rule: "prefer", Reason: "dry run: db2:3306 would be promoted", RecoveryIds: []string{"rec-3", "rec-2"}},
			want: "\ndetection d2 DeadMaster db1:3306 at 2026-01-02T03:04:05Z (cleared): dry_run\n" +
				"  rule: prefer\n  dry run: db2:3306 would be promoted\n  recoveries: rec-3 rec-2\n",
		},
		{
			name: "failed step",
			e: &recoveryv1.Explanation{DetectionId: "d3", Analysis: "DeadIntermediateMaster", Instance: key("db2", 3306),
				DetectedAt: at("2026-01-02T03:04:05Z"), Active: true, Verdict: recoveryv1.Verdict_VERDICT_FAILED,
				Step: "relocate-replicas", Reason: "db4:3306 could not be moved"},
			want: "\ndetection d3 DeadIntermediateMaster db2:3306 at 2026-01-02T03:04:05Z (active): failed\n" +
				"  step: relocate-replicas\n  db4:3306 could not be moved\n",
		},
		{
			name: "not recoverable, nothing decided",
			e: &recoveryv1.Explanation{DetectionId: "d4", Analysis: "ReplicationStopped", Instance: key("db3", 3306),
				Active: true, Verdict: recoveryv1.Verdict_VERDICT_NOT_RECOVERABLE},
			want: "\ndetection d4 ReplicationStopped db3:3306 at - (active): not_recoverable\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			writeExplanation(&b, tt.e)
			if b.String() != tt.want {
				t.Errorf("got\n%q\nwant\n%q", b.String(), tt.want)
			}
		})
	}
}
