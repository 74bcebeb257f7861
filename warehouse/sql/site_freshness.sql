-- The static site: the index page's sources and freshness, one row per source: its last successful
-- fetch and its last run. These times change with every nightly run, so they are shown here only and
-- model pages link to them (a model page changes only when its own rows do).
SELECT source, last_success_at, last_run_at, outage IS NOT NULL AS failed_wholesale
FROM source_freshness
ORDER BY source;
