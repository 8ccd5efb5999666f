package topology

import (
	"slices"

	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// Observation is what is known of one instance: its latest snapshot and the
// latest one that reached it. Structure (who replicates from whom) comes from
// the last good snapshot, so an instance that stops answering keeps its place
// in the tree; state (reachable, threads, lag) comes from the latest.
type Observation struct {
	Latest   *topologyv1.Snapshot
	LastGood *topologyv1.Snapshot
}

// Node is one instance placed in the graph.
type Node struct {
	Key InstanceKey
	// Obs is empty for an instance only known from its master's replica list.
	Obs      Observation
	Master   InstanceKey // zero when the instance replicates from nothing
	Replicas []InstanceKey
	Cluster  string
}

// Cluster is one replication tree, named by its master's key.
type Cluster struct {
	Name    string
	Alias   string
	Domain  string
	Master  InstanceKey
	Members []InstanceKey // ordered by key, the master included
}

// Graph is the replication graph of every known instance.
type Graph struct {
	Nodes    map[InstanceKey]*Node
	Clusters map[string]*Cluster
	aliases  map[string]string
}

// BuildGraph places every observed instance, and every replica its master
// reports but that was never observed itself, into clusters.
func BuildGraph(obs map[InstanceKey]Observation) *Graph {
	g := &Graph{
		Nodes:    make(map[InstanceKey]*Node, len(obs)),
		Clusters: make(map[string]*Cluster),
		aliases:  make(map[string]string),
	}
	for key, o := range obs {
		n := &Node{Key: key, Obs: o}
		if master, ok := sourceOf(o.LastGood); ok {
			n.Master = master
		}
		g.Nodes[key] = n
	}
	// Replicas a master reports but that never answered a probe hang under it.
	for key, o := range obs {
		if o.LastGood == nil {
			continue
		}
		for _, r := range o.LastGood.GetReplicas() {
			rk, err := KeyFromProto(r.GetKey())
			if err != nil {
				continue
			}
			n, ok := g.Nodes[rk]
			if !ok {
				n = &Node{Key: rk}
				g.Nodes[rk] = n
			}
			if n.Obs.LastGood == nil && n.Master.IsZero() {
				n.Master = key
			}
		}
	}
	for key, n := range g.Nodes {
		if !n.Master.IsZero() {
			if m, ok := g.Nodes[n.Master]; ok {
				m.Replicas = append(m.Replicas, key)
			}
		}
	}
	for _, n := range g.Nodes {
		slices.SortFunc(n.Replicas, CompareKeys)
	}
	g.assignClusters()
	return g
}

// assignClusters walks each instance up to its root master.
func (g *Graph) assignClusters() {
	for key, n := range g.Nodes {
		root := g.rootOf(key)
		n.Cluster = root.String()
		c, ok := g.Clusters[n.Cluster]
		if !ok {
			c = &Cluster{Name: n.Cluster, Master: root}
			g.Clusters[n.Cluster] = c
		}
		c.Members = append(c.Members, key)
	}
	for _, c := range g.Clusters {
		slices.SortFunc(c.Members, CompareKeys)
		c.Alias, c.Domain = g.classify(c)
		if c.Alias != "" {
			g.aliases[c.Alias] = c.Name
		}
	}
}

// rootOf follows master links up from key. A master Vigil has not observed is
// still the root. In a ring (co-masters) the writable member is the root, or
// the smallest key when none or both are writable.
func (g *Graph) rootOf(key InstanceKey) InstanceKey {
	seen := map[InstanceKey]bool{}
	cur := key
	for {
		seen[cur] = true
		n, ok := g.Nodes[cur]
		if !ok || n.Master.IsZero() {
			return cur
		}
		if seen[n.Master] {
			return g.ringRoot(n.Master)
		}
		cur = n.Master
	}
}

func (g *Graph) ringRoot(start InstanceKey) InstanceKey {
	var ring []InstanceKey
	for cur := start; ; {
		ring = append(ring, cur)
		cur = g.Nodes[cur].Master
		if cur == start || slices.Contains(ring, cur) {
			break
		}
	}
	slices.SortFunc(ring, CompareKeys)
	var writable []InstanceKey
	for _, k := range ring {
		if s := g.Nodes[k].Obs.LastGood; s != nil && !s.GetServer().GetReadOnly() {
			writable = append(writable, k)
		}
	}
	if len(writable) == 1 {
		return writable[0]
	}
	return ring[0]
}

// classify takes the cluster alias and domain from the master when it has
// them, else from the first member that does.
func (g *Graph) classify(c *Cluster) (alias, domain string) {
	order := append([]InstanceKey{c.Master}, c.Members...)
	for _, k := range order {
		n, ok := g.Nodes[k]
		if !ok || n.Obs.LastGood == nil {
			continue
		}
		cl := n.Obs.LastGood.GetClassification()
		if alias == "" {
			alias = cl.GetClusterAlias()
		}
		if domain == "" {
			domain = cl.GetClusterDomain()
		}
	}
	return alias, domain
}

// SetAlias gives a cluster an alias from configuration, which takes
// precedence over one the instances report. It reports whether the cluster
// exists.
func (g *Graph) SetAlias(cluster, alias string) bool {
	c, ok := g.Clusters[cluster]
	if !ok {
		return false
	}
	if c.Alias != "" && g.aliases[c.Alias] == cluster {
		delete(g.aliases, c.Alias)
	}
	c.Alias = alias
	g.aliases[alias] = cluster
	return true
}

// FindCluster returns the cluster with the given name or alias.
func (g *Graph) FindCluster(nameOrAlias string) (*Cluster, bool) {
	if c, ok := g.Clusters[nameOrAlias]; ok {
		return c, true
	}
	if name, ok := g.aliases[nameOrAlias]; ok {
		return g.Clusters[name], true
	}
	return nil, false
}

// sourceOf returns the source of the default replication channel.
func sourceOf(s *topologyv1.Snapshot) (InstanceKey, bool) {
	if s == nil || len(s.GetChannels()) == 0 {
		return InstanceKey{}, false
	}
	k, err := KeyFromProto(s.GetChannels()[0].GetSource())
	if err != nil {
		return InstanceKey{}, false
	}
	return k, true
}

// CompareKeys orders keys by host (bytewise), then port, for slices.SortFunc.
func CompareKeys(a, b InstanceKey) int {
	switch {
	case a.Less(b):
		return -1
	case b.Less(a):
		return 1
	}
	return 0
}

// SortKeys orders keys by host, then port.
func SortKeys(keys []InstanceKey) { slices.SortFunc(keys, CompareKeys) }
