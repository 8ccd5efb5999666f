package topology

import topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"

// IsAccessProblem reports whether an error class is Vigil's own access
// problem (the topology user cannot log in, lacks a privilege, or TLS does
// not work as configured) rather than a sign of the server's health.
func IsAccessProblem(c topologyv1.ErrorClass) bool {
	switch c {
	case topologyv1.ErrorClass_ERROR_CLASS_AUTH, topologyv1.ErrorClass_ERROR_CLASS_PRIVILEGE, topologyv1.ErrorClass_ERROR_CLASS_TLS:
		return true
	}
	return false
}

// IsGood reports whether a snapshot says where the instance stands: the
// probe reached it, and no missing privilege left out what it reads (a
// partial snapshot without its replication channels would move the
// instance to the top of a tree of its own).
func IsGood(s *topologyv1.Snapshot) bool {
	return s.GetReachable() && !(s.GetPartial() && IsAccessProblem(s.GetErrorClass()))
}
