-- Detection history and instance downtimes.

CREATE TABLE detections (
    -- "C": ids order bytewise, as the Go store orders them.
    id            text COLLATE "C" PRIMARY KEY,
    -- The identity of the detection, as first saved; never updated.
    code          text        NOT NULL,
    cluster       text        NOT NULL,
    cluster_alias text        NOT NULL,
    host          text        NOT NULL,
    port          integer     NOT NULL CHECK (port BETWEEN 1 AND 65535),
    detected_at   timestamptz NOT NULL,
    -- NULL while the detection is active.
    cleared_at    timestamptz,
    -- vigil.analyzer.v1.Detection, protobuf wire format.
    detection     bytea       NOT NULL,
    updated_at    timestamptz NOT NULL
);

-- ListDetections pages by keyset in this order.
CREATE INDEX detections_detected_at_idx ON detections (detected_at DESC, id DESC);
CREATE INDEX detections_cluster_idx ON detections (cluster);
CREATE INDEX detections_cluster_alias_idx ON detections (cluster_alias);
CREATE INDEX detections_instance_idx ON detections (host, port);
CREATE INDEX detections_active_idx ON detections (detected_at DESC, id DESC) WHERE cleared_at IS NULL;

CREATE TABLE downtimes (
    -- "C": ListDowntimes orders hosts bytewise, as the Go store does.
    host       text COLLATE "C" NOT NULL,
    port       integer     NOT NULL CHECK (port BETWEEN 1 AND 65535),
    owner      text        NOT NULL CHECK (char_length(owner) <= 200),
    reason     text        NOT NULL CHECK (char_length(reason) <= 1000),
    started_at timestamptz NOT NULL,
    -- A row whose ends_at has passed is expired: kept until replaced or ended, never listed.
    ends_at    timestamptz NOT NULL CHECK (ends_at > started_at),
    PRIMARY KEY (host, port)
);
