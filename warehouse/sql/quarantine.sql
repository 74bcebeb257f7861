-- quarantine: every record a run could not load, with its reason and a payload (JSON text that
-- identifies the record: file, ids, names, the raw value or a bounded excerpt; grain: source,
-- record_key, reason). Ingest failures (unreadable files, bad cards, HTTP errors) and values that
-- could not become results. table_reconciliation: per table file, cells in = results + quarantined + facts.
CREATE OR REPLACE TABLE quarantine AS
SELECT source, record_key, reason, payload, seen_at FROM raw.ingest_failures
UNION ALL
SELECT source, record_key, reason, payload, getvariable('run_started_at')::TIMESTAMP FROM result_rejects;

-- Every table file of the snapshot is listed, read or not: status `loaded` (it gave cells),
-- `empty` (no cells: an empty file, or a file without table rows holding metrics) or `refused`
-- (not read, or refused whole: reason says why).
CREATE OR REPLACE TABLE table_reconciliation AS
WITH cell_counts AS (
    SELECT t.source_file,
           count(*) AS cells,
           count(r.result_id) AS results,
           count(q.record_key) AS quarantined,
           count(f.record_key) AS facts
    FROM raw.table_results AS t
    LEFT JOIN results AS r ON r.source IN ('pwc-table', 'curated-table') AND r.record_key = t.record_key
    LEFT JOIN result_rejects AS q ON q.source IN ('pwc-table', 'curated-table') AND q.record_key = t.record_key
    LEFT JOIN model_facts AS f ON f.record_key = t.record_key
    GROUP BY t.source_file
), table_file_list AS (
    SELECT source_file, r.bytes, NULL AS status,
           list_filter(failures, lambda failure: failure.record_key = source_file)[1].reason AS refusal,
           len(failures) AS records_refused
    FROM raw.table_files JOIN raw.files_read AS r USING (source_file)
    WHERE r.read_into = 'raw.table_files'
    UNION ALL
    SELECT source_file, bytes, status, reason, 0 FROM raw.table_files_refused
)
SELECT coalesce(l.source_file, c.source_file) AS source_file,
       coalesce(c.cells, 0) AS cells,
       coalesce(c.results, 0) AS results,
       coalesce(c.quarantined, 0) AS quarantined,
       coalesce(c.facts, 0) AS facts,
       coalesce(c.cells = c.results + c.quarantined + c.facts, true) AS reconciles,
       CASE WHEN l.status IS NOT NULL THEN l.status
            WHEN l.refusal IS NOT NULL THEN 'refused'
            WHEN coalesce(c.cells, 0) = 0 THEN 'empty'
            ELSE 'loaded' END AS status,
       CASE WHEN l.status IS NOT NULL OR l.refusal IS NOT NULL THEN coalesce(l.refusal, '')
            WHEN coalesce(c.cells, 0) = 0 THEN 'no cells: no table row holds a metric'
                 || CASE WHEN l.records_refused > 0 THEN ' (' || l.records_refused || ' records quarantined)' ELSE '' END
       END AS reason,
       l.bytes
FROM table_file_list AS l
FULL JOIN cell_counts AS c USING (source_file)
ORDER BY source_file;
