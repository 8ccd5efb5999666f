package analysis

import (
	"fmt"

	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// Analysis codes. The names are orchestrator's, which operators know.
const (
	CodeDeadMaster                                              = "DeadMaster"
	CodeDeadMasterAndSomeReplicas                               = "DeadMasterAndSomeReplicas"
	CodeDeadMasterAndReplicas                                   = "DeadMasterAndReplicas"
	CodeDeadMasterWithoutReplicas                               = "DeadMasterWithoutReplicas"
	CodeUnreachableMaster                                       = "UnreachableMaster"
	CodeUnreachableMasterWithLaggingReplicas                    = "UnreachableMasterWithLaggingReplicas"
	CodeMasterSingleReplicaNotReplicating                       = "MasterSingleReplicaNotReplicating"
	CodeMasterSingleReplicaDead                                 = "MasterSingleReplicaDead"
	CodeAllMasterReplicasNotReplicating                         = "AllMasterReplicasNotReplicating"
	CodeAllMasterReplicasNotReplicatingOrDead                   = "AllMasterReplicasNotReplicatingOrDead"
	CodeDeadIntermediateMaster                                  = "DeadIntermediateMaster"
	CodeDeadIntermediateMasterAndSomeReplicas                   = "DeadIntermediateMasterAndSomeReplicas"
	CodeDeadIntermediateMasterWithSingleReplicaFailingToConnect = "DeadIntermediateMasterWithSingleReplicaFailingToConnect"
	CodeDeadIntermediateMasterAndReplicas                       = "DeadIntermediateMasterAndReplicas"
	CodeUnreachableIntermediateMaster                           = "UnreachableIntermediateMaster"
	CodeUnreachableIntermediateMasterWithLaggingReplicas        = "UnreachableIntermediateMasterWithLaggingReplicas"
	CodeAllIntermediateMasterReplicasFailingToConnectOrDead     = "AllIntermediateMasterReplicasFailingToConnectOrDead"
	CodeDeadCoMaster                                            = "DeadCoMaster"
	CodeDeadCoMasterAndSomeReplicas                             = "DeadCoMasterAndSomeReplicas"
	CodeUnreachableCoMaster                                     = "UnreachableCoMaster"
	CodeFirstTierReplicaFailingToConnectToMaster                = "FirstTierReplicaFailingToConnectToMaster"
	CodeLockedSemiSyncMaster                                    = "LockedSemiSyncMaster"
	CodeLockedSemiSyncMasterHypothesis                          = "LockedSemiSyncMasterHypothesis"
	CodeMasterWithTooManySemiSyncReplicas                       = "MasterWithTooManySemiSyncReplicas"
	CodeReadOnlyMaster                                          = "ReadOnlyMaster"
	CodeReplicaIsWritable                                       = "ReplicaIsWritable"
	CodeErrantGTIDOnReplica                                     = "ErrantGTIDOnReplica"
	CodeClusterHasNoMaster                                      = "ClusterHasNoMaster"
	CodeNoPrimaryReachable                                      = "NoPrimaryReachable"
	CodeAccessDenied                                            = "AccessDenied"
	CodeNeverReached                                            = "NeverReached"
	CodeDeadReplica                                             = "DeadReplica"
	CodeReplicationStopped                                      = "ReplicationStopped"
	CodeBrokenReplication                                       = "BrokenReplication"
)

// Rule is one row of the catalogue: when Match holds for an instance, the
// instance has the problem Code, and Action is what to do about it.
type Rule struct {
	Code   string
	Action analyzerv1.Action
	Match  func(f *Facts, cfg Config) bool
}

// failureRules are tried in order and the first match is the instance's
// failure: the more specific a rule, the earlier it stands.
var failureRules = []Rule{
	// Vigil's own problems come first: they say nothing about the server,
	// so no failure rule may read them as its death.
	{CodeAccessDenied, analyzerv1.Action_ACTION_DETECT_ONLY, func(f *Facts, _ Config) bool {
		return f.Health.Verdict == NoAccess
	}},
	// A master Vigil has never reached, known only as its replicas' source.
	{CodeClusterHasNoMaster, analyzerv1.Action_ACTION_DETECT_ONLY, func(f *Facts, _ Config) bool {
		return f.IsMaster && !f.IsCoMaster && f.Health.Verdict == NeverReached && len(f.Replicas) > 0
	}},
	{CodeNeverReached, analyzerv1.Action_ACTION_DETECT_ONLY, func(f *Facts, _ Config) bool {
		return f.Health.Verdict == NeverReached
	}},

	// Co-masters: a two-member ring, the root analysed with its replicas
	// (the other co-master among them).
	{CodeDeadCoMaster, analyzerv1.Action_ACTION_RECOVER_CO_MASTER, func(f *Facts, _ Config) bool {
		c := f.counts()
		return f.IsCoMaster && invalid(f) && c.all > 0 && c.valid == c.all && c.replicating == 0
	}},
	{CodeDeadCoMasterAndSomeReplicas, analyzerv1.Action_ACTION_RECOVER_CO_MASTER, func(f *Facts, _ Config) bool {
		c := f.counts()
		return f.IsCoMaster && invalid(f) && c.valid > 0 && c.valid < c.all && c.replicating == 0
	}},
	{CodeUnreachableCoMaster, analyzerv1.Action_ACTION_REPROBE, func(f *Facts, _ Config) bool {
		return f.IsCoMaster && invalid(f)
	}},
	// A co-master ring in which no member takes writes: no primary.
	{CodeNoPrimaryReachable, analyzerv1.Action_ACTION_DETECT_ONLY, func(f *Facts, _ Config) bool {
		return f.IsCoMaster && f.Valid() && f.Snapshot.GetServer().GetReadOnly() && !otherCoMasterWritable(f)
	}},

	// Masters.
	{CodeDeadMasterWithoutReplicas, analyzerv1.Action_ACTION_DETECT_ONLY, func(f *Facts, _ Config) bool {
		return plainMaster(f) && invalid(f) && len(f.Replicas) == 0
	}},
	{CodeDeadMasterAndReplicas, analyzerv1.Action_ACTION_REPROBE, func(f *Facts, _ Config) bool {
		c := f.counts()
		return plainMaster(f) && invalid(f) && c.all > 0 && c.valid == 0
	}},
	{CodeDeadMaster, analyzerv1.Action_ACTION_RECOVER_MASTER, func(f *Facts, _ Config) bool {
		c := f.counts()
		return plainMaster(f) && invalid(f) && c.all > 0 && c.valid == c.all && c.replicating == 0
	}},
	{CodeDeadMasterAndSomeReplicas, analyzerv1.Action_ACTION_RECOVER_MASTER, func(f *Facts, _ Config) bool {
		c := f.counts()
		return plainMaster(f) && invalid(f) && c.valid > 0 && c.valid < c.all && c.replicating == 0
	}},
	{CodeUnreachableMasterWithLaggingReplicas, analyzerv1.Action_ACTION_RESTART_REPLICATION, func(f *Facts, _ Config) bool {
		c := f.counts()
		return plainMaster(f) && invalid(f) && c.valid > 0 && c.lagging == c.valid
	}},
	{CodeUnreachableMaster, analyzerv1.Action_ACTION_REPROBE, func(f *Facts, _ Config) bool {
		return plainMaster(f) && invalid(f)
	}},
	{CodeMasterSingleReplicaDead, analyzerv1.Action_ACTION_DETECT_ONLY, func(f *Facts, _ Config) bool {
		c := f.counts()
		return plainMaster(f) && f.Valid() && c.all == 1 && c.valid == 0 && !f.Replicas[0].unknown()
	}},
	{CodeMasterSingleReplicaNotReplicating, analyzerv1.Action_ACTION_DETECT_ONLY, func(f *Facts, _ Config) bool {
		c := f.counts()
		return plainMaster(f) && f.Valid() && c.all == 1 && c.valid == 1 && c.replicating == 0
	}},
	{CodeAllMasterReplicasNotReplicating, analyzerv1.Action_ACTION_REPROBE, func(f *Facts, _ Config) bool {
		c := f.counts()
		return plainMaster(f) && f.Valid() && c.all >= 2 && c.valid == c.all && c.replicating == 0
	}},
	{CodeAllMasterReplicasNotReplicatingOrDead, analyzerv1.Action_ACTION_REPROBE, func(f *Facts, _ Config) bool {
		c := f.counts()
		return plainMaster(f) && f.Valid() && c.all >= 2 && c.valid < c.all && c.replicating == 0 && !allUnknown(f)
	}},

	// Intermediate masters.
	{CodeDeadIntermediateMasterWithSingleReplicaFailingToConnect, analyzerv1.Action_ACTION_RECOVER_INTERMEDIATE_MASTER, func(f *Facts, _ Config) bool {
		c := f.counts()
		return f.IsIntermediate && invalid(f) && c.all == 1 && c.valid == 1 && c.connecting == 1
	}},
	{CodeDeadIntermediateMasterAndReplicas, analyzerv1.Action_ACTION_DETECT_ONLY, func(f *Facts, _ Config) bool {
		c := f.counts()
		return f.IsIntermediate && invalid(f) && c.valid == 0
	}},
	{CodeDeadIntermediateMaster, analyzerv1.Action_ACTION_RECOVER_INTERMEDIATE_MASTER, func(f *Facts, _ Config) bool {
		c := f.counts()
		return f.IsIntermediate && invalid(f) && c.valid == c.all && c.replicating == 0
	}},
	{CodeDeadIntermediateMasterAndSomeReplicas, analyzerv1.Action_ACTION_RECOVER_INTERMEDIATE_MASTER, func(f *Facts, _ Config) bool {
		c := f.counts()
		return f.IsIntermediate && invalid(f) && c.valid > 0 && c.valid < c.all && c.replicating == 0
	}},
	{CodeUnreachableIntermediateMasterWithLaggingReplicas, analyzerv1.Action_ACTION_RESTART_REPLICATION, func(f *Facts, _ Config) bool {
		c := f.counts()
		return f.IsIntermediate && invalid(f) && c.valid > 0 && c.lagging == c.valid
	}},
	{CodeUnreachableIntermediateMaster, analyzerv1.Action_ACTION_REPROBE, func(f *Facts, _ Config) bool {
		return f.IsIntermediate && invalid(f)
	}},
	{CodeAllIntermediateMasterReplicasFailingToConnectOrDead, analyzerv1.Action_ACTION_RECOVER_INTERMEDIATE_MASTER, func(f *Facts, _ Config) bool {
		c := f.counts()
		return f.IsIntermediate && f.Valid() && c.connecting > 0 && c.connecting == c.valid && !anyUnknown(f)
	}},

	// Replicas of a master that answers.
	{CodeFirstTierReplicaFailingToConnectToMaster, analyzerv1.Action_ACTION_REPROBE, func(f *Facts, _ Config) bool {
		ch := channelFrom(f.Snapshot, f.Master)
		return f.MasterIsRoot && f.MasterValid && f.Valid() && ch.GetIoThread() == topologyv1.ThreadState_THREAD_STATE_CONNECTING
	}},

	// Semi-sync.
	{CodeLockedSemiSyncMaster, analyzerv1.Action_ACTION_ENABLE_SEMI_SYNC, func(f *Facts, cfg Config) bool {
		return plainMaster(f) && f.Valid() && semiSyncShort(f) && f.SemiSyncLockedFor >= cfg.SemiSyncConfirmation
	}},
	{CodeLockedSemiSyncMasterHypothesis, analyzerv1.Action_ACTION_DETECT_ONLY, func(f *Facts, _ Config) bool {
		return plainMaster(f) && f.Valid() && semiSyncShort(f)
	}},
	{CodeMasterWithTooManySemiSyncReplicas, analyzerv1.Action_ACTION_DISABLE_SEMI_SYNC, func(f *Facts, cfg Config) bool {
		ss := f.Snapshot.GetServer().GetSemiSync()
		return cfg.EnforceExactSemiSync && plainMaster(f) && f.Valid() && ss.GetSourceEnabled() &&
			ss.GetSourceClients() > ss.GetSourceWaitForReplicaCount()
	}},

	{CodeReadOnlyMaster, analyzerv1.Action_ACTION_SET_WRITABLE, func(f *Facts, _ Config) bool {
		return plainMaster(f) && f.Valid() && f.Snapshot.GetServer().GetReadOnly() && f.counts().replicating > 0
	}},
}

// independentRules are checked on every instance, whatever its failure.
var independentRules = []Rule{
	{CodeReplicaIsWritable, analyzerv1.Action_ACTION_SET_READ_ONLY, func(f *Facts, _ Config) bool {
		return f.HasMaster && !f.IsCoMaster && f.Valid() && f.Snapshot != nil && !f.Snapshot.GetServer().GetReadOnly()
	}},
	{CodeErrantGTIDOnReplica, analyzerv1.Action_ACTION_DETECT_ONLY, func(f *Facts, _ Config) bool {
		return f.HasMaster && f.Valid() && f.Errant != ""
	}},

	// Replica-level problems under a master that answers.
	{CodeDeadReplica, analyzerv1.Action_ACTION_DETECT_ONLY, func(f *Facts, _ Config) bool {
		return f.HasMaster && !f.IsMaster && !f.IsIntermediate && invalid(f) && f.MasterValid
	}},
	{CodeBrokenReplication, analyzerv1.Action_ACTION_DETECT_ONLY, func(f *Facts, _ Config) bool {
		return f.HasMaster && f.Valid() && brokenThread(f.channel()) != ""
	}},
	{CodeReplicationStopped, analyzerv1.Action_ACTION_DETECT_ONLY, func(f *Facts, _ Config) bool {
		return f.HasMaster && f.Valid() && brokenThread(f.channel()) == "" && stoppedThread(f.channel()) != ""
	}},
}

// brokenThread names the replication thread that stopped on an error, with
// the error, or returns "".
func brokenThread(ch *topologyv1.ReplicationChannel) string {
	switch {
	case ch.GetSqlThread() == topologyv1.ThreadState_THREAD_STATE_NO && ch.GetLastSqlErrno() != 0:
		return fmt.Sprintf("SQL thread stopped on error %d: %s", ch.GetLastSqlErrno(), ch.GetLastSqlError())
	case ch.GetIoThread() == topologyv1.ThreadState_THREAD_STATE_NO && ch.GetLastIoErrno() != 0:
		return fmt.Sprintf("IO thread stopped on error %d: %s", ch.GetLastIoErrno(), ch.GetLastIoError())
	}
	return ""
}

// stoppedThread names the replication threads that are stopped, or returns "".
func stoppedThread(ch *topologyv1.ReplicationChannel) string {
	io := ch.GetIoThread() == topologyv1.ThreadState_THREAD_STATE_NO
	sql := ch.GetSqlThread() == topologyv1.ThreadState_THREAD_STATE_NO
	switch {
	case io && sql:
		return "IO and SQL threads stopped"
	case io:
		return "IO thread stopped"
	case sql:
		return "SQL thread stopped"
	}
	return ""
}

// plainMaster reports whether f is the root of a plain (not ring) cluster.
func plainMaster(f *Facts) bool { return f.IsMaster && !f.IsCoMaster }

// invalid reports whether the instance failed or hung; Unknown is not a
// failure.
func invalid(f *Facts) bool {
	return f.Health.Verdict == Failed || f.Health.Verdict == Hung
}

// unknown reports whether nothing is known of the replica's health: no
// evidence, Vigil's own access refused, or never reached.
func (r ReplicaFacts) unknown() bool {
	switch r.Health.Verdict {
	case Unknown, NoAccess, NeverReached:
		return true
	}
	return false
}

func allUnknown(f *Facts) bool {
	for _, r := range f.Replicas {
		if !r.unknown() {
			return false
		}
	}
	return true
}

func anyUnknown(f *Facts) bool {
	for _, r := range f.Replicas {
		if r.unknown() {
			return true
		}
	}
	return false
}

// semiSyncShort: semi-sync is on and fewer replicas ack than the master
// waits for, so commits wait for the timeout (or forever).
func semiSyncShort(f *Facts) bool {
	ss := f.Snapshot.GetServer().GetSemiSync()
	return ss.GetSourceEnabled() && ss.GetSourceStatus() && ss.GetSourceWaitForReplicaCount() > 0 &&
		ss.GetSourceClients() < ss.GetSourceWaitForReplicaCount()
}

func otherCoMasterWritable(f *Facts) bool {
	for _, r := range f.Replicas {
		if r.Valid() && r.Channel != nil && r.Health.Latest.GetServer() != nil && !r.Health.Latest.GetServer().GetReadOnly() {
			return true
		}
	}
	return false
}

func describe(code string, f *Facts) string {
	switch code {
	case CodeBrokenReplication:
		return fmt.Sprintf("%s on %s: replication from %s broken, %s", code, f.Key, f.Master, brokenThread(f.channel()))
	case CodeReplicationStopped:
		return fmt.Sprintf("%s on %s: replication from %s stopped by hand, %s", code, f.Key, f.Master, stoppedThread(f.channel()))
	case CodeAccessDenied:
		return fmt.Sprintf("%s on %s: Vigil cannot read it (%s); check the topology user's password, grants and TLS settings",
			code, f.Key, f.Health.Latest.GetError())
	case CodeNeverReached:
		return fmt.Sprintf("%s on %s: no probe has ever reached it (%s); check the address", code, f.Key, f.Health.Latest.GetError())
	}
	c := f.counts()
	return fmt.Sprintf("%s on %s (%s): %d replicas, %d valid, %d replicating", code, f.Key, f.Health.Verdict, c.all, c.valid, c.replicating)
}
