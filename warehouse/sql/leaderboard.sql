-- leaderboard: one row per (benchmark_id, metric, split, setting, model_id): the model's best
-- result by the metric's direction (a tie on value goes to the earliest date), ranked by standard
-- competition ranking (1 + models strictly better; ties share a rank). Beside the main rank: the
-- rank among verified results only, and the rank without results that used additional data.
-- Not ranked: unknown direction, no value, unresolved benchmark.
CREATE OR REPLACE TABLE leaderboard AS
WITH rankable AS (
    SELECT r.*, coalesce(r.split, '') AS split_key, m.direction,
           CASE m.direction WHEN 'higher' THEN r.value ELSE -r.value END AS goodness
    FROM results AS r JOIN metrics AS m USING (metric)
    WHERE m.direction IN ('higher', 'lower') AND r.value IS NOT NULL AND r.benchmark_id IS NOT NULL
), best AS (
    -- the row that represents the model, with the best values among its verified results and among
    -- its results without additional data (a rank needs only the best value)
    SELECT *,
           max(goodness) FILTER (WHERE verified) OVER model AS verified_goodness,
           max(goodness) FILTER (WHERE NOT uses_additional_data) OVER model AS plain_goodness
    FROM rankable
    WINDOW model AS (PARTITION BY benchmark_id, metric, split_key, setting, model_id)
    QUALIFY row_number() OVER (model ORDER BY goodness DESC, result_date ASC NULLS LAST, result_id) = 1
)
SELECT benchmark_id, metric, split_key AS split, setting, model_id, result_id, value, unit, direction,
       rank() OVER (board ORDER BY goodness DESC) AS rank,
       count(*) OVER board AS n_models,
       rank() OVER (board ORDER BY goodness DESC) = 1 AS is_sota,
       rank() OVER (board ORDER BY goodness DESC) = 1 AND count(*) OVER board <= 3 AS thin,
       CASE WHEN verified_goodness IS NOT NULL
            THEN rank() OVER (board ORDER BY verified_goodness DESC NULLS LAST) END AS verified_rank,
       CASE WHEN verified_goodness IS NOT NULL THEN count(verified_goodness) OVER board END AS verified_n_models,
       CASE WHEN plain_goodness IS NOT NULL
            THEN rank() OVER (board ORDER BY plain_goodness DESC NULLS LAST) END AS rank_without_extra_data,
       CASE WHEN plain_goodness IS NOT NULL THEN count(plain_goodness) OVER board END AS n_models_without_extra_data,
       uses_additional_data, verified, verification_tier, result_date, source, source_kind, source_url
FROM best
WINDOW board AS (PARTITION BY benchmark_id, metric, split_key, setting);
