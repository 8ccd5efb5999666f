package discovery

import (
	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// instanceState is what discovery remembers of a watched instance besides
// its latest snapshot.
type instanceState struct {
	// lastGood is the latest good snapshot (topology.IsGood): where the
	// instance stood when it was last seen, kept while it is down.
	lastGood *topologyv1.Snapshot
	// accessProblem is set while probes fail on Vigil's own access.
	accessProblem bool
	// neverReachedLogged is set once a failed probe of an instance that was
	// never reached has been logged.
	neverReachedLogged bool
}

// remember records a completed probe and logs what operators must fix:
// Vigil's own access problems, and instances never reached.
func (s *Service) remember(key topology.InstanceKey, snap *topologyv1.Snapshot) {
	s.mu.Lock()
	st := s.states[key]
	if st == nil {
		st = &instanceState{}
		s.states[key] = st
	}
	if topology.IsGood(snap) {
		st.lastGood = snap
	}
	access := topology.IsAccessProblem(snap.GetErrorClass())
	accessChanged := access != st.accessProblem
	st.accessProblem = access
	neverReached := st.lastGood == nil && !snap.GetReachable() && !access && !st.neverReachedLogged
	if neverReached {
		st.neverReachedLogged = true
	}
	s.mu.Unlock()

	log := s.log.With("instance", key.String())
	switch {
	case access && accessChanged:
		log.Error("cannot read instance: Vigil's access is refused; check the topology user's password, grants and TLS settings",
			"error_class", snap.GetErrorClass().String(), "error_number", snap.GetErrorNumber(), "err", snap.GetError())
	case accessChanged:
		log.Info("access to instance restored")
	}
	if neverReached {
		log.Warn("instance never reached: check its address (a mistyped seed?) and that it is up",
			"seed", s.isSeed(key), "error_class", snap.GetErrorClass().String(), "err", snap.GetError())
	}
}

// lastGood returns the latest good snapshot of key, or nil.
func (s *Service) lastGood(key topology.InstanceKey) *topologyv1.Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.states[key]; st != nil {
		return st.lastGood
	}
	return nil
}

func (s *Service) isSeed(key topology.InstanceKey) bool {
	for _, seed := range s.cfg.Seeds {
		if k, err := topology.ParseInstanceKey(seed); err == nil && k == key {
			return true
		}
	}
	return false
}
