-- Store contract: usage counters for the dashboard's overview. A count
-- per (workspace, UTC hour, kind), added to by every replica's periodic
-- flush (an upsert that adds) and read a workspace at a time. The
-- PostgreSQL backend has a migration of the same version and name.
-- Conventions as in 00001: hour is INTEGER unix microseconds UTC, a whole
-- hour.

-- +goose Up
-- No foreign key: like the audit log, the counters reference nothing, so
-- a flush never fails on a workspace deleted meanwhile; DeleteExpired
-- drops buckets older than 35 days (the hour index serves it).
CREATE TABLE usage_stats (
    workspace_id TEXT    NOT NULL,
    hour         INTEGER NOT NULL,
    kind         TEXT    NOT NULL,
    count        INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, hour, kind)
) STRICT, WITHOUT ROWID;
CREATE INDEX usage_stats_hour_idx ON usage_stats (hour);

-- +goose Down
DROP TABLE usage_stats;
