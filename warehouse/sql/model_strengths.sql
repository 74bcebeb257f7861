-- model_strengths: per (model_id, area), the benchmarks on which the model holds a rank and its
-- average rank there (one rank per benchmark: the model's best rank over that benchmark's
-- leaderboards).
CREATE OR REPLACE TABLE model_strengths AS
WITH per_benchmark AS (
    SELECT l.model_id, l.benchmark_id, min(l.rank) AS best_rank, bool_or(l.is_sota) AS is_sota
    FROM leaderboard AS l GROUP BY l.model_id, l.benchmark_id
)
SELECT p.model_id, b.area, count(*) AS n_benchmarks, round(avg(p.best_rank), 2) AS avg_rank,
       count(*) FILTER (WHERE p.is_sota) AS n_sota
FROM per_benchmark AS p JOIN benchmarks AS b USING (benchmark_id)
GROUP BY p.model_id, b.area;
