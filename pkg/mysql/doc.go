// Package mysql probes MySQL, Percona Server and MariaDB servers and records
// what it sees as a topologyv1.Snapshot.
//
// A Prober keeps a small connection pool per instance and bounds every probe
// with a context deadline, so a hung server (TCP open, nothing answering)
// costs at most the connect plus read timeout. Failures are classified from
// MySQL error numbers and network errors, never from message text.
//
// The SQL that differs between flavours and versions lives in dialect.go;
// turning result rows into protobuf messages (parse*.go) is kept apart from
// querying so it can be tested against documented outputs without a server.
package mysql
