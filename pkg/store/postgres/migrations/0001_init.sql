-- Instances with their latest snapshot, clusters, and the global recovery switch.

CREATE TABLE instances (
    host           text        NOT NULL,
    port           integer     NOT NULL CHECK (port BETWEEN 1 AND 65535),
    cluster        text        NOT NULL DEFAULT '',
    -- vigil.topology.v1.Snapshot, protobuf wire format.
    snapshot       bytea       NOT NULL,
    reachable      boolean     NOT NULL,
    -- probe_finished of snapshot: a snapshot older than this never replaces it.
    probe_finished timestamptz NOT NULL,
    first_seen     timestamptz NOT NULL,
    -- NULL until a probe reaches the instance.
    last_seen      timestamptz,
    updated_at     timestamptz NOT NULL,
    PRIMARY KEY (host, port)
);

CREATE INDEX instances_cluster_idx ON instances (cluster);

CREATE TABLE clusters (
    name        text    PRIMARY KEY,
    alias       text    NOT NULL DEFAULT '',
    domain      text    NOT NULL DEFAULT '',
    -- '' and 0 when the master is unknown.
    master_host text    NOT NULL DEFAULT '',
    master_port integer NOT NULL DEFAULT 0 CHECK (master_port BETWEEN 0 AND 65535)
);

-- A single row, absent until the switch is first set (recoveries enabled).
CREATE TABLE global_recoveries (
    id         boolean     PRIMARY KEY DEFAULT true CHECK (id),
    enabled    boolean     NOT NULL,
    updated_by text        NOT NULL,
    updated_at timestamptz NOT NULL
);
