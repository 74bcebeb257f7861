-- The static site: what the index page's search looks through, every benchmark and the models with a
-- page, at most getvariable('site_search_models') of them: those with the most results (then by
-- model_id), so that the index the page loads stays a few MB however many models there are. Every
-- model left out still has its page, linked from its leaderboards. Needs site_paths.sql.
WITH counts AS (
    SELECT model_id, count(*) AS n_results FROM results GROUP BY model_id
), searched AS (
    SELECT mp.model_id, mp.path
    FROM site_model_paths AS mp
    JOIN counts AS c USING (model_id)
    ORDER BY c.n_results DESC, mp.model_id
    LIMIT getvariable('site_search_models')
)
SELECT kind, name, key, detail, path
FROM (
    SELECT 'model' AS kind, m.display_name AS name, m.model_id AS key,
           concat_ws(' · ', m.org_display_name, m.model_id) AS detail, s.path
    FROM searched AS s
    JOIN models AS m USING (model_id)
    UNION ALL
    SELECT 'benchmark', b.name, b.benchmark_id, concat_ws(' · ', b.area, b.task), bp.path
    FROM site_benchmark_paths AS bp
    JOIN benchmarks AS b USING (benchmark_id)
)
ORDER BY kind DESC, lower(name), key;
