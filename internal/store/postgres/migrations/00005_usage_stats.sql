-- Store contract: usage counters for the dashboard's overview. A count
-- per (workspace, UTC hour, kind), added to by every replica's periodic
-- flush (an upsert that adds, so replicas never overwrite each other) and
-- read a workspace at a time. The SQLite backend has a migration of the
-- same version and name.
-- Rolling upgrade: safe while v4 replicas serve: adds a table only (logins
-- on old replicas are not counted in the overview until they are replaced).

-- +goose Up
-- No foreign key: like the audit log, the counters reference nothing, so
-- a flush never fails on a workspace deleted meanwhile; DeleteExpired
-- drops buckets older than 35 days (the hour index serves it).
CREATE TABLE usage_stats (
    workspace_id text        NOT NULL,
    hour         timestamptz NOT NULL,
    kind         text        NOT NULL,
    count        bigint      NOT NULL,
    PRIMARY KEY (workspace_id, hour, kind)
);
CREATE INDEX usage_stats_hour_idx ON usage_stats (hour);

-- +goose Down
DROP TABLE usage_stats;
