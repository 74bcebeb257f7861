-- metrics: the metric registry (warehouse/reference/metrics.csv), one row per normalised metric,
-- plus every metric name met in the sources that the registry does not know (direction NULL:
-- never ranked). metric_aliases: raw name (lower-cased, split prefix removed) -> metric.
CREATE OR REPLACE TABLE metric_aliases AS
SELECT name_key(alias) AS alias, name_key(metric) AS metric, nullif(name_key(dataset), '') AS dataset
FROM read_csv(getvariable('reference_dir') || '/metric_aliases.csv', all_varchar = true);

CREATE OR REPLACE TABLE split_prefixes AS
SELECT name_key(prefix) AS prefix, split
FROM read_csv(getvariable('reference_dir') || '/split_prefixes.csv', all_varchar = true);

-- Every raw metric name, per source and dataset, with what it normalises to. An alias scoped to a
-- dataset (CoQA's "OVERALL" is F1; it applies to datasets whose name starts with it) wins over a general one.
CREATE OR REPLACE TABLE metric_names AS
WITH seen AS (
    SELECT metric_raw AS raw_name, 'tables' AS source, dataset, count(*) AS n
    FROM raw.table_results GROUP BY ALL
    UNION ALL
    SELECT coalesce(metric_type, metric_name), 'hub', coalesce(dataset_type, dataset_name), count(*)
    FROM raw.hub_eval_results GROUP BY ALL
    UNION ALL
    -- the display name of a Hub metric, read only for the split it carries ("Validation ROUGE-1")
    SELECT metric_name, 'hub-name', coalesce(dataset_type, dataset_name), count(*)
    FROM raw.hub_eval_results GROUP BY ALL
), keyed AS (
    SELECT raw_name, source, dataset, n,
           regexp_replace(name_key(raw_name), '^%\s*', '') AS key
    -- an empty name, or one with a NUL, names no metric: its values are refused (results.sql)
    FROM seen WHERE nullif(trim(raw_name), '') IS NOT NULL AND NOT contains(raw_name, chr(0))
), key_splits AS (
    -- each distinct name once (a few hundred, against tens of thousands of names per dataset):
    -- the longest split prefix it starts with, and the rest
    SELECT k.key, p.split,
           CASE WHEN p.prefix IS NULL THEN k.key
                ELSE trim(regexp_replace(substr(k.key, length(p.prefix) + 1), '^[\s_\-:]+', '')) END AS rest
    FROM (SELECT DISTINCT key FROM keyed) AS k
    LEFT JOIN split_prefixes AS p
      ON k.key = p.prefix OR regexp_matches(k.key, '^' || p.prefix || '[\s_\-:]+\S')
    QUALIFY row_number() OVER (PARTITION BY k.key ORDER BY length(p.prefix) DESC NULLS LAST, p.split) = 1
), split_off AS (
    SELECT k.*, s.split, s.rest FROM keyed AS k JOIN key_splits AS s USING (key)
)
SELECT s.raw_name, s.source, s.dataset, s.n AS n_results, s.split,
       coalesce(a.metric, nullif(s.rest, ''), s.key) AS metric,
       a.metric IS NOT NULL AS known
FROM split_off AS s
LEFT JOIN metric_aliases AS a
  ON a.alias = s.rest AND (a.dataset IS NULL OR starts_with(name_key(s.dataset), a.dataset))
QUALIFY row_number() OVER (PARTITION BY s.raw_name, s.source, s.dataset ORDER BY a.dataset NULLS LAST) = 1;

CREATE OR REPLACE TABLE metrics AS
WITH registry AS (
    SELECT name_key(metric) AS metric, nullif(direction, '') AS direction, unit, kind, hub_unit, description
    FROM read_csv(getvariable('reference_dir') || '/metrics.csv', all_varchar = true)
)
SELECT metric, direction, unit, kind, hub_unit, description, true AS in_registry FROM registry
UNION ALL
SELECT DISTINCT metric, NULL, NULL, 'score', NULL, 'not in the metric registry: direction unknown, never ranked', false
FROM metric_names WHERE source <> 'hub-name' AND metric NOT IN (SELECT metric FROM registry);

-- The report that grows the registry: unknown metric names by frequency.
CREATE OR REPLACE TABLE unknown_metrics AS
SELECT metric, string_agg(DISTINCT raw_name, ' | ' ORDER BY raw_name) AS raw_names, sum(n_results) AS n_results
FROM metric_names WHERE NOT known AND source <> 'hub-name'
GROUP BY metric ORDER BY n_results DESC, metric;
