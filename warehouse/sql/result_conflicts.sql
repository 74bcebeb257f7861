-- result_conflicts: pairs of results from different sources for the same model, benchmark, metric,
-- split and setting whose values differ by more than the tolerance (max(0.1, 0.1% of the value)),
-- for review. Grain: (result_id, other_result_id), result_id the lower-precedence side (the row
-- flagged conflict); equal precedence lists the pair once.
CREATE OR REPLACE TABLE result_conflicts AS
WITH ranked AS (SELECT *, source_precedence AS precedence FROM results)
SELECT a.result_id, b.result_id AS other_result_id, a.model_id, a.benchmark_id, a.metric,
       coalesce(a.split, '') AS split, a.setting,
       a.source, a.value, b.source AS other_source, b.value AS other_value,
       round(abs(a.value - b.value), 6) AS difference,
       greatest(0.1, 0.001 * abs(a.value)) AS tolerance,
       CASE WHEN b.precedence < a.precedence THEN b.source || ' takes precedence'
            ELSE 'equal precedence: both flagged' END AS resolution
FROM ranked AS a
JOIN ranked AS b
  ON a.model_id = b.model_id AND a.benchmark_id = b.benchmark_id AND a.metric = b.metric
 AND coalesce(a.split, '') = coalesce(b.split, '') AND a.setting = b.setting
 AND (a.source, coalesce(a.source_file, '')) <> (b.source, coalesce(b.source_file, ''))
 AND abs(a.value - b.value) > greatest(0.1, 0.001 * abs(a.value))
 AND (b.precedence < a.precedence OR (b.precedence = a.precedence AND a.result_id < b.result_id));
