-- The static site: one row per leaderboard page of batch getvariable('site_batch'), its ranked models
-- (display names, verification reasons, model page paths) and its state-of-the-art history for the
-- step chart. Needs site_paths.sql and site_leaderboard_rows.sql first.
-- `input_hash` is the md5 of the page's row: a page whose rows hash the same is not rendered again.
SELECT *, md5(CAST(page AS VARCHAR)) AS input_hash
FROM (
    WITH entries AS (
        SELECT benchmark_id, metric, split, setting,
               any_value(direction) AS direction, any_value(unit) AS unit, max(n_models) AS n_models,
               any_value(n_entries) AS n_entries, any_value(newest_result_date) AS newest_result_date,
               list(row ORDER BY position) AS rows
        FROM site_leaderboard_entry_rows WHERE batch = getvariable('site_batch')
        GROUP BY benchmark_id, metric, split, setting
    ), history AS (
        SELECT benchmark_id, metric, split, setting, list(point ORDER BY held_from, value) AS points
        FROM site_leaderboard_history_rows WHERE batch = getvariable('site_batch')
        GROUP BY benchmark_id, metric, split, setting
    )
    SELECT lp.path, lp.benchmark_id, lp.metric, lp.split, lp.setting,
           b.name AS benchmark, b.area, b.task, bp.path AS benchmark_path, ap.path AS area_path,
           e.direction, e.unit, e.n_models, e.n_entries, e.newest_result_date, e.rows AS entries, coalesce(h.points, []) AS history
    FROM site_leaderboard_paths AS lp
    JOIN entries AS e USING (benchmark_id, metric, split, setting)
    LEFT JOIN history AS h USING (benchmark_id, metric, split, setting)
    LEFT JOIN benchmarks AS b USING (benchmark_id)
    LEFT JOIN site_benchmark_paths AS bp USING (benchmark_id)
    LEFT JOIN site_area_paths AS ap ON ap.area = b.area
    WHERE lp.batch = getvariable('site_batch')
) AS page
ORDER BY path;
