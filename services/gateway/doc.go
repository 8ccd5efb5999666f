// Package gateway serves Vigil's REST API: it translates HTTP/JSON requests
// into gRPC calls on the discovery, analyzer and recovery services (through
// grpc-gateway), and serves the OpenAPI document and the health endpoints.
package gateway
