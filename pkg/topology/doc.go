// Package topology is Vigil's domain model of replication trees: instance
// keys, and the cluster graph built from snapshots.
package topology
