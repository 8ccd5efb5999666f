package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/store/internal/rules"
	"github.com/vigil-db/vigil/pkg/topology"
)

// assignClusters sets every instance's cluster from the member list
// ($1 cluster, $2 host, $3 port), or the empty string when not listed,
// touching only rows whose cluster changes.
const assignClusters = `
UPDATE instances AS i SET cluster = a.cluster
FROM (
    SELECT x.host, x.port, coalesce(m.cluster, '') AS cluster
    FROM instances AS x
    LEFT JOIN unnest($1::text[], $2::text[], $3::integer[]) AS m (cluster, host, port)
        ON m.host = x.host AND m.port = x.port
) AS a
WHERE i.host = a.host AND i.port = a.port AND i.cluster <> a.cluster`

// ReplaceClusters implements store.Store in one transaction.
func (s *Store) ReplaceClusters(ctx context.Context, clusters []store.Cluster) error {
	assigned, err := rules.Assignments(clusters)
	if err != nil {
		return fmt.Errorf("replace clusters: %w", err)
	}
	n := len(clusters)
	names, aliases, domains, masterHosts := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	masterPorts := make([]int32, n)
	for i, c := range clusters {
		names[i], aliases[i], domains[i] = c.Name, c.Alias, c.Domain
		masterHosts[i], masterPorts[i] = c.Master.Host, int32(c.Master.Port)
	}
	var memberClusters, memberHosts []string
	var memberPorts []int32
	for key, cluster := range assigned {
		memberClusters = append(memberClusters, cluster)
		memberHosts = append(memberHosts, key.Host)
		memberPorts = append(memberPorts, int32(key.Port))
	}

	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Serialise with other ReplaceClusters (whose DELETE and INSERT would
		// otherwise collide) and with writers of instances (which would lock
		// rows in another order than the UPDATE and could deadlock). Readers
		// are not blocked.
		if _, err := tx.Exec(ctx, `LOCK TABLE instances, clusters IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return fmt.Errorf("lock tables: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM clusters`); err != nil {
			return fmt.Errorf("delete clusters: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO clusters (name, alias, domain, master_host, master_port)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::integer[])`,
			names, aliases, domains, masterHosts, masterPorts); err != nil {
			return fmt.Errorf("insert %d clusters: %w", len(clusters), err)
		}
		if _, err := tx.Exec(ctx, assignClusters, memberClusters, memberHosts, memberPorts); err != nil {
			return fmt.Errorf("assign instances to clusters: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("replace clusters: %w", err)
	}
	return nil
}

// listClusters returns each cluster with its members' hosts and ports as
// parallel arrays in key order; the C collation orders hosts bytewise, as Go does.
const listClusters = `
SELECT c.name, c.alias, c.domain, c.master_host, c.master_port,
    array_agg(i.host ORDER BY i.host COLLATE "C", i.port) FILTER (WHERE i.host IS NOT NULL),
    array_agg(i.port ORDER BY i.host COLLATE "C", i.port) FILTER (WHERE i.host IS NOT NULL)
FROM clusters AS c
LEFT JOIN instances AS i ON i.cluster = c.name
GROUP BY c.name
ORDER BY c.name COLLATE "C"`

// ListClusters implements store.Store.
func (s *Store) ListClusters(ctx context.Context) ([]store.Cluster, error) {
	rows, err := s.pool.Query(ctx, listClusters)
	if err != nil {
		return nil, fmt.Errorf("list clusters: %w", err)
	}
	clusters, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Cluster, error) {
		var (
			c          store.Cluster
			masterPort int32
			hosts      []string
			ports      []int32
		)
		if err := row.Scan(&c.Name, &c.Alias, &c.Domain, &c.Master.Host, &masterPort, &hosts, &ports); err != nil {
			return store.Cluster{}, err
		}
		c.Master.Port = uint16(masterPort)
		for i := range hosts {
			c.Members = append(c.Members, topology.InstanceKey{Host: hosts[i], Port: uint16(ports[i])})
		}
		return c, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list clusters: %w", err)
	}
	return clusters, nil
}
