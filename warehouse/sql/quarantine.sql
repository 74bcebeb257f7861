-- quarantine: every record a run could not load, with its reason and a payload (JSON text that
-- identifies the record: file, ids, names, the raw value or a bounded excerpt; grain: source,
-- record_key, reason). Ingest failures (unreadable files, bad cards, HTTP errors) and values that
-- could not become results. table_reconciliation: per table file, cells in = results + quarantined + facts.
CREATE OR REPLACE TABLE quarantine AS
SELECT source, record_key, reason, payload, seen_at FROM raw.ingest_failures
UNION ALL
SELECT source, record_key, reason, payload, getvariable('run_started_at')::TIMESTAMP FROM result_rejects;

CREATE OR REPLACE TABLE table_reconciliation AS
SELECT t.source_file,
       count(*) AS cells,
       count(r.result_id) AS results,
       count(q.record_key) AS quarantined,
       count(f.record_key) AS facts,
       count(*) = count(r.result_id) + count(q.record_key) + count(f.record_key) AS reconciles
FROM raw.table_results AS t
LEFT JOIN results AS r ON r.source IN ('pwc-table', 'curated-table') AND r.record_key = t.record_key
LEFT JOIN result_rejects AS q ON q.source IN ('pwc-table', 'curated-table') AND q.record_key = t.record_key
LEFT JOIN model_facts AS f ON f.record_key = t.record_key
GROUP BY t.source_file
ORDER BY t.source_file;
