-- Promotion rules operators registered on instances, until they expire.

CREATE TABLE candidates (
    -- "C": ListCandidates orders hosts bytewise, as the Go store does.
    host          text COLLATE "C" NOT NULL,
    port          integer     NOT NULL CHECK (port BETWEEN 1 AND 65535),
    -- vigil.topology.v1.PromotionRule by number: 1 must ... 5 must_not.
    rule          integer     NOT NULL CHECK (rule BETWEEN 1 AND 5),
    registered_by text        NOT NULL CHECK (char_length(registered_by) <= 200),
    registered_at timestamptz NOT NULL,
    -- A row whose expires_at has passed is expired: kept until replaced, never listed.
    expires_at    timestamptz NOT NULL CHECK (expires_at > registered_at),
    PRIMARY KEY (host, port)
);
