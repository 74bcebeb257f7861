-- The static site: one row per area page of batch getvariable('site_batch') with its benchmarks and
-- their leaderboards. Needs site_paths.sql.
-- `input_hash` is the md5 of the page's row: a page whose rows hash the same is not rendered again.
SELECT *, md5(CAST(page AS VARCHAR)) AS input_hash
FROM (
    WITH boards AS (
        SELECT benchmark_id,
               list({'metric': metric, 'split': split, 'setting': setting, 'path': path}
                    ORDER BY metric, split, setting) AS leaderboards
        FROM site_leaderboard_paths
        GROUP BY benchmark_id
    )
    SELECT ap.path, ap.area,
           list({'benchmark_id': b.benchmark_id, 'name': b.name, 'task': b.task, 'path': bp.path,
                 'leaderboards': coalesce(bo.leaderboards, [])} ORDER BY lower(b.name), b.benchmark_id) AS benchmarks
    FROM site_area_paths AS ap
    JOIN benchmarks AS b USING (area)
    JOIN site_benchmark_paths AS bp USING (benchmark_id)
    LEFT JOIN boards AS bo USING (benchmark_id)
    WHERE ap.batch = getvariable('site_batch')
    GROUP BY ap.path, ap.area
) AS page
ORDER BY path;
