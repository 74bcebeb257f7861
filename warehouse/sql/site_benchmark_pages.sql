-- The static site: one row per benchmark page of batch getvariable('site_batch') with its leaderboards
-- and their current state of the art (the rank-1 models, ties included). Needs site_paths.sql.
-- `input_hash` is the md5 of the page's row: a page whose rows hash the same is not rendered again.
SELECT *, md5(CAST(page AS VARCHAR)) AS input_hash
FROM (
    WITH page AS (
        SELECT benchmark_id, path FROM site_benchmark_paths WHERE batch = getvariable('site_batch')
    ), sota AS (
        SELECT benchmark_id, metric, split, setting, any_value(value) FILTER (WHERE is_sota) AS value,
               any_value(unit) AS unit, max(n_models) AS n_models,
               list({'display_name': coalesce(m.display_name, l.model_id), 'model_path': mp.path}
                    ORDER BY l.result_date NULLS LAST, l.model_id) FILTER (WHERE l.is_sota) AS sota_models
        FROM leaderboard AS l
        LEFT JOIN models AS m USING (model_id)
        LEFT JOIN site_model_paths AS mp USING (model_id)
        WHERE l.benchmark_id IN (SELECT benchmark_id FROM page)
        GROUP BY benchmark_id, metric, split, setting
    ), boards AS (
        SELECT s.benchmark_id,
               list(struct_insert(s, path := lp.path) ORDER BY s.metric, s.split, s.setting) AS leaderboards
        FROM sota AS s
        JOIN site_leaderboard_paths AS lp USING (benchmark_id, metric, split, setting)
        GROUP BY s.benchmark_id
    )
    SELECT bp.path, b.benchmark_id, b.name, b.area, b.task, b.area_source, ap.path AS area_path,
           coalesce(bo.leaderboards, []) AS leaderboards,
           (SELECT count(*) FROM results AS r WHERE r.benchmark_id = b.benchmark_id) AS n_results
    FROM page AS bp
    JOIN benchmarks AS b USING (benchmark_id)
    LEFT JOIN site_area_paths AS ap ON ap.area = b.area
    LEFT JOIN boards AS bo USING (benchmark_id)
) AS page
ORDER BY path;
