-- leaderboard: one row per (benchmark_id, metric, split, setting, model_id): the model's best
-- result by the metric's direction (a tie on value goes to the earliest date), ranked by standard
-- competition ranking (1 + models strictly better; ties share a rank). Beside the main rank: the
-- rank among verified results only, and the rank without results that used additional data.
-- Not ranked: unknown direction, no value, unresolved benchmark.
CREATE OR REPLACE TABLE leaderboard AS
WITH rankable AS (
    SELECT r.*, m.direction,
           CASE m.direction WHEN 'higher' THEN r.value ELSE -r.value END AS goodness
    FROM results AS r JOIN metrics AS m USING (metric)
    WHERE m.direction IN ('higher', 'lower') AND r.value IS NOT NULL AND r.benchmark_id IS NOT NULL
), variants AS (
    SELECT 'all' AS ranking, * FROM rankable
    UNION ALL SELECT 'verified', * FROM rankable WHERE verified
    UNION ALL SELECT 'without_extra_data', * FROM rankable WHERE NOT uses_additional_data
), best AS (
    SELECT * FROM variants
    QUALIFY row_number() OVER (
        PARTITION BY ranking, benchmark_id, metric, coalesce(split, ''), setting, model_id
        ORDER BY goodness DESC, result_date ASC NULLS LAST, result_id) = 1
), ranked AS (
    SELECT *,
           rank() OVER (PARTITION BY ranking, benchmark_id, metric, coalesce(split, ''), setting
                        ORDER BY goodness DESC) AS rank,
           count(*) OVER (PARTITION BY ranking, benchmark_id, metric, coalesce(split, ''), setting) AS n_models
    FROM best
)
SELECT a.benchmark_id, a.metric, coalesce(a.split, '') AS split, a.setting, a.model_id, a.result_id,
       a.value, a.unit, a.direction, a.rank, a.n_models, a.rank = 1 AS is_sota,
       a.rank = 1 AND a.n_models <= 3 AS thin,
       v.rank AS verified_rank, v.n_models AS verified_n_models,
       x.rank AS rank_without_extra_data, x.n_models AS n_models_without_extra_data,
       a.uses_additional_data, a.verified, a.verification_tier, a.result_date, a.source, a.source_kind,
       a.source_url
FROM ranked AS a
LEFT JOIN ranked AS v
  ON v.ranking = 'verified' AND v.benchmark_id = a.benchmark_id AND v.metric = a.metric
 AND coalesce(v.split, '') = coalesce(a.split, '') AND v.setting = a.setting AND v.model_id = a.model_id
LEFT JOIN ranked AS x
  ON x.ranking = 'without_extra_data' AND x.benchmark_id = a.benchmark_id AND x.metric = a.metric
 AND coalesce(x.split, '') = coalesce(a.split, '') AND x.setting = a.setting AND x.model_id = a.model_id
WHERE a.ranking = 'all';
