-- The static site: one row per model page, every section of `sotaboard model` as nested rows, read
-- from the model page views (warehouse/README.md) and ordered as the terminal page orders them.
-- Needs site_paths.sql first.
WITH benchmarks AS (
    SELECT b.model_id,
           list(struct_insert(b, leaderboard_path := lp.path, benchmark_path := bp.path)
                ORDER BY b.position) AS rows
    FROM model_page_benchmarks AS b
    LEFT JOIN site_leaderboard_paths AS lp
      ON lp.benchmark_id = b.benchmark_id AND lp.metric = b.metric AND lp.split = coalesce(b.split, '')
     AND lp.setting = b.setting
    LEFT JOIN site_benchmark_paths AS bp ON bp.benchmark_id = b.benchmark_id
    GROUP BY b.model_id
), strengths AS (
    SELECT s.model_id, list(struct_insert(s, area_path := ap.path) ORDER BY s.avg_rank, s.area) AS rows
    FROM model_page_strengths AS s
    LEFT JOIN site_area_paths AS ap USING (area)
    GROUP BY s.model_id
), papers AS (
    SELECT pp.model_id,
           list(struct_insert(pp, abs_url := p.abs_url)
                ORDER BY pp.published DESC NULLS LAST, pp.arxiv_id) AS rows
    FROM model_page_papers AS pp
    LEFT JOIN papers AS p USING (arxiv_id)
    GROUP BY pp.model_id
), related AS (
    SELECT r.model_id,
           list(struct_insert(r, path := mp.path)
                ORDER BY r.n_results DESC, r.params DESC NULLS LAST, r.related_model_id) AS rows
    FROM model_page_related AS r
    LEFT JOIN site_model_paths AS mp ON mp.model_id = r.related_model_id
    GROUP BY r.model_id
), sources AS (
    SELECT model_id, list(s ORDER BY s.n_results DESC, s.source_kind) AS rows
    FROM model_page_sources AS s
    GROUP BY model_id
)
SELECT mp.model_id, mp.path, c AS card,
       coalesce(b.rows, []) AS benchmarks, coalesce(st.rows, []) AS strengths, coalesce(p.rows, []) AS papers,
       coalesce(r.rows, []) AS related, coalesce(so.rows, []) AS sources
FROM site_model_paths AS mp
JOIN model_page_card AS c USING (model_id)
LEFT JOIN benchmarks AS b USING (model_id)
LEFT JOIN strengths AS st USING (model_id)
LEFT JOIN papers AS p USING (model_id)
LEFT JOIN related AS r USING (model_id)
LEFT JOIN sources AS so USING (model_id)
ORDER BY mp.path;
