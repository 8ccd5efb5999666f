package main

import "context"

// command is one vigilctl command.
type command struct {
	name    string
	aliases []string
	// args is the synopsis of what the command takes, for help.
	args    string
	summary string
	// positional names the option a single positional argument fills:
	// "instance", "cluster", "pattern", or "" when the command takes none.
	positional string
	// patternFromI takes the pattern from -i, as orchestrator-client's
	// search does.
	patternFromI bool
	// follows marks a command that prints a stream as it comes, until
	// interrupted: --timeout does not bound it.
	follows bool
	run     func(context.Context, *invocation) error
}

// commands is every command, in help order. Each is also reachable as
// "-c <name>"; names and aliases follow orchestrator-client.
var commands = []*command{
	{name: "clusters", summary: "list the names of all clusters", run: runClusters},
	{name: "clusters-alias", summary: "list all clusters as name<TAB>alias", run: runClustersAlias},
	{name: "cluster-info", args: "(--cluster name|alias | -i host:port)", positional: "cluster",
		summary: "show a cluster's name, alias, domain, master and size", run: runClusterInfo},
	{name: "topology", args: "(--cluster name|alias | -i host:port)", positional: "cluster",
		summary: "show a cluster's replication tree as text", run: runTopology},
	{name: "topology-tabulated", args: "(--cluster name|alias | -i host:port)", positional: "cluster",
		summary: "show a cluster's replication tree, fields separated by tabs", run: runTopologyTabulated},
	{name: "instance", aliases: []string{"which-instance"}, args: "-i host:port", positional: "instance",
		summary: "print an instance's host:port, or fail if it is not known", run: runInstance},
	{name: "which-master", args: "(-i host:port | --cluster name|alias)", positional: "instance",
		summary: "print the master an instance replicates from, or a cluster's master", run: runWhichMaster},
	{name: "which-replicas", args: "-i host:port [--broken]", positional: "instance",
		summary: "list the direct replicas of an instance", run: runWhichReplicas},
	{name: "which-broken-replicas", args: "-i host:port", positional: "instance",
		summary: "list the direct replicas of an instance whose replication is broken", run: runWhichBrokenReplicas},
	{name: "which-cluster", args: "(-i host:port | --cluster alias)", positional: "instance",
		summary: "print the name of the cluster an instance belongs to", run: runWhichCluster},
	{name: "which-cluster-alias", args: "(-i host:port | --cluster name)", positional: "instance",
		summary: "print the alias of the cluster an instance belongs to", run: runWhichClusterAlias},
	{name: "which-cluster-master", args: "(--cluster name|alias | -i host:port)", positional: "cluster",
		summary: "print the master of a cluster", run: runWhichClusterMaster},
	{name: "which-cluster-instances", args: "(--cluster name|alias | -i host:port)", positional: "cluster",
		summary: "list the instances of a cluster", run: runWhichClusterInstances},
	{name: "all-instances", args: "[--cluster name|alias] [--pattern text]", positional: "pattern",
		summary: "list all known instances, optionally of one cluster or matching a pattern", run: runAllInstances},
	{name: "search", args: "text", positional: "pattern", patternFromI: true,
		summary: "list the instances whose host:port contains text", run: runSearch},
	{name: "discover", args: "-i host:port", positional: "instance",
		summary: "probe an instance and start watching it and its replication tree", run: runDiscover},
	{name: "forget", args: "-i host:port", positional: "instance",
		summary: "stop watching an instance and forget what is known of it", run: runForget},
	{name: "forget-cluster", args: "--cluster name|alias", positional: "cluster",
		summary: "stop watching every instance of a cluster; print them", run: runForgetCluster},
	{name: "members", aliases: []string{"discovery-members"},
		summary: "list the live discovery members: domain, address, lease, instances owned", run: runMembers},
	{name: "observers", args: "-i host:port", positional: "instance",
		summary: "list the discovery members observing an instance and what each saw last", run: runObservers},
	{name: "check-global-recoveries", summary: "print whether automated recoveries are enabled", run: runCheckGlobalRecoveries},
	{name: "disable-global-recoveries", summary: "disable automated recoveries everywhere", run: runDisableGlobalRecoveries},
	{name: "enable-global-recoveries", summary: "enable automated recoveries", run: runEnableGlobalRecoveries},
	{name: "replication-analysis", args: "[--cluster name|alias | -i host:port]", positional: "cluster",
		summary: "list the problems the analyzer sees now, and structure warnings", run: runReplicationAnalysis},
	{name: "audit-failure-detection", args: "[--cluster name|alias | -i host:port] [--limit n]", positional: "cluster",
		summary: "list past and current detections, newest first", run: runAuditFailureDetection},
	{name: "detection-events", aliases: []string{"watch-detections"}, follows: true,
		summary: "print detections as they start, change and clear, until interrupted", run: runDetectionEvents},
	{name: "begin-downtime", args: "-i host:port --duration d [--owner who] [--reason text]", positional: "instance",
		summary: "downtime an instance: it is still analysed, but recoveries skip it", run: runBeginDowntime},
	{name: "end-downtime", args: "-i host:port", positional: "instance",
		summary: "end an instance's downtime early", run: runEndDowntime},
	{name: "downtimed", summary: "list the downtimes in force", run: runDowntimed},
	{name: "audit-recovery", args: "[--cluster name|alias] [--limit n]", positional: "cluster",
		summary: "list recoveries, newest first: those that ran and those a gate stopped", run: runAuditRecovery},
	{name: "recovery-steps", args: "--id id",
		summary: "show one recovery with every step it took", run: runRecoverySteps},
	{name: "blocked-recoveries", summary: "list the clusters where an unacknowledged recovery blocks the next one", run: runBlockedRecoveries},
	{name: "ack-cluster-recoveries", args: "--cluster name|alias --reason text", positional: "cluster",
		summary: "acknowledge a cluster's recoveries, lifting its anti-flapping block", run: runAckClusterRecoveries},
	{name: "ack-all-recoveries", args: "--reason text",
		summary: "acknowledge every recovery, lifting every anti-flapping block", run: runAckAllRecoveries},
	{name: "graceful-master-takeover", args: "(--cluster name|alias | -i host:port) -d host:port", positional: "cluster",
		summary: "hand mastership to a replica with no transaction lost; print the new master", run: runGracefulMasterTakeover},
	{name: "graceful-master-takeover-auto", args: "(--cluster name|alias | -i host:port) [-d host:port]", positional: "cluster",
		summary: "graceful-master-takeover to the replica Vigil picks, or -d", run: runGracefulMasterTakeoverAuto},
	{name: "force-master-failover", args: "(--cluster name|alias | -i host:port)", positional: "cluster",
		summary: "fail the master over now, leaving it as it is; print the new master", run: runForceMasterFailover},
	{name: "force-master-takeover", args: "(--cluster name|alias | -i host:port) -d host:port", positional: "cluster",
		summary: "promote a replica now, leaving the master as it is", run: runForceMasterTakeover},
	{name: "recover", args: "-i host:port [-d host:port]", positional: "instance",
		summary: "recover a detected failure of an instance now, optionally promoting -d", run: runRecover},
	{name: "register-candidate", args: "-i host:port --promotion-rule rule [--duration d]", positional: "instance",
		summary: "set an instance's promotion rule for a while (default 1h)", run: runRegisterCandidate},
	{name: "candidates", aliases: []string{"list-candidates"},
		summary: "list the registered promotion rules in force", run: runCandidates},
	{name: "failover-readiness", aliases: []string{"readiness"}, args: "(--cluster name|alias | -i host:port)", positional: "cluster",
		summary: "say who would be promoted and who lost if the master died now, and what would stop it", run: runReadiness},
	{name: "explain", args: "(--cluster name|alias | -i host:port) [--detection id]", positional: "cluster",
		summary: "say why the cluster's recent failures were or were not recovered", run: runExplain},
}

// lookupCommand finds a command by name or alias.
func lookupCommand(name string) (*command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
		for _, a := range c.aliases {
			if a == name {
				return c, true
			}
		}
	}
	return nil, false
}
