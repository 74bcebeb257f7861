-- results: one row per reported value of one metric for one model on one benchmark from one
-- source (key: result_id, a hash of source and the source's record key), value normalised to the
-- metric's unit, with verification flags and reasons (SPEC: Verification).
-- result_rejects: every source value that could not become a result, with its reason.
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
     AND mn.dataset IS NOT DISTINCT FROM coalesce(e.dataset_type, e.dataset_name)
    LEFT JOIN metric_names AS sp
      ON sp.source = 'hub-name' AND sp.raw_name = e.metric_name
     AND sp.dataset IS NOT DISTINCT FROM coalesce(e.dataset_type, e.dataset_name)
    LEFT JOIN benchmark_keys AS k
      ON k.source = 'hub' AND k.dataset = coalesce(e.dataset_type, e.dataset_name)
     AND k.subdataset IS NOT DISTINCT FROM e.dataset_config
     AND k.task IS NOT DISTINCT FROM coalesce(e.task_name, e.task_type)
)
SELECT c.*, parse_score(c.value_raw) AS parsed, m.direction, m.unit, m.kind, m.hub_unit
FROM (SELECT * FROM table_rows UNION ALL SELECT * FROM hub_rows) AS c
LEFT JOIN metrics AS m ON m.metric = c.metric;

CREATE OR REPLACE TEMP TABLE result_values AS
-- Hub cards write percent metrics either as fractions (0.801) or as percentages (80.1). A card's
-- values of one metric share a scale: they are fractions when the metric's Hub convention is
-- 'fraction' and none of them exceeds 1. Scaling is rounded to 12 decimals (80.1, not 80.10000000000001).
-- A score that cannot become a result gets its reason (reject_reason) here, in the same pass, and
-- every value its result_id (a hash of source and record key) and its source's precedence.
WITH card_scales AS (
    -- the largest value of each card's metric (only Hub values are ever scaled)
    SELECT source, model_name_raw, metric, max(parsed.value) AS max_value
    FROM result_candidates WHERE scale_origin = 'hub' GROUP BY ALL
), scaled AS (
    SELECT c.*,
           c.unit = 'percent' AND c.scale_origin = 'hub' AND c.hub_unit = 'fraction' AND NOT c.parsed.percent_sign
           AND s.max_value <= 1 AS hub_fraction
    FROM result_candidates AS c
    LEFT JOIN card_scales AS s
      ON s.source = c.source AND s.model_name_raw IS NOT DISTINCT FROM c.model_name_raw
     AND s.metric IS NOT DISTINCT FROM c.metric
), valued AS (
    SELECT * EXCLUDE (hub_fraction),
           CASE
               WHEN parsed.value IS NULL THEN NULL
               WHEN unit = 'fraction' AND parsed.percent_sign THEN round(parsed.value / 100, 12)
               WHEN hub_fraction THEN round(parsed.value * 100, 12)
               ELSE parsed.value
           END AS value,
           CASE
               WHEN parsed.spread IS NULL THEN NULL
               WHEN hub_fraction THEN round(parsed.spread * 100, 12)
               ELSE parsed.spread
           END AS spread
    FROM scaled
)
SELECT *, substr(md5(source || '|' || record_key), 1, 16) AS result_id,
       -- SPEC precedence: reproduced > official leaderboard > paper > card claim
       CASE WHEN verify_token IS NOT NULL THEN 1
            WHEN hub_verified OR source = 'hub-leaderboard' THEN 2
            WHEN arxiv_id IS NOT NULL OR source = 'pwc-table' THEN 4
            ELSE 5 END AS precedence,
       CASE
           WHEN kind = 'model_fact' THEN NULL
           WHEN model_name_raw IS NULL OR model_name_raw = '' THEN 'no model name'
           WHEN benchmark_id IS NULL THEN 'no dataset: benchmark unresolved'
           WHEN metric IS NULL THEN 'no metric name'
           WHEN parsed.reason IS NOT NULL THEN parsed.reason
           WHEN value = -1 AND (unit IS NULL OR unit NOT IN ('points')) AND direction IS DISTINCT FROM 'lower'
               THEN 'placeholder value: -1'
           WHEN unit = 'percent' AND NOT value BETWEEN 0 AND 100
               THEN 'out of range: ' || value || ' is not a percentage'
           WHEN unit = 'fraction' AND NOT value BETWEEN 0 AND 1
               THEN 'out of range: ' || value || ' is not a fraction'
           WHEN value < 0 AND unit IN ('count', 'ratio', 'bits', 'points')
               THEN 'out of range: negative ' || unit
       END AS reject_reason
FROM valued;

CREATE OR REPLACE TABLE result_rejects AS
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
  AND NOT (source IN ('pwc-table', 'curated-table') AND record_key IN (SELECT record_key FROM model_facts));

-- the values that became results (a view: the valuing pass above already gave them their ids)
CREATE OR REPLACE TEMP VIEW accepted AS
SELECT * EXCLUDE (reject_reason) FROM result_values
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
       task_path
FROM flagged;
