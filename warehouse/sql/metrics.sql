-- metrics: the metric registry (warehouse/reference/metrics.csv), one row per normalised metric,
-- plus every metric name met in the sources that the registry does not know (direction NULL:
-- never ranked). metric_aliases: raw name (lower-cased, split prefix removed) -> metric.
CREATE OR REPLACE TABLE metric_aliases AS
SELECT metric_key(alias) AS alias, metric_key(metric) AS metric, nullif(name_key(dataset), '') AS dataset
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
    SELECT coalesce(metric_type, metric_name), 'hub', hub_dataset(dataset_type, dataset_name, dataset_config), count(*)
    FROM raw.hub_eval_results GROUP BY ALL
    UNION ALL
    -- the display name of a Hub metric, read only for the split it carries ("Validation ROUGE-1")
    SELECT metric_name, 'hub-name', hub_dataset(dataset_type, dataset_name, dataset_config), count(*)
    FROM raw.hub_eval_results GROUP BY ALL
), keyed AS (
    SELECT raw_name, source, dataset, n,
           regexp_replace(metric_key(raw_name), '^%\s*', '') AS key
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

-- metric_rules: how a metric name the registry does not know is understood by its parts
-- (warehouse/reference/metric_rules.csv). A `measure` rule is a regular expression naming a base
-- measure with its direction, unit and priority; an `abbreviation` rule the same for a list of
-- abbreviations, which match as whole tokens and, where the row allows, with a prefix (mAP, minFDE,
-- infNDCG, SSNR) and a suffix (AP50, PQst, minFDE6); a `fact` rule a model fact or a setting (never
-- ranked); an `undecided` rule a quantity with no better side (a spread); a `modifier` a change of
-- the measure: `improve` (higher is better whatever changed), `flip` (a reduction, a drop, `1 - x`),
-- `keep` (an increase) or `undecided` (a gap, a difference).
CREATE OR REPLACE TABLE metric_rules AS
SELECT row_number() OVER () AS rule_id, pattern,
       CASE WHEN role = 'abbreviation' THEN
           '(^|[^a-z0-9])'
           || CASE WHEN affixes = 'prefix and suffix' THEN '(m|mean|min|max|avg|inf|part|neg|[irnsvwubco])?[-_ ]?' ELSE '' END
           || '(' || pattern || ')(\d+|st|th|s|[-_]\d+|[-_]?k)?([^a-z]|$)'
       ELSE pattern END AS regex,
       CASE WHEN role = 'abbreviation' THEN 'measure' ELSE role END AS role,
       measure, nullif(direction, '') AS direction, nullif(unit, '') AS unit, nullif(kind, '') AS kind,
       priority::INTEGER AS priority
FROM read_csv(getvariable('reference_dir') || '/metric_rules.csv', all_varchar = true, header = true, delim = ',', quote = '"', escape = '"');

-- The registry: curated facts; it overrides the rules.
CREATE OR REPLACE TEMP TABLE metric_registry AS
SELECT metric_key(metric) AS metric, nullif(direction, '') AS direction, unit, kind, hub_unit, description
FROM read_csv(getvariable('reference_dir') || '/metrics.csv', all_varchar = true);

-- One verdict per metric the registry does not know. The rules read the name in lower case with
-- its bracketed parts removed (dataset and setting suffixes, "(%)"); only a name whose core matches
-- no rule is read whole ("Character Error Rate (CER)" matches on its core, "Top-1 (Error)" whole).
-- Among the matching measure rules the highest priority decides ("Top-1 Error": error beats
-- top-k; "Mean Reciprocal Rank": reciprocal rank beats rank); rules of one priority that disagree
-- leave the direction NULL, and so does any doubt in the modifiers.
CREATE OR REPLACE TEMP TABLE metric_rule_verdicts AS
WITH names AS (
    SELECT DISTINCT metric,
           metric AS whole,
           -- the core: bracketed parts and operating points ("@ 5% FPR", "@FAR=1e-4") removed
           trim(regexp_replace(regexp_replace(regexp_replace(metric, '\([^)]*\)?|\[[^\]]*\]?', ' ', 'g'),
                                              '\s*(@|\bat\b)\s*[\d.]*%?\s*(fpr|far|frr|fnr|tpr|tar|recall|precision|t?iou)\b\s*[=<>≤]?\s*[\d.e-]*%?', ' ', 'g'),
                               '\s+', ' ', 'g')) AS core
    FROM metric_names
    WHERE source <> 'hub-name' AND metric NOT IN (SELECT metric FROM metric_registry)
), hits AS (
    SELECT n.metric, r.*, regexp_matches(n.core, r.regex) AS in_core
    FROM names AS n JOIN metric_rules AS r ON regexp_matches(n.whole, r.regex)
), measure_hits AS (
    SELECT *, bool_or(in_core) OVER (PARTITION BY metric) AS core_matched
    FROM hits WHERE role <> 'modifier'
), deciding AS (
    SELECT * FROM measure_hits WHERE in_core OR NOT core_matched
    QUALIFY priority = max(priority) OVER (PARTITION BY metric)
), base AS (
    SELECT metric,
           count(DISTINCT coalesce(direction, role)) AS n_verdicts,
           any_value(role ORDER BY rule_id) AS role,
           any_value(direction ORDER BY rule_id) AS direction,
           any_value(unit ORDER BY rule_id) AS unit,
           any_value(kind ORDER BY rule_id) AS kind,
           string_agg(DISTINCT measure || coalesce(' (' || direction || ')', ''), ', ' ORDER BY measure || coalesce(' (' || direction || ')', '')) AS measures,
           min(rule_id) AS rule_id
    FROM deciding GROUP BY metric
), modifiers AS (
    SELECT metric, count(DISTINCT measure) AS n_modifiers, any_value(measure) AS modifier,
           string_agg(DISTINCT measure, ', ' ORDER BY measure) AS modifier_list
    FROM hits WHERE role = 'modifier' GROUP BY metric
)
SELECT n.metric,
       CASE WHEN b.role = 'measure' AND b.n_verdicts = 1 THEN
                CASE WHEN m.modifier IS NULL OR m.modifier = 'keep' AND m.n_modifiers = 1 THEN b.direction
                     WHEN m.n_modifiers > 1 OR m.modifier = 'undecided' THEN NULL
                     WHEN m.modifier = 'improve' THEN 'higher'
                     WHEN m.modifier = 'flip' THEN CASE b.direction WHEN 'higher' THEN 'lower' ELSE 'higher' END
                END
            WHEN b.role IS NULL AND m.modifier = 'improve' AND m.n_modifiers = 1 THEN 'higher'
       END AS direction,
       CASE WHEN b.n_verdicts = 1 AND b.role = 'fact' THEN 'model_fact' ELSE 'score' END AS kind,
       -- a changed measure can go either way of zero: its unit is a plain score
       CASE WHEN b.n_verdicts = 1 AND m.modifier IS NULL THEN b.unit WHEN b.n_verdicts = 1 AND b.role = 'measure' THEN 'score' END AS unit,
       coalesce(b.measures, CASE WHEN m.modifier = 'improve' THEN 'improvement' END) AS measure,
       CASE WHEN b.role IS NULL AND m.modifier IS NULL THEN 'no rule knows this name'
            WHEN b.n_verdicts > 1 THEN 'rules disagree: ' || b.measures
            WHEN b.role = 'fact' THEN 'a model fact or setting, not a score'
            WHEN b.role = 'undecided' THEN 'a spread or a diagnostic, not a score: no better side'
            WHEN m.n_modifiers > 1 THEN 'a change of a measure read two ways: ' || m.modifier_list
            WHEN m.modifier = 'undecided' THEN 'a gap or difference: which side is better is not in the name'
            WHEN b.role IS NULL AND m.modifier <> 'improve' THEN 'a change of no known measure'
       END AS reason
FROM names AS n
LEFT JOIN base AS b USING (metric)
LEFT JOIN modifiers AS m USING (metric);

CREATE OR REPLACE TABLE metrics AS
SELECT metric, direction, unit, kind, hub_unit, description, true AS in_registry,
       CASE WHEN direction IS NOT NULL THEN 'registry' END AS direction_source,
       metric AS measure, NULL::VARCHAR AS unranked_reason
FROM metric_registry
UNION ALL
SELECT metric, direction, unit, kind,
       CASE WHEN unit IN ('percent', 'fraction', 'correlation') THEN 'fraction' ELSE unit END AS hub_unit,
       CASE WHEN direction IS NOT NULL
            THEN 'not in the metric registry: ' || direction || ' is better, as read by the name rules (' || measure || ')'
            ELSE 'not in the metric registry: ' || reason || '; never ranked' END,
       false,
       CASE WHEN direction IS NOT NULL THEN 'name rule' END,
       measure,
       CASE WHEN direction IS NULL THEN reason END
FROM metric_rule_verdicts;

-- The names left unranked, by frequency, with why and where they were met: the report that grows
-- the registry and the rules. Model facts are not listed: they are known and never ranked.
CREATE OR REPLACE TABLE unknown_metrics AS
SELECT n.metric,
       string_agg(DISTINCT n.raw_name, ' | ' ORDER BY n.raw_name) AS raw_names,
       sum(n.n_results)::BIGINT AS n_results,
       any_value(m.unranked_reason) AS reason,
       list_sort(list_distinct(list(n.dataset)))[1:5] AS example_benchmarks
FROM metric_names AS n JOIN metrics AS m USING (metric)
WHERE n.source <> 'hub-name' AND m.direction IS NULL AND m.kind <> 'model_fact'
GROUP BY n.metric ORDER BY n_results DESC, n.metric;
