-- papers: one row per arXiv paper (key: arxiv_id without version), latest version as fetched,
-- plus ids that a source references but arXiv does not know (status 'missing') and ids that a source
-- references but no fetched feed covers (status 'not_fetched': the snapshot does not hold the paper).
CREATE OR REPLACE TABLE papers AS
WITH category_areas AS (
    SELECT category, area
    FROM read_csv(getvariable('reference_dir') || '/arxiv_category_areas.csv', all_varchar = true)
)
SELECT p.arxiv_id, p.version, p.title, p.authors, p.summary AS abstract,
       p.published, p.updated, p.primary_category, p.categories, c.area,
       coalesce(p.withdrawn, false) AS withdrawn, p.doi, p.journal_ref, p.comment,
       'https://arxiv.org/abs/' || p.arxiv_id AS abs_url, 'found' AS status, p.fetched_at
FROM raw.arxiv_papers AS p
LEFT JOIN category_areas AS c ON c.category = p.primary_category
UNION ALL BY NAME
SELECT m.arxiv_id, 'https://arxiv.org/abs/' || m.arxiv_id AS abs_url, false AS withdrawn,
       CASE WHEN starts_with(m.reason, 'not fetched') THEN 'not_fetched' ELSE 'missing' END AS status,
       m.seen_at AS fetched_at
FROM raw.arxiv_missing AS m
WHERE m.arxiv_id NOT IN (SELECT arxiv_id FROM raw.arxiv_papers);
