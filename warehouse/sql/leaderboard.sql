-- leaderboard: one row per (benchmark_id, metric, split, setting, model_id): the model's best
-- result by the metric's direction (a tie on value goes to the earliest date, then the smallest
-- result_id), ranked by standard competition ranking (1 + models strictly better; ties share a
-- rank). Beside the main rank: the rank among verified results only, and the rank without results
-- that used additional data. Not ranked: unknown direction, no value, unresolved benchmark.
-- The ranking runs on narrow rows (keys and values); the result's other columns join at the end.
CREATE OR REPLACE TABLE leaderboard AS
WITH rankable AS (
    SELECT r.result_id, r.benchmark_id, r.metric, coalesce(r.split, '') AS split_key, r.setting, r.model_id,
           r.verified, r.uses_additional_data, r.result_date,
           goodness(m.direction, r.value) AS goodness
    FROM results AS r JOIN metrics AS m USING (metric)
    WHERE m.direction IN ('higher', 'lower') AND r.value IS NOT NULL AND r.benchmark_id IS NOT NULL
), boards AS MATERIALIZED (
    -- each leaderboard under a number: the grouping and the windows below sort integers, not four strings
    SELECT row_number() OVER () AS board, *
    FROM (SELECT DISTINCT benchmark_id, metric, split_key, setting FROM rankable)
), best AS (
    -- the result that represents the model, and its best values among verified results and among
    -- results without additional data (a rank needs only the best value)
    SELECT board, model_id,
           arg_min(result_id, (-goodness, result_date IS NULL, result_date, result_id)) AS result_id,
           max(goodness) AS goodness,
           max(goodness) FILTER (WHERE verified) AS verified_goodness,
           max(goodness) FILTER (WHERE NOT uses_additional_data) AS plain_goodness
    FROM rankable JOIN boards USING (benchmark_id, metric, split_key, setting)
    GROUP BY board, model_id
), ranked AS (
    SELECT board, model_id, result_id,
           rank() OVER (board ORDER BY goodness DESC) AS rank,
           count(*) OVER board AS n_models,
           CASE WHEN verified_goodness IS NOT NULL
                THEN rank() OVER (board ORDER BY verified_goodness DESC NULLS LAST) END AS verified_rank,
           CASE WHEN verified_goodness IS NOT NULL THEN count(verified_goodness) OVER board END AS verified_n_models,
           CASE WHEN plain_goodness IS NOT NULL
                THEN rank() OVER (board ORDER BY plain_goodness DESC NULLS LAST) END AS rank_without_extra_data,
           CASE WHEN plain_goodness IS NOT NULL THEN count(plain_goodness) OVER board END AS n_models_without_extra_data
    FROM best
    WINDOW board AS (PARTITION BY board)
)
SELECT l.benchmark_id, l.metric, l.split_key AS split, l.setting, b.model_id, b.result_id, r.value, r.unit,
       m.direction, b.rank, b.n_models, b.rank = 1 AS is_sota, b.rank = 1 AND b.n_models <= 3 AS thin,
       b.verified_rank, b.verified_n_models, b.rank_without_extra_data, b.n_models_without_extra_data,
       r.uses_additional_data, r.verified, r.verification_tier, r.result_date, r.source, r.source_kind, r.source_url,
       m.direction_source
FROM ranked AS b
JOIN boards AS l USING (board)
JOIN results AS r USING (result_id)
JOIN metrics AS m ON m.metric = l.metric;
