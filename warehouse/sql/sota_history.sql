-- sota_history: for each leaderboard (benchmark_id, metric, split, setting), who held the state
-- of the art from which date to which. The best result of a date (a tie on value goes to the
-- smallest result_id, as in leaderboard) becomes SOTA on that date when it beats (strictly) every
-- earlier-dated result; it holds until the next such record. A result beaten on its own date never
-- held the record, so no reign is zero days long. Results without a date are left out (they cannot
-- be placed in time). Grain: one row per record-setting result.
-- The running best runs on narrow rows (a number per leaderboard, date, id, value); the keys and
-- the model join back to the records only.
CREATE OR REPLACE TABLE sota_history AS
WITH dated AS (
    SELECT r.benchmark_id, r.metric, coalesce(r.split, '') AS split, r.setting, r.result_id, r.result_date,
           goodness(m.direction, r.value) AS goodness
    FROM results AS r JOIN metrics AS m USING (metric)
    WHERE m.direction IN ('higher', 'lower') AND r.value IS NOT NULL AND r.result_date IS NOT NULL
), boards AS MATERIALIZED (
    SELECT row_number() OVER () AS board, *
    FROM (SELECT DISTINCT benchmark_id, metric, split, setting FROM dated)
), days AS (
    SELECT board, result_date, arg_min(result_id, (-goodness, result_id)) AS result_id, max(goodness) AS goodness
    FROM dated JOIN boards USING (benchmark_id, metric, split, setting)
    GROUP BY board, result_date
), running AS (
    SELECT board, result_id, result_date, goodness,
           max(goodness) OVER (PARTITION BY board ORDER BY result_date
                               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS best_before
    FROM days
), records AS (
    SELECT board, result_id, result_date,
           lead(result_date) OVER (PARTITION BY board ORDER BY result_date) AS held_until
    FROM running WHERE best_before IS NULL OR goodness > best_before
)
SELECT b.benchmark_id, b.metric, b.split, b.setting, r.model_id, s.result_id, r.value,
       s.result_date AS held_from, s.held_until, s.held_until IS NULL AS is_current
FROM records AS s
JOIN boards AS b USING (board)
JOIN results AS r USING (result_id);
