-- source_freshness: one row per source (hub, arxiv, tables, catalog): its last successful fetch,
-- what the last run loaded and what it refused, by reason.
CREATE OR REPLACE TABLE source_freshness AS
WITH last_run AS (
    SELECT * FROM raw.source_runs
    QUALIFY row_number() OVER (PARTITION BY source ORDER BY finished_at DESC) = 1
), reasons AS (
    SELECT source, split_part(reason, ':', 1) AS reason, count(*) AS n
    FROM raw.ingest_failures GROUP BY ALL
)
SELECT l.source, l.finished_at AS last_success_at, l.mode, l.records, l.failures,
       (SELECT map_from_entries(list((r.reason, r.n) ORDER BY r.n DESC, r.reason))
        FROM reasons AS r WHERE r.source = l.source) AS failures_by_reason,
       l.requests, l.retries,
       (SELECT count(*) FROM raw.source_runs AS a WHERE a.source = l.source) AS runs_recorded
FROM last_run AS l;

-- entity_freshness: per fetched entity, when we fetched it and when it last changed upstream;
-- stale when upstream changed after our fetch.
CREATE OR REPLACE TABLE entity_freshness AS
SELECT 'model' AS entity, model_id AS entity_id, fetched_at, last_modified AS upstream_changed_at,
       last_modified > fetched_at AS stale
FROM raw.hub_models
UNION ALL
SELECT 'paper', arxiv_id, fetched_at, updated, updated > fetched_at FROM raw.arxiv_papers;

-- leaderboard_freshness: per leaderboard, the newest result and the age of the current SOTA.
CREATE OR REPLACE TABLE leaderboard_freshness AS
SELECT l.benchmark_id, l.metric, l.split, l.setting, max(l.result_date) AS newest_result_date,
       min(l.result_date) FILTER (WHERE l.is_sota) AS sota_since,
       date_diff('day', min(l.result_date) FILTER (WHERE l.is_sota), getvariable('run_started_at')::DATE)
           AS sota_age_days,
       max(l.n_models) AS n_models
FROM leaderboard AS l
GROUP BY ALL;
