-- hub_rank_comparison: for every entry of a Hub dataset leaderboard whose dataset we rank, the
-- Hub's rank and value beside ours. Our rank is recomputed among the models the Hub lists, for the
-- metric whose value matches the Hub's (within tolerance), so the two orders are comparable.
-- Grain: (dataset_id, model_id, metric, split, setting). rank_agrees is false where the two disagree.
CREATE OR REPLACE TABLE hub_rank_comparison AS
WITH hub AS (
    SELECT e.*, a.benchmark_id
    FROM raw.hub_leaderboard_entries AS e
    JOIN (SELECT DISTINCT alias, benchmark_id FROM benchmark_aliases) AS a ON name_key(a.alias) = name_key(e.dataset_id)
), matched AS (
    SELECT h.dataset_id, h.benchmark_id, h.model_id, h.rank AS hub_rank, h.value AS hub_value,
           h.verified AS hub_verified, l.metric, l.split, l.setting, l.value AS our_value,
           l.rank AS our_rank, l.n_models AS our_n_models, l.direction
    FROM hub AS h
    JOIN leaderboard AS l
      ON l.benchmark_id = h.benchmark_id AND l.model_id = h.model_id
     AND abs(l.value - h.value) <= greatest(0.1, 0.001 * abs(h.value))
)
SELECT *,
       rank() OVER (PARTITION BY dataset_id, metric, split, setting
                    ORDER BY goodness(direction, our_value) DESC)
           AS our_rank_among_hub_models,
       rank() OVER (PARTITION BY dataset_id, metric, split, setting ORDER BY hub_rank) AS hub_rank_among_matched,
       our_rank_among_hub_models = hub_rank_among_matched AS rank_agrees
FROM matched;
