-- Instances discovery knows of but has not necessarily probed: the shared
-- registry from which every discovery member takes the instances it owns.
-- An instance with a snapshot is in instances; it may be here too.

CREATE TABLE known_instances (
    host          text COLLATE "C" NOT NULL,
    port          integer     NOT NULL CHECK (port BETWEEN 1 AND 65535),
    registered_at timestamptz NOT NULL,
    PRIMARY KEY (host, port)
);
