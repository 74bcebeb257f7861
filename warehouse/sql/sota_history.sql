-- sota_history: for each leaderboard (benchmark_id, metric, split, setting), who held the state
-- of the art from which date to which. A result becomes SOTA on its result_date when it beats
-- (strictly) every earlier-dated result; it holds until the next such record. Results without a
-- date are left out (they cannot be placed in time). Grain: one row per record-setting result.
CREATE OR REPLACE TABLE sota_history AS
WITH dated AS (
    SELECT r.benchmark_id, r.metric, coalesce(r.split, '') AS split, r.setting, r.model_id, r.result_id,
           r.value, r.result_date,
           CASE m.direction WHEN 'higher' THEN r.value ELSE -r.value END AS goodness
    FROM results AS r JOIN metrics AS m USING (metric)
    WHERE m.direction IN ('higher', 'lower') AND r.value IS NOT NULL AND r.result_date IS NOT NULL
), running AS (
    SELECT *,
           max(goodness) OVER (PARTITION BY benchmark_id, metric, split, setting ORDER BY result_date, result_id
                               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS best_before
    FROM dated
), records AS (
    SELECT * FROM running WHERE best_before IS NULL OR goodness > best_before
)
SELECT benchmark_id, metric, split, setting, model_id, result_id, value,
       result_date AS held_from,
       lead(result_date) OVER (PARTITION BY benchmark_id, metric, split, setting ORDER BY result_date, result_id)
           AS held_until,
       lead(result_date) OVER (PARTITION BY benchmark_id, metric, split, setting ORDER BY result_date, result_id)
           IS NULL AS is_current
FROM records;
