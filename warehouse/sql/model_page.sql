-- Views that feed the model page, one per section; each is filtered by model_id:
--   SELECT * FROM model_page_benchmarks WHERE model_id = ? ORDER BY position;

CREATE OR REPLACE VIEW related_models AS
-- other models of the same org (grain: model_id, related_model_id)
WITH counts AS (SELECT model_id, count(*) AS n_results FROM results GROUP BY model_id)
SELECT m.model_id, o.model_id AS related_model_id, o.display_name AS related_display_name, o.org,
       o.params, coalesce(c.n_results, 0) AS n_results
FROM models AS m
JOIN models AS o ON o.org = m.org AND o.model_id <> m.model_id
LEFT JOIN counts AS c ON c.model_id = o.model_id;

CREATE OR REPLACE VIEW model_page_card AS
SELECT m.model_id, m.display_name, m.org, m.org_display_name, m.open_weights, m.params, m.family,
       m.license, m.card_html, m.hf_url, m.last_modified,
       (SELECT count(*) FROM results AS r WHERE r.model_id = m.model_id) AS n_results,
       (SELECT count(DISTINCT r.benchmark_id) FROM results AS r WHERE r.model_id = m.model_id) AS n_benchmarks,
       p.arxiv_id AS paper_arxiv_id, p.title AS paper_title, p.journal_ref AS paper_journal_ref,
       m.display_name_source, m.family_source, m.pipeline_tag
FROM models AS m
LEFT JOIN papers AS p ON p.arxiv_id = m.arxiv_ids[1];

CREATE OR REPLACE VIEW result_sources AS
-- what each result's source is, for a reader (grain: result_id): `source_label` from the source
-- URL first, then the kind of source
SELECT result_id, model_id,
       CASE WHEN source IN ('hub-eval-results', 'hub-leaderboard')
                 OR regexp_matches(source_url, '^https?://(www\.)?huggingface\.co/datasets/') THEN 'Hub leaderboard'
            WHEN regexp_matches(source_url, '^https?://([a-z]+\.)?arxiv\.org/') THEN 'arXiv paper'
            WHEN regexp_matches(source_url, '^https?://(www\.)?github\.com/') THEN 'GitHub'
            WHEN regexp_matches(source_url, '^https?://(www\.)?paperswithcode\.com/') THEN 'Papers with Code'
            WHEN source = 'hub-model-index' OR regexp_matches(source_url, '^https?://(www\.)?huggingface\.co/')
                THEN 'Hugging Face card'
            WHEN source_kind = 'paper' AND source_url IS NOT NULL THEN 'paper'
            WHEN source = 'pwc-table' THEN 'Papers with Code'
            WHEN source = 'curated-table' THEN 'curated'
            ELSE source_kind END AS source_label
FROM results;

CREATE OR REPLACE VIEW model_page_benchmarks AS
-- one row per (model, benchmark, metric, split, setting, value): results that repeat the same value
-- are one row, its sources listed in `sources` (oldest first). The row's own columns are those of
-- its representative result: the one that holds the model's rank, else verified, else the source
-- of highest precedence, else the earliest.
WITH scored AS (
    SELECT r.*, s.source_label, l.rank, l.n_models, l.is_sota, l.thin, l.verified_rank,
           l.result_id = r.result_id AS holds_rank
    FROM results AS r
    JOIN result_sources AS s USING (result_id)
    LEFT JOIN leaderboard AS l
      ON l.benchmark_id = r.benchmark_id AND l.metric = r.metric AND l.split = coalesce(r.split, '')
     AND l.setting = r.setting AND l.model_id = r.model_id
), merged AS (
    SELECT arg_min(result_id, (NOT coalesce(holds_rank, false), NOT coalesce(verified, false), source_precedence,
                               result_date IS NULL, result_date, result_id)) AS result_id,
           coalesce(bool_or(holds_rank), false) AS is_best, count(*) AS n_sources,
           list({'source_label': source_label, 'source': source, 'source_kind': source_kind,
                 'source_url': source_url, 'arxiv_id': arxiv_id, 'result_date': result_date,
                 'verified': verified, 'result_id': result_id}
                ORDER BY result_date NULLS LAST, result_id) AS sources
    FROM scored
    GROUP BY model_id, benchmark_id, metric, split, setting, value, CASE WHEN value IS NULL THEN result_id END
)
SELECT r.model_id,
       row_number() OVER (PARTITION BY r.model_id
                          ORDER BY r.rank ASC NULLS LAST, r.result_date DESC NULLS LAST, r.result_id) AS position,
       b.benchmark_id, b.name AS benchmark, b.area, b.task, r.metric, r.split, r.setting, r.value, r.unit,
       r.raw_value, r.rank, r.n_models,
       CASE WHEN r.rank IS NOT NULL THEN '#' || r.rank || '/' || r.n_models END AS rank_display,
       coalesce(r.is_sota, false) AS is_sota, coalesce(r.thin, false) AS thin, r.verified_rank,
       g.is_best, r.result_date, r.source, r.source_kind, r.source_url,
       r.verified, r.verification_tier, r.verification_reasons,
       r.result_id, r.source_label, g.n_sources, g.sources,
       m.direction, m.direction_source, m.unranked_reason
FROM merged AS g
JOIN scored AS r USING (result_id)
JOIN benchmarks AS b ON b.benchmark_id = r.benchmark_id
LEFT JOIN metrics AS m ON m.metric = r.metric;

CREATE OR REPLACE VIEW model_page_strengths AS
SELECT model_id, area, n_benchmarks, avg_rank, n_sota FROM model_strengths;

CREATE OR REPLACE VIEW model_page_papers AS
SELECT r.model_id, p.arxiv_id, p.published::DATE AS published, coalesce(p.area, min(b.area)) AS area,
       p.title, p.status, p.withdrawn, count(*) AS n_results
FROM results AS r
JOIN papers AS p ON p.arxiv_id = r.arxiv_id
JOIN benchmarks AS b USING (benchmark_id)
GROUP BY r.model_id, p.arxiv_id, p.published, p.area, p.title, p.status, p.withdrawn;

CREATE OR REPLACE VIEW model_page_related AS
SELECT model_id, related_model_id, related_display_name, params, n_results FROM related_models;

CREATE OR REPLACE VIEW model_page_sources AS
SELECT r.model_id, r.source_kind, s.source_label, count(*) AS n_results,
       count(*) FILTER (WHERE r.verified) AS n_verified, max(f.last_success_at) AS last_fetched_at
FROM results AS r
JOIN result_sources AS s USING (result_id)
LEFT JOIN source_freshness AS f
  ON f.source = CASE WHEN r.source LIKE 'hub-%' THEN 'hub' ELSE 'tables' END
GROUP BY r.model_id, r.source_kind, s.source_label;
