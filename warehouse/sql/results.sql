-- results: one row per reported value of one metric for one model on one benchmark from one
-- source (key: result_id, a hash of source and the source's record key), value normalised to the
-- metric's unit, with verification flags and reasons (the verification definition of warehouse/README.md).
-- result_rejects: every source value that could not become a result, with its reason and a payload
-- (JSON text) naming the model, benchmark, metric and raw value as the source wrote them.
CREATE OR REPLACE TEMP TABLE benchmark_keys AS
SELECT DISTINCT source, dataset, subdataset, task, benchmark_id FROM benchmark_refs;

-- the arXiv id in each distinct URL, read once (a few thousand URLs, not a million cells)
CREATE OR REPLACE TEMP TABLE url_arxiv_ids AS
SELECT url, arxiv_id_of(url) AS arxiv_id
FROM (SELECT paper_url AS url FROM raw.table_results UNION SELECT source_url FROM raw.table_results
      UNION SELECT source_url FROM raw.hub_eval_results)
WHERE url IS NOT NULL;

CREATE OR REPLACE TEMP TABLE result_candidates AS
WITH table_rows AS (
    SELECT CASE t.source_format WHEN 'curated-csv' THEN 'curated-table' ELSE 'pwc-table' END AS source,
           t.record_key, t.source_file, r.model_id, t.model_name AS model_name_raw, k.benchmark_id,
           mn.metric, t.metric_raw, coalesce(t.split, mn.split) AS split, coalesce(t.setting, '') AS setting,
           t.value_raw, 'table' AS scale_origin,
           coalesce(pu.arxiv_id, su.arxiv_id) AS arxiv_id,
           coalesce(t.source_url, t.paper_url) AS source_url, t.result_date, t.uses_additional_data,
           false AS hub_verified, NULL AS verify_token, t.task_path
    FROM raw.table_results AS t
    LEFT JOIN url_arxiv_ids AS pu ON pu.url = t.paper_url
    LEFT JOIN url_arxiv_ids AS su ON su.url = t.source_url
    LEFT JOIN metric_names AS mn
      ON mn.source = 'tables' AND mn.raw_name = t.metric_raw AND mn.dataset IS NOT DISTINCT FROM t.dataset
    LEFT JOIN benchmark_keys AS k
      ON k.source = 'tables' AND k.dataset = t.dataset AND k.subdataset IS NOT DISTINCT FROM t.subdataset
     AND k.task IS NOT DISTINCT FROM t.task
    LEFT JOIN model_resolution AS r
      ON r.model_name = t.model_name AND r.given_id IS NOT DISTINCT FROM t.model_id
     AND r.paper_key = coalesce(pu.arxiv_id, nullif(slug(t.paper_title), ''), 'unknown')
), hub_rows AS (
    SELECT 'hub-' || e.format AS source, e.record_key, NULL AS source_file,
           coalesce(a.model_id, e.model_id) AS model_id, e.model_id AS model_name_raw, k.benchmark_id,
           mn.metric, coalesce(e.metric_type, e.metric_name) AS metric_raw,
           coalesce(lower(e.dataset_split), sp.split) AS split, '' AS setting,
           e.value_raw, 'hub' AS scale_origin,
           su.arxiv_id,
           coalesce(e.source_url, 'https://huggingface.co/' || e.model_id) AS source_url,
           coalesce(e.result_date, m.last_modified::DATE) AS result_date, false AS uses_additional_data,
           coalesce(e.verified, false) OR e.verify_token IS NOT NULL AS hub_verified, e.verify_token,
           [coalesce(e.task_name, e.task_type)] AS task_path
    FROM raw.hub_eval_results AS e
    LEFT JOIN url_arxiv_ids AS su ON su.url = e.source_url
    LEFT JOIN raw.hub_model_aliases AS a ON a.alias = e.model_id
    LEFT JOIN raw.hub_models AS m ON m.model_id = coalesce(a.model_id, e.model_id)
    LEFT JOIN metric_names AS mn
      ON mn.source = 'hub' AND mn.raw_name = coalesce(e.metric_type, e.metric_name)
     AND mn.dataset IS NOT DISTINCT FROM hub_dataset(e.dataset_type, e.dataset_name, e.dataset_config)
    LEFT JOIN metric_names AS sp
      ON sp.source = 'hub-name' AND sp.raw_name = e.metric_name
     AND sp.dataset IS NOT DISTINCT FROM hub_dataset(e.dataset_type, e.dataset_name, e.dataset_config)
    LEFT JOIN benchmark_keys AS k
      ON k.source = 'hub' AND k.dataset = hub_dataset(e.dataset_type, e.dataset_name, e.dataset_config)
     AND k.subdataset IS NOT DISTINCT FROM e.dataset_config
     AND k.task IS NOT DISTINCT FROM coalesce(e.task_name, e.task_type)
)
SELECT c.*, parse_score(c.value_raw) AS parsed, m.direction, m.unit, m.kind, m.hub_unit
FROM (SELECT * FROM table_rows UNION ALL SELECT * FROM hub_rows) AS c
LEFT JOIN metrics AS m ON m.metric = c.metric;

CREATE OR REPLACE TEMP TABLE result_values AS
-- Shares (percent, fraction and correlation units) are written by some sources as fractions
-- (0.801) and by others as percentages (80.1). The scale is read from evidence over the whole scope
-- a source writes in one hand, never value by value: a Hub card (all its values of the metric, and
-- its other shares), or one metric's column of a benchmark table in one file. A percent sign
-- decides alone. A card whose values of a metric are all within 1 writes fractions, unless it writes
-- percentages for its other shares: then the scale is undecided, and the value is kept unvalued
-- (never ranked), with the reason in value_scale. Scaling is rounded to 12 decimals. A score that
-- cannot become a result gets its reason (reject_reason) here, in the same pass; ranges come from
-- the metric's unit (a score, a correlation or a log-likelihood may be negative; a share, a count,
-- a distance or a time may not). Every value gets its result_id (a hash of source and record key)
-- and its source's precedence.
WITH shares AS (
    SELECT *, unit IN ('percent', 'fraction', 'correlation') AND parsed.value IS NOT NULL
              AND NOT coalesce(parsed.percent_sign, false) AS share_written_bare
    FROM result_candidates
), metric_scopes AS (
    -- the largest bare share of each card's metric, or of each table column
    SELECT source, model_name_raw, CASE WHEN scale_origin = 'hub' THEN '' ELSE source_file END AS scope_file,
           CASE WHEN scale_origin = 'hub' THEN '' ELSE benchmark_id END AS scope_benchmark,
           metric, max(abs(parsed.value)) AS max_value
    FROM shares WHERE share_written_bare
    GROUP BY ALL
), card_scopes AS (
    -- the largest bare share of each card, over all its metrics
    SELECT source, model_name_raw, scale_origin, max(abs(parsed.value)) AS card_max
    FROM shares WHERE share_written_bare AND scale_origin = 'hub' AND hub_unit = 'fraction'
    GROUP BY ALL
), scaled AS (
    SELECT s.* EXCLUDE (share_written_bare),
           CASE
               WHEN NOT s.share_written_bare THEN
                   CASE WHEN s.unit IN ('fraction', 'correlation') AND s.parsed.percent_sign THEN 'percent sign: scaled to a fraction'
                        WHEN s.parsed.percent_sign THEN 'percent sign' ELSE 'as written' END
               WHEN s.scale_origin = 'hub' AND s.hub_unit = 'fraction' THEN
                   CASE WHEN ms.max_value > 1 THEN 'percentages (the card''s values of the metric exceed 1)'
                        WHEN c.card_max > 1 THEN 'undecided: the card writes percentages for other metrics, this one only within 1'
                        ELSE 'fractions (no value of the card exceeds 1)' END
               WHEN s.unit IN ('fraction', 'correlation') AND ms.max_value > 1
                   THEN 'percentages (the column''s values exceed 1)'
               ELSE 'as written'
           END AS value_scale
    FROM shares AS s
    LEFT JOIN metric_scopes AS ms
      ON ms.source = s.source AND ms.model_name_raw IS NOT DISTINCT FROM s.model_name_raw
     AND ms.scope_file = CASE WHEN s.scale_origin = 'hub' THEN '' ELSE s.source_file END
     AND ms.scope_benchmark IS NOT DISTINCT FROM CASE WHEN s.scale_origin = 'hub' THEN '' ELSE s.benchmark_id END
     AND ms.metric IS NOT DISTINCT FROM s.metric
    LEFT JOIN card_scopes AS c
      -- (a card's own rows only: scale_origin, always 'hub' here, is a join key, so that the join hashes)
      ON c.source = s.source AND c.model_name_raw IS NOT DISTINCT FROM s.model_name_raw
     AND c.scale_origin = s.scale_origin
), valued AS (
    SELECT *,
           -- an exact duplicate of a table row (same file, task, benchmark, model, metric, value,
           -- split, setting, paper, date: all but its place) counts once: the first by record key
           CASE WHEN scale_origin = 'table' THEN min(record_key) OVER (
               PARTITION BY source, source_file, task_path, benchmark_id, model_name_raw, model_id, metric_raw, split,
                            setting, value_raw, arxiv_id, source_url, result_date, uses_additional_data) END
               AS duplicate_of,
           in_unit(parsed.value, unit, parsed.percent_sign, value_scale) AS value,
           in_unit(parsed.spread, unit, parsed.percent_sign, value_scale) AS spread
    FROM scaled
)
SELECT *, substr(md5(source || '|' || record_key), 1, 16) AS result_id,
       -- precedence (warehouse/README.md): reproduced > official leaderboard > paper > card claim
       CASE WHEN verify_token IS NOT NULL THEN 1
            WHEN hub_verified OR source = 'hub-leaderboard' THEN 2
            WHEN arxiv_id IS NOT NULL OR source = 'pwc-table' THEN 4
            ELSE 5 END AS precedence,
       CASE
           WHEN kind = 'model_fact' THEN NULL
           WHEN duplicate_of <> record_key THEN 'duplicate of ' || duplicate_of
           WHEN model_name_raw IS NULL OR model_name_raw = '' THEN 'no model name'
           WHEN benchmark_id IS NULL THEN 'no dataset: benchmark unresolved'
           WHEN contains(metric_raw, chr(0)) THEN 'invalid metric name: contains NUL'
           WHEN metric IS NULL THEN 'no metric name'
           WHEN parsed.reason IS NOT NULL THEN parsed.reason
           WHEN value IS NULL THEN NULL
           WHEN value = -1 AND unit IN ('percent', 'fraction', 'points', 'count', 'ratio', 'bits', 'distance', 'time')
               THEN 'placeholder value: -1'
           WHEN unit = 'percent' AND NOT value BETWEEN 0 AND 100
               THEN 'out of range: ' || value || ' is not a percentage'
           WHEN unit = 'fraction' AND NOT value BETWEEN 0 AND 1
               THEN 'out of range: ' || value || ' is not a fraction'
           WHEN unit = 'correlation' AND NOT value BETWEEN -1 AND 1
               THEN 'out of range: ' || value || ' is not a correlation'
           WHEN unit = 'points' AND NOT value BETWEEN 0 AND 100
               THEN 'out of range: ' || value || ' is not on a 0-100 scale'
           WHEN value < 0 AND unit IN ('count', 'ratio', 'bits', 'distance', 'time')
               THEN 'out of range: negative ' || unit
       END AS reject_reason
FROM valued;

CREATE OR REPLACE TABLE result_rejects AS
WITH refused AS (
    SELECT source, record_key, source_file, value_raw, reject_reason AS reason
    FROM result_values
    WHERE reject_reason IS NOT NULL
    UNION ALL
    -- a size cell (metric of kind model_fact) is a model fact, not a result; one that did not become a
    -- row of model_facts (no model name to resolve, or a Hub card giving it as a score) is refused here,
    -- so that no source value vanishes unaccounted for (table_reconciliation counts it)
    SELECT source, record_key, source_file, value_raw,
           CASE WHEN source LIKE 'hub-%' THEN 'model fact, not a score: ' || metric
                WHEN model_name_raw IS NULL OR model_name_raw = '' THEN 'no model name'
                ELSE 'model fact: model unresolved' END
    FROM result_values
    WHERE kind = 'model_fact'
      AND NOT (source IN ('pwc-table', 'curated-table') AND record_key IN (SELECT record_key FROM model_facts))
)
-- payload: the refused value with what identifies it as its source wrote it (JSON text, each field
-- cut to 500 characters), so that an analyst can find and fix it
SELECT r.*,
       CASE WHEN r.source LIKE 'hub-%' THEN json_object(
                'model_id', left(e.model_id, 500), 'format', e.format,
                'task_type', left(e.task_type, 500), 'task_name', left(e.task_name, 500),
                'dataset_type', left(e.dataset_type, 500), 'dataset_name', left(e.dataset_name, 500),
                'dataset_config', left(e.dataset_config, 500), 'dataset_split', left(e.dataset_split, 500),
                'metric_type', left(e.metric_type, 500), 'metric_name', left(e.metric_name, 500),
                'value', left(r.value_raw, 500))
            ELSE json_object(
                'source_file', r.source_file, 'model', left(t.model_name, 500), 'model_id', left(t.model_id, 500),
                'task', left(t.task, 500), 'dataset', left(t.dataset, 500), 'subdataset', left(t.subdataset, 500),
                'metric', left(t.metric_raw, 500), 'split', left(t.split, 500), 'setting', left(t.setting, 500),
                'row', t.row_index, 'paper', left(coalesce(t.paper_url, t.paper_title), 500),
                'value', left(r.value_raw, 500))
       END::VARCHAR AS payload
FROM refused AS r
-- (each side joins on a key that is NULL for the other source's rows: equality alone, so that the joins hash)
LEFT JOIN raw.table_results AS t ON t.record_key = CASE WHEN r.source NOT LIKE 'hub-%' THEN r.record_key END
LEFT JOIN raw.hub_eval_results AS e ON e.record_key = CASE WHEN r.source LIKE 'hub-%' THEN r.record_key END;

-- the values that became results (a view: the valuing pass above already gave them their ids)
CREATE OR REPLACE TEMP VIEW accepted AS
SELECT * EXCLUDE (reject_reason, duplicate_of) FROM result_values
WHERE kind IS DISTINCT FROM 'model_fact' AND reject_reason IS NULL;

-- The first time each result was seen survives reruns (the working database keeps it).
CREATE TABLE IF NOT EXISTS raw.results_seen (result_id VARCHAR PRIMARY KEY, first_seen_at TIMESTAMP);
INSERT INTO raw.results_seen
SELECT DISTINCT result_id, getvariable('run_started_at')::TIMESTAMP FROM accepted
WHERE result_id NOT IN (SELECT result_id FROM raw.results_seen);

CREATE OR REPLACE TABLE results AS
WITH pairs AS (
    -- other sources reporting the same model, benchmark, metric, split and setting
    SELECT a.result_id,
           bool_or(abs(a.value - b.value) <= greatest(0.1, 0.001 * abs(a.value))) AS corroborated,
           bool_or(abs(a.value - b.value) > greatest(0.1, 0.001 * abs(a.value))
                   AND b.precedence <= a.precedence) AS conflict,
           string_agg(DISTINCT CASE WHEN abs(a.value - b.value) <= greatest(0.1, 0.001 * abs(a.value))
                                    THEN b.source END, ', '
                      ORDER BY CASE WHEN abs(a.value - b.value) <= greatest(0.1, 0.001 * abs(a.value))
                                    THEN b.source END) AS corroborating_sources,
           string_agg(DISTINCT CASE WHEN abs(a.value - b.value) > greatest(0.1, 0.001 * abs(a.value))
                                     AND b.precedence <= a.precedence
                                    THEN b.source || '=' || b.value END, ', '
                      ORDER BY CASE WHEN abs(a.value - b.value) > greatest(0.1, 0.001 * abs(a.value))
                                     AND b.precedence <= a.precedence
                                    THEN b.source || '=' || b.value END) AS conflicting_values
    FROM accepted AS a
    JOIN accepted AS b
      ON a.model_id = b.model_id AND a.benchmark_id = b.benchmark_id AND a.metric = b.metric
     AND coalesce(a.split, '') = coalesce(b.split, '') AND a.setting = b.setting
     AND (a.source, coalesce(a.source_file, '')) <> (b.source, coalesce(b.source_file, ''))
    GROUP BY a.result_id
), flagged AS (
    -- a result its source does not date (a Papers with Code row without paper_date) takes the date
    -- of the arXiv paper it cites: that is when it was reported
    SELECT a.* REPLACE (coalesce(a.result_date, CASE WHEN pa.status = 'found' THEN pa.published::DATE END)
                        AS result_date),
           a.result_date IS NULL AND pa.status = 'found' AS dated_by_paper,
           s.first_seen_at,
           coalesce(p.corroborated, false) AS corroborated,
           coalesce(p.conflict, false) AS conflict,
           p.corroborating_sources, p.conflicting_values,
           pa.status = 'found' AND NOT pa.withdrawn
               AND pa.published::DATE <= coalesce(a.result_date, pa.published::DATE) AS paper_ok,
           pa.status AS paper_status, pa.withdrawn AS paper_withdrawn, pa.published::DATE AS paper_published,
           list_contains(coalesce(m.arxiv_ids, []), a.arxiv_id) AS model_linked
    FROM accepted AS a
    LEFT JOIN pairs AS p USING (result_id)
    LEFT JOIN raw.results_seen AS s USING (result_id)
    LEFT JOIN papers AS pa ON pa.arxiv_id = a.arxiv_id
    LEFT JOIN models AS m ON m.model_id = a.model_id
)
SELECT result_id, model_id, model_name_raw, benchmark_id, metric, metric_raw, split, setting,
       value, spread, value_raw AS raw_value, unit, source,
       CASE WHEN source LIKE 'hub-%' THEN 'hub'
            WHEN arxiv_id IS NOT NULL THEN 'arxiv'
            WHEN source = 'curated-table' THEN 'curated'
            ELSE 'paper' END AS source_kind,
       source_url, source_file, record_key, arxiv_id, result_date, first_seen_at, uses_additional_data,
       precedence AS source_precedence, hub_verified,
       coalesce(paper_ok, false) AS paper_confirmed,
       corroborated, conflict,
       (hub_verified OR corroborated OR (coalesce(paper_ok, false) AND model_linked)) AND NOT conflict AS verified,
       CASE WHEN hub_verified AND verify_token IS NOT NULL THEN 'reproduced'
            WHEN (hub_verified OR corroborated OR (coalesce(paper_ok, false) AND model_linked)) AND NOT conflict
                THEN 'confirmed'
            WHEN arxiv_id IS NOT NULL OR source = 'pwc-table' THEN 'paper'
            ELSE 'claimed' END AS verification_tier,
       concat_ws('; ',
           CASE WHEN hub_verified THEN 'hub: marked verified by the source'
                                       || CASE WHEN verify_token IS NOT NULL THEN ' (verify token)' ELSE '' END END,
           CASE WHEN arxiv_id IS NULL THEN 'paper: none cited'
                WHEN coalesce(paper_status, 'not_fetched') = 'not_fetched' THEN 'paper: arXiv ' || arxiv_id || ' not fetched'
                WHEN paper_status = 'missing' THEN 'paper: arXiv ' || arxiv_id || ' unknown to arXiv'
                WHEN paper_withdrawn THEN 'paper: arXiv ' || arxiv_id || ' withdrawn'
                WHEN paper_published > result_date
                    THEN 'paper: arXiv ' || arxiv_id || ' published ' || paper_published || ' after the result date'
                ELSE 'paper: arXiv ' || arxiv_id || ' confirms (published ' || paper_published
                     || CASE WHEN dated_by_paper THEN ', which dates the result' ELSE '' END || ')'
                     || CASE WHEN model_linked THEN ', cited by the model' ELSE ', not cited by the model' END
           END,
           CASE WHEN corroborated THEN 'corroborated by ' || corroborating_sources END,
           CASE WHEN conflict THEN 'conflict with ' || conflicting_values END
       ) AS verification_reasons,
       task_path, value_scale,
       parsed.note AS value_note
FROM flagged;
