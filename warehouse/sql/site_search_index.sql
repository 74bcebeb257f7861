-- The static site: what the index page's search looks through, models with a page and benchmarks.
-- Needs site_paths.sql.
SELECT 'model' AS kind, m.display_name AS name, m.model_id AS key,
       concat_ws(' · ', m.org_display_name, m.model_id) AS detail, mp.path
FROM site_model_paths AS mp
JOIN models AS m USING (model_id)
UNION ALL
SELECT 'benchmark', b.name, b.benchmark_id, concat_ws(' · ', b.area, b.task), bp.path
FROM site_benchmark_paths AS bp
JOIN benchmarks AS b USING (benchmark_id)
ORDER BY kind DESC, lower(name), key;
