-- The static site: one row per leaderboard page, its ranked models (display names, verification
-- reasons, model page paths) and its state-of-the-art history for the step chart. Needs site_paths.sql.
WITH entries AS (
    SELECT l.benchmark_id, l.metric, l.split, l.setting,
           any_value(l.direction) AS direction, any_value(l.unit) AS unit, max(l.n_models) AS n_models,
           list(struct_insert(l, display_name := coalesce(m.display_name, l.model_id), model_path := mp.path,
                              verification_reasons := r.verification_reasons, raw_value := r.raw_value)
                ORDER BY l.rank NULLS LAST, l.result_date NULLS LAST, l.model_id) AS rows
    FROM leaderboard AS l
    LEFT JOIN models AS m USING (model_id)
    LEFT JOIN site_model_paths AS mp USING (model_id)
    LEFT JOIN results AS r USING (result_id)
    GROUP BY l.benchmark_id, l.metric, l.split, l.setting
), history AS (
    SELECT h.benchmark_id, h.metric, h.split, h.setting,
           list({'model_id': h.model_id, 'display_name': coalesce(m.display_name, h.model_id),
                 'model_path': mp.path, 'value': h.value, 'held_from': h.held_from,
                 'held_until': h.held_until, 'is_current': h.is_current}
                ORDER BY h.held_from, h.value) AS points
    FROM sota_history AS h
    LEFT JOIN models AS m USING (model_id)
    LEFT JOIN site_model_paths AS mp USING (model_id)
    GROUP BY h.benchmark_id, h.metric, h.split, h.setting
)
SELECT lp.path, lp.benchmark_id, lp.metric, lp.split, lp.setting,
       b.name AS benchmark, b.area, b.task, bp.path AS benchmark_path, ap.path AS area_path,
       e.direction, e.unit, e.n_models, e.rows AS entries, coalesce(h.points, []) AS history
FROM site_leaderboard_paths AS lp
JOIN entries AS e USING (benchmark_id, metric, split, setting)
LEFT JOIN history AS h USING (benchmark_id, metric, split, setting)
LEFT JOIN benchmarks AS b USING (benchmark_id)
LEFT JOIN site_benchmark_paths AS bp USING (benchmark_id)
LEFT JOIN site_area_paths AS ap ON ap.area = b.area
ORDER BY lp.path;
