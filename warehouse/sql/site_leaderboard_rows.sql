-- The static site: the ranked entries and the state-of-the-art history of every leaderboard page,
-- computed once and kept as temporary tables by page batch, so that site_leaderboard_pages.sql reads
-- one batch of pages at a time. Needs site_paths.sql first.
-- at most getvariable('site_leaderboard_entries') entries a page, in rank order; `n_entries` counts
-- them all and `newest_result_date` is the newest of them all (where the step chart's time axis ends)
CREATE OR REPLACE TEMP TABLE site_leaderboard_entry_rows AS
WITH ranked AS (
    SELECT l.*, l AS entry,
           row_number() OVER (PARTITION BY benchmark_id, metric, split, setting
                              ORDER BY rank NULLS LAST, result_date NULLS LAST, model_id) AS position,
           count(*) OVER (PARTITION BY benchmark_id, metric, split, setting) AS n_entries,
           max(result_date) OVER (PARTITION BY benchmark_id, metric, split, setting) AS newest_result_date
    FROM leaderboard AS l
)
SELECT lp.batch, l.benchmark_id, l.metric, l.split, l.setting, l.direction, l.unit, l.n_models,
       l.position, l.n_entries, l.newest_result_date,
       struct_insert(l.entry, display_name := coalesce(m.display_name, l.model_id), model_path := mp.path,
                     verification_reasons := r.verification_reasons, raw_value := r.raw_value) AS row
FROM ranked AS l
JOIN site_leaderboard_paths AS lp USING (benchmark_id, metric, split, setting)
LEFT JOIN models AS m USING (model_id)
LEFT JOIN site_model_paths AS mp USING (model_id)
LEFT JOIN results AS r USING (result_id)
WHERE l.position <= getvariable('site_leaderboard_entries')
ORDER BY lp.batch;

CREATE OR REPLACE TEMP TABLE site_leaderboard_history_rows AS
SELECT lp.batch, h.benchmark_id, h.metric, h.split, h.setting, h.held_from, h.value,
       {'model_id': h.model_id, 'display_name': coalesce(m.display_name, h.model_id),
        'model_path': mp.path, 'value': h.value, 'held_from': h.held_from,
        'held_until': h.held_until, 'is_current': h.is_current} AS point
FROM sota_history AS h
JOIN site_leaderboard_paths AS lp USING (benchmark_id, metric, split, setting)
LEFT JOIN models AS m USING (model_id)
LEFT JOIN site_model_paths AS mp USING (model_id)
ORDER BY lp.batch;
