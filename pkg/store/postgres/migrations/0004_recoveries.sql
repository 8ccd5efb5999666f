-- The recovery audit: one row per recovery, or per recovery a gate stopped,
-- with its steps inside the message.

CREATE TABLE recoveries (
    -- "C": ids order bytewise, as the Go store orders them.
    id               text COLLATE "C" PRIMARY KEY,
    detection_id     text        NOT NULL,
    cluster          text        NOT NULL,
    cluster_alias    text        NOT NULL,
    started_at       timestamptz NOT NULL,
    -- NULL until acknowledged; only AcknowledgeRecoveries sets these.
    acknowledged_at     timestamptz,
    acknowledged_by     text NOT NULL DEFAULT '',
    acknowledge_comment text NOT NULL DEFAULT '',
    -- vigil.recovery.v1.Recovery, protobuf wire format, steps included,
    -- acknowledgement excluded.
    recovery         bytea       NOT NULL,
    updated_at       timestamptz NOT NULL
);

CREATE INDEX recoveries_started_at_idx ON recoveries (started_at DESC, id DESC);
CREATE INDEX recoveries_cluster_idx ON recoveries (cluster);
CREATE INDEX recoveries_cluster_alias_idx ON recoveries (cluster_alias);
CREATE INDEX recoveries_detection_idx ON recoveries (detection_id);
CREATE INDEX recoveries_unacknowledged_idx ON recoveries (cluster) WHERE acknowledged_at IS NULL;
