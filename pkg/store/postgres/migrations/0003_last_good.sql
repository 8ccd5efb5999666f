-- The latest good snapshot of each instance, so that an instance that is down
-- keeps its place in the topology across restarts. last_seen is its
-- probe_finished. Rows saved before this migration get it from the next good
-- probe.

ALTER TABLE instances ADD COLUMN last_good bytea;
UPDATE instances SET last_good = snapshot WHERE reachable AND last_seen = probe_finished;
UPDATE instances SET last_seen = NULL WHERE last_good IS NULL;
