-- The whole schema of the embedded store, as PostgreSQL's migrations 0001-0006
-- leave it. Times are INTEGER microseconds since the Unix epoch, UTC; text
-- compares bytewise (BINARY), as the Go stores order it.

CREATE TABLE instances (
    host           TEXT    NOT NULL,
    port           INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
    cluster        TEXT    NOT NULL DEFAULT '',
    -- vigil.topology.v1.Snapshot, protobuf wire format.
    snapshot       BLOB    NOT NULL,
    reachable      INTEGER NOT NULL,
    -- probe_finished of snapshot: a snapshot older than this never replaces it.
    probe_finished INTEGER NOT NULL,
    first_seen     INTEGER NOT NULL,
    -- The latest good snapshot and its probe_finished; NULL until a probe reaches the instance.
    last_good      BLOB,
    last_seen      INTEGER,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (host, port)
) WITHOUT ROWID;

CREATE INDEX instances_cluster_idx ON instances (cluster);

-- Instances discovery knows of but has not necessarily probed.
CREATE TABLE known_instances (
    host          TEXT    NOT NULL,
    port          INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
    registered_at INTEGER NOT NULL,
    PRIMARY KEY (host, port)
) WITHOUT ROWID;

CREATE TABLE clusters (
    name        TEXT    PRIMARY KEY,
    alias       TEXT    NOT NULL DEFAULT '',
    domain      TEXT    NOT NULL DEFAULT '',
    -- '' and 0 when the master is unknown.
    master_host TEXT    NOT NULL DEFAULT '',
    master_port INTEGER NOT NULL DEFAULT 0 CHECK (master_port BETWEEN 0 AND 65535)
);

-- A single row, absent until the switch is first set (recoveries enabled).
CREATE TABLE global_recoveries (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    enabled    INTEGER NOT NULL,
    updated_by TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE detections (
    id            TEXT    PRIMARY KEY,
    -- The identity of the detection, as first saved; never updated.
    code          TEXT    NOT NULL,
    cluster       TEXT    NOT NULL,
    cluster_alias TEXT    NOT NULL,
    host          TEXT    NOT NULL,
    port          INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
    detected_at   INTEGER NOT NULL,
    -- NULL while the detection is active.
    cleared_at    INTEGER,
    -- vigil.analyzer.v1.Detection, protobuf wire format.
    detection     BLOB    NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE INDEX detections_detected_at_idx ON detections (detected_at DESC, id DESC);
CREATE INDEX detections_cluster_idx ON detections (cluster);
CREATE INDEX detections_cluster_alias_idx ON detections (cluster_alias);
CREATE INDEX detections_instance_idx ON detections (host, port);

CREATE TABLE downtimes (
    host       TEXT    NOT NULL,
    port       INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
    owner      TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    started_at INTEGER NOT NULL,
    -- A row whose ends_at has passed is expired: kept until replaced or ended, never listed.
    ends_at    INTEGER NOT NULL CHECK (ends_at > started_at),
    PRIMARY KEY (host, port)
) WITHOUT ROWID;

-- The recovery audit: one row per recovery, or per recovery a gate stopped,
-- with its steps inside the message.
CREATE TABLE recoveries (
    id                  TEXT    PRIMARY KEY,
    detection_id        TEXT    NOT NULL,
    cluster             TEXT    NOT NULL,
    cluster_alias       TEXT    NOT NULL,
    started_at          INTEGER NOT NULL,
    -- NULL until acknowledged; only AcknowledgeRecoveries sets these.
    acknowledged_at     INTEGER,
    acknowledged_by     TEXT    NOT NULL DEFAULT '',
    acknowledge_comment TEXT    NOT NULL DEFAULT '',
    -- vigil.recovery.v1.Recovery, protobuf wire format, steps included,
    -- acknowledgement excluded.
    recovery            BLOB    NOT NULL,
    updated_at          INTEGER NOT NULL
);

CREATE INDEX recoveries_started_at_idx ON recoveries (started_at DESC, id DESC);
CREATE INDEX recoveries_cluster_idx ON recoveries (cluster);
CREATE INDEX recoveries_cluster_alias_idx ON recoveries (cluster_alias);
CREATE INDEX recoveries_detection_idx ON recoveries (detection_id);

-- Promotion rules operators registered on instances, until they expire.
CREATE TABLE candidates (
    host          TEXT    NOT NULL,
    port          INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
    -- vigil.topology.v1.PromotionRule by number: 1 must ... 5 must_not.
    rule          INTEGER NOT NULL CHECK (rule BETWEEN 1 AND 5),
    registered_by TEXT    NOT NULL,
    registered_at INTEGER NOT NULL,
    -- A row whose expires_at has passed is expired: kept until replaced, never listed.
    expires_at    INTEGER NOT NULL CHECK (expires_at > registered_at),
    PRIMARY KEY (host, port)
) WITHOUT ROWID;
