// Package grpcx holds what every Vigil gRPC server and client shares: servers
// with health and reflection, a serve loop with graceful shutdown, and dialing.
package grpcx
