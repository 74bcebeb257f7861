-- source_freshness: one row per source (hub, arxiv, tables, catalog): its last successful fetch (the
-- last run that did not fail wholesale), what the last run loaded and what it refused, by reason,
-- what it fetched and failed to fetch, and why it failed wholesale (outage) when it did.
CREATE OR REPLACE TABLE source_freshness AS
WITH last_run AS (
    SELECT * FROM raw.source_runs
    QUALIFY row_number() OVER (PARTITION BY source ORDER BY finished_at DESC) = 1
), last_good AS (
    SELECT source, max(finished_at) AS finished_at, count(*) AS runs FROM raw.source_runs
    WHERE outage IS NULL GROUP BY source
), reasons AS (
    SELECT source, split_part(reason, ':', 1) AS reason, count(*) AS n
    FROM raw.ingest_failures GROUP BY ALL
)
SELECT l.source, g.finished_at AS last_success_at, l.mode, l.records, l.failures,
       (SELECT map_from_entries(list((r.reason, r.n) ORDER BY r.n DESC, r.reason))
        FROM reasons AS r WHERE r.source = l.source) AS failures_by_reason,
       l.requests, l.retries,
       (SELECT count(*) FROM raw.source_runs AS a WHERE a.source = l.source) AS runs_recorded,
       l.finished_at AS last_run_at, coalesce(l.fetches, 0) AS fetches,
       coalesce(l.fetch_failures, 0) AS fetch_failures, l.outage
FROM last_run AS l
LEFT JOIN last_good AS g USING (source);

-- entity_freshness: one row per fetched entity (model info, card, leaderboard, paper) that we hold
-- or failed to fetch: its last good fetch, when it last changed upstream, its last failed fetch;
-- stale when upstream changed after our fetch, or a fetch failed after it (the last good data is kept).
CREATE OR REPLACE TABLE entity_freshness AS
WITH held AS (
    SELECT 'model' AS entity, model_id AS entity_id, requested_id AS fetch_id, fetched_at,
           last_modified AS upstream_changed_at
    FROM raw.hub_models
    UNION ALL
    SELECT 'card', model_id, model_id, fetched_at, NULL FROM raw.hub_cards
    UNION ALL
    SELECT 'leaderboard', dataset_id, dataset_id, max(fetched_at), NULL FROM raw.hub_leaderboard_entries GROUP BY ALL
    UNION ALL
    SELECT 'paper', arxiv_id, arxiv_id, fetched_at, updated FROM raw.arxiv_papers
)
SELECT coalesce(h.entity, f.entity) AS entity, coalesce(h.entity_id, f.entity_id) AS entity_id, h.fetched_at,
       h.upstream_changed_at,
       coalesce(h.upstream_changed_at > h.fetched_at, false)
           OR coalesce(f.failed_at > coalesce(h.fetched_at, TIMESTAMP '0001-01-01'), false) AS stale,
       f.failed_at AS last_failure_at, f.reason AS last_failure
FROM held AS h
FULL JOIN raw.entity_fetch_failures AS f ON f.entity = h.entity AND f.entity_id = h.fetch_id;

-- leaderboard_freshness: per leaderboard, the newest result and the age of the current SOTA.
CREATE OR REPLACE TABLE leaderboard_freshness AS
SELECT l.benchmark_id, l.metric, l.split, l.setting, max(l.result_date) AS newest_result_date,
       min(l.result_date) FILTER (WHERE l.is_sota) AS sota_since,
       date_diff('day', min(l.result_date) FILTER (WHERE l.is_sota), getvariable('run_started_at')::DATE)
           AS sota_age_days,
       max(l.n_models) AS n_models
FROM leaderboard AS l
GROUP BY ALL;
