package recovery

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// Drill schedules graceful takeovers of the clusters it matches, and back,
// to prove failover works before it is needed (ARCHITECTURE §6.4). Every
// recovery process configured with a drill runs it: configure drills on
// one of them.
type Drill struct {
	// Cluster is a regular expression matched against cluster names and
	// aliases.
	Cluster string `yaml:"cluster"`
	// Every is the time between two drills of one cluster, such as 168h.
	Every time.Duration `yaml:"every"`
}

// drillCaller is Recovery.started_by of the takeovers a drill runs.
const drillCaller = "drill"

// drillSettle bounds the wait, between the takeover and the way back, for
// the analyzers to see the new topology.
const drillSettle = 30 * time.Second

// drillLoop runs one configured drill every d.Every until ctx ends.
func (s *Service) drillLoop(ctx context.Context, d Drill) {
	re := regexp.MustCompile(d.Cluster) // validated in Config.Validate
	t := time.NewTicker(d.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, c := range s.drillClusters(ctx, re) {
			if err := s.Drill(ctx, c); err != nil && ctx.Err() == nil {
				s.log.Warn("drill failed", "cluster", c, "err", err)
			}
		}
	}
}

// drillClusters lists the clusters whose name or alias matches re.
func (s *Service) drillClusters(ctx context.Context, re *regexp.Regexp) []string {
	var out []string
	for _, c := range s.topology {
		req := &topologyv1.ListClustersRequest{}
		for {
			resp, err := c.ListClusters(ctx, req)
			if err != nil {
				s.log.Warn("drill: clusters unreadable", "err", err)
				return out
			}
			for _, cl := range resp.GetClusters() {
				if re.MatchString(cl.GetName()) || (cl.GetAlias() != "" && re.MatchString(cl.GetAlias())) {
					out = append(out, cl.GetName())
				}
			}
			if resp.GetNextPageToken() == "" {
				return out
			}
			req.PageToken = resp.GetNextPageToken()
		}
	}
	return out
}

// Drill hands a cluster's mastership to its best replica with a graceful
// takeover and, once the analyzers see the new topology, back to the
// master it had. Both takeovers are in the audit, started by "drill".
func (s *Service) Drill(ctx context.Context, cluster string) error {
	ref, err := s.resolveCluster(ctx, cluster)
	if err != nil {
		return err
	}
	rec, err := s.GracefulMasterTakeover(ctx, cluster, topology.InstanceKey{}, drillCaller)
	if err != nil {
		return fmt.Errorf("takeover: %w", err)
	}
	successor, err := topology.KeyFromProto(rec.GetSuccessor())
	if err != nil {
		return err
	}
	if err := s.waitForMaster(ctx, successor, ref.master, len(ref.replicas)); err != nil {
		return fmt.Errorf("after the takeover to %s: %w", successor, err)
	}
	if _, err := s.GracefulMasterTakeover(ctx, successor.String(), ref.master, drillCaller); err != nil {
		return fmt.Errorf("takeover back to %s: %w", ref.master, err)
	}
	return nil
}

// waitForMaster waits until the analyzers see master with n replicas,
// former among them.
func (s *Service) waitForMaster(ctx context.Context, master, former topology.InstanceKey, n int) error {
	ctx, cancel := context.WithTimeout(ctx, drillSettle)
	defer cancel()
	for {
		ref, err := s.resolveCluster(ctx, master.String())
		if err == nil && ref.master == master && len(ref.replicas) == n && slices.Contains(ref.replicas, former) {
			return nil
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = fmt.Errorf("master %s has replicas %v", ref.master, ref.replicas)
			}
			return errors.Join(err, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
