// Package e2e tests Vigil end to end: real MariaDB sandbox topologies, real
// PostgreSQL, and every service over real gRPC and HTTP on loopback.
package e2e
