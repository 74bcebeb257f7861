-- model_resolution: every model name a benchmark table uses -> model_id. Evidence, in order:
-- the curated row's own model_id; the alias table (reference/model_aliases.csv); the one Hub
-- model whose card cites the row's paper under the row's name; an exact normalised match with the
-- name part of exactly one Hub repo id. Otherwise the model keeps a synthetic key
-- 'paper:<arXiv id | title slug | unknown>/<name key>'. The name key keeps what symbols say
-- ("ABS+" is abs-plus, not abs; "C++" cpp-like plus-plus; "*" star): two distinct names of one
-- paper share a model only when they differ in nothing but case, spaces, hyphens, underscores,
-- dots, braces and footnote marks (†, ‡, §, ¶, superscript digits ending a word); any other pair whose keys
-- would still meet gets a short hash of its name in the key, and is listed in model_ambiguities.
CREATE OR REPLACE TABLE model_resolution AS
WITH aliases AS (
    SELECT name_key(name) AS name_key, nullif(model_id, '') AS model_id, nullif(org, '') AS org
    FROM read_csv(getvariable('reference_dir') || '/model_aliases.csv', all_varchar = true)
), hub_names AS (
    SELECT name_key(split_part(model_id, '/', -1)) AS name_key, min(model_id) AS model_id
    FROM raw.hub_models GROUP BY 1 HAVING count(*) = 1
), cited_by_card AS (
    -- a Hub model whose card cites the row's paper (`arxiv:` tag) and whose repo name is the row's name
    SELECT arxiv_id, name_key, min(model_id) AS model_id
    FROM (SELECT unnest(arxiv_ids) AS arxiv_id, model_id, name_key(split_part(model_id, '/', -1)) AS name_key
          FROM raw.hub_models)
    GROUP BY ALL HAVING count(*) = 1
), legacy AS (
    SELECT alias, model_id FROM raw.hub_model_aliases
), raw_names AS (
    SELECT DISTINCT model_name, given_id,
           coalesce(arxiv_id_of(paper_url), nullif(slug(paper_title), ''), 'unknown') AS paper_key,
           model_name_key(model_name) AS name_slug, model_spelling_key(model_name) AS spelling
    FROM (SELECT DISTINCT model_name, model_id AS given_id, paper_url, paper_title    -- parsed once each
          FROM raw.table_results WHERE model_name IS NOT NULL AND model_name <> '')
), names AS (
    -- a name key shared by two spellings that are not one name gets a hash of the spelling
    SELECT *, name_slug || CASE WHEN count(DISTINCT spelling) OVER (PARTITION BY paper_key, name_slug) > 1
                                THEN '-' || substr(md5(spelling), 1, 6) ELSE '' END AS name_id
    FROM raw_names
)
SELECT n.model_name, n.given_id, n.paper_key,
       coalesce(l.model_id, n.given_id, a.model_id, c.model_id, h.model_id,
                'paper:' || n.paper_key || '/' || n.name_id) AS model_id,
       CASE WHEN n.given_id IS NOT NULL THEN 'curated model_id'
            WHEN a.model_id IS NOT NULL THEN 'alias table'
            WHEN c.model_id IS NOT NULL THEN 'card cites the paper'
            WHEN h.model_id IS NOT NULL THEN 'exact name match'
            ELSE 'synthetic' END AS evidence,
       a.org AS alias_org,
       -- how many spellings of the name share its synthetic key (case, spacing, marks)
       count(DISTINCT n.model_name) OVER (PARTITION BY n.paper_key, n.name_id) AS spellings
FROM names AS n
LEFT JOIN legacy AS l ON l.alias = n.given_id
LEFT JOIN aliases AS a ON a.name_key = name_key(n.model_name)
LEFT JOIN cited_by_card AS c ON c.arxiv_id = n.paper_key AND c.name_key = name_key(n.model_name)
LEFT JOIN hub_names AS h ON h.name_key = name_key(n.model_name);

-- Sizes that benchmark tables give as a column ("Number of params": 24M): model facts, not scores.
CREATE OR REPLACE TABLE model_facts AS
SELECT r.model_id, mn.metric AS fact, parse_count(t.value_raw) AS value, t.value_raw AS raw_value,
       t.source_file, t.record_key
FROM raw.table_results AS t
JOIN metric_names AS mn
  ON mn.source = 'tables' AND mn.raw_name = t.metric_raw AND mn.dataset IS NOT DISTINCT FROM t.dataset
JOIN metrics AS m ON m.metric = mn.metric AND m.kind = 'model_fact'
JOIN model_resolution AS r
  ON r.model_name = t.model_name AND r.given_id IS NOT DISTINCT FROM t.model_id
 AND r.paper_key = coalesce(arxiv_id_of(t.paper_url), nullif(slug(t.paper_title), ''), 'unknown');

-- Display names, in order of evidence: the curated list (reference/model_display_names.csv, an
-- editor's decision), then the card when it names this repo (model-index name, card data
-- `model_name`, the card's first heading; "names this repo" = the same words as the repo name in any
-- order and case, or the same letters and digits: `XLM-RoBERTa (large)`, `GPT-2`, so a heading that
-- describes rather than names, or another repo's model-index name, is not taken), then the one name
-- benchmark tables use most for it that names no other model, then the repo name.
-- Families: the card's `model_type`, else the family of its base model, else the Hub's model-type
-- tag, each mapped by reference/model_families.csv; unknown (NULL) otherwise.
CREATE OR REPLACE TEMP TABLE model_families AS
SELECT lower(model_type) AS model_type, family
FROM read_csv(getvariable('reference_dir') || '/model_families.csv', all_varchar = true);

CREATE OR REPLACE TEMP TABLE hub_model_names AS
WITH card_names AS (
    SELECT m.model_id, split_part(m.model_id, '/', -1) AS repo_name, n.source, n.priority,
           trim(n.name) AS name
    FROM raw.hub_models AS m
    LEFT JOIN raw.hub_cards AS c USING (model_id),
    LATERAL (VALUES
        (split_part(m.card_data ->> '$."model-index"[0].name', '/', -1), 'model-index name', 1),
        (m.card_data ->> '$.model_name', 'card data', 2),
        (regexp_extract(regexp_replace(c.readme, '^\s*---\n.*?\n---[ \t]*\n', '', 's'),
                        '(?m)^#[ \t]+(.+?)[ \t#]*$', 1), 'card title', 3)
    ) AS n(name, source, priority)
)
SELECT model_id, arg_min(name, priority) AS display_name, arg_min(source, priority) AS display_name_source
FROM card_names
WHERE name <> '' AND length(name) <= 100
  AND (list_sort(string_split(slug(name), '-')) = list_sort(string_split(slug(repo_name), '-'))
       OR replace(slug(name), '-', '') = replace(slug(repo_name), '-', ''))
GROUP BY model_id;

CREATE OR REPLACE TEMP TABLE hub_model_families AS
WITH own AS (
    SELECT m.model_id, m.base_models[1] AS base_model, cf.family AS card_family,
           (SELECT arg_min(f.family, t.pos)
            FROM (SELECT unnest(m.tags) AS tag, generate_subscripts(m.tags, 1) AS pos) AS t
            JOIN model_families AS f ON f.model_type = lower(t.tag)) AS tag_family
    FROM raw.hub_models AS m
    LEFT JOIN model_families AS cf ON cf.model_type = lower(m.card_data ->> '$.model_type')
)
SELECT o.model_id,
       coalesce(o.card_family, coalesce(b.card_family, b.tag_family), o.tag_family) AS family,
       CASE WHEN o.card_family IS NOT NULL THEN 'card model_type'
            WHEN coalesce(b.card_family, b.tag_family) IS NOT NULL THEN 'base model'
            WHEN o.tag_family IS NOT NULL THEN 'model-type tag' END AS family_source
FROM own AS o LEFT JOIN own AS b ON b.model_id = o.base_model;

CREATE OR REPLACE TABLE models AS
WITH orgs AS (
    SELECT org, display_name FROM read_csv(getvariable('reference_dir') || '/org_names.csv', all_varchar = true)
), curated_names AS (
    SELECT model_id, display_name
    FROM read_csv(getvariable('reference_dir') || '/model_display_names.csv', all_varchar = true)
), table_names AS (
    -- the name tables use most for a model, among names that resolve to no other model
    SELECT model_id, arg_min(model_name, (-n, model_name)) AS display_name
    FROM (SELECT model_id, model_name, count(*) AS n FROM model_resolution WHERE evidence <> 'synthetic'
          GROUP BY ALL)
    WHERE model_name NOT IN (SELECT model_name FROM model_resolution GROUP BY 1 HAVING count(DISTINCT model_id) > 1)
    GROUP BY model_id
), hub AS (
    SELECT m.model_id,
           coalesce(n.display_name, split_part(m.model_id, '/', -1)) AS display_name,
           coalesce(n.display_name_source, 'repo name') AS display_name_source,
           CASE WHEN m.model_id LIKE '%/%' THEN split_part(m.model_id, '/', 1) END AS org,
           m.params, m.params_source, m.license,
           NOT coalesce(m.private, false) AND coalesce(m.gated, 'false') = 'false'
               AND NOT coalesce(m.disabled, false) AS open_weights,
           f.family, f.family_source,
           m.pipeline_tag, m.library_name, c.card_html,
           'https://huggingface.co/' || m.model_id AS hf_url,
           m.last_modified, m.sha, m.downloads, m.likes, m.arxiv_ids, m.fetched_at, 'hub' AS origin
    FROM raw.hub_models AS m LEFT JOIN raw.hub_cards AS c USING (model_id)
    LEFT JOIN hub_model_names AS n USING (model_id)
    LEFT JOIN hub_model_families AS f USING (model_id)
), curated_only AS (
    -- a Hub id named by a table row (or the alias table) that the Hub snapshot does not hold
    SELECT DISTINCT model_id, split_part(model_id, '/', -1) AS display_name, 'repo name' AS display_name_source,
           CASE WHEN model_id LIKE '%/%' THEN split_part(model_id, '/', 1) END AS org,
           'https://huggingface.co/' || model_id AS hf_url, 'table' AS origin
    FROM model_resolution
    WHERE evidence <> 'synthetic' AND model_id NOT IN (SELECT model_id FROM hub)
), synthetic AS (
    SELECT DISTINCT ON (model_id) model_id, model_name AS display_name, 'table' AS display_name_source,
           alias_org AS org,
           CASE WHEN regexp_matches(paper_key, '^(\d{4}\.\d{4,5}|[a-z\-]+(\.[A-Z]{2})?/\d{7})$')
                THEN [paper_key] END AS arxiv_ids,
           'table' AS origin
    FROM model_resolution WHERE evidence = 'synthetic'
    ORDER BY model_id, model_name
), all_models AS (
    SELECT * FROM hub UNION ALL BY NAME SELECT * FROM curated_only UNION ALL BY NAME SELECT * FROM synthetic
)
SELECT a.model_id,
       coalesce(cn.display_name, CASE WHEN a.display_name_source = 'repo name' THEN tn.display_name END,
                a.display_name) AS display_name,
       CASE WHEN cn.display_name IS NOT NULL THEN 'curated list'
            WHEN a.display_name_source = 'repo name' AND tn.display_name IS NOT NULL THEN 'table'
            ELSE a.display_name_source END AS display_name_source,
       a.org, coalesce(o.display_name, a.org) AS org_display_name,
       coalesce(a.params, f.params) AS params, coalesce(a.params_source, f.params_source) AS params_source, a.license, a.open_weights, a.family, a.family_source, a.pipeline_tag, a.library_name,
       a.card_html, a.hf_url, a.last_modified, a.sha, a.downloads, a.likes, a.arxiv_ids, a.fetched_at,
       a.origin
FROM all_models AS a
LEFT JOIN orgs AS o ON o.org = a.org
LEFT JOIN curated_names AS cn USING (model_id)
LEFT JOIN table_names AS tn USING (model_id)
LEFT JOIN (SELECT model_id, max(value) AS params, 'table' AS params_source FROM model_facts
           WHERE fact = 'parameters' AND value IS NOT NULL GROUP BY model_id) AS f USING (model_id);

-- Every other name under which a model is known.
CREATE OR REPLACE TABLE model_aliases AS
-- one row per (alias, model_id); the strongest evidence names the reason
SELECT alias, model_id, arg_min(reason, (priority, reason)) AS reason
FROM (
    SELECT alias, model_id, coalesce(reason, 'hub alias') AS reason, 1 AS priority FROM raw.hub_model_aliases
    UNION ALL
    SELECT model_name, model_id,
           CASE WHEN evidence = 'synthetic' AND spellings > 1 THEN 'spelling of one name (case, spacing, marks)'
                ELSE evidence END, 2
    FROM model_resolution WHERE model_name <> model_id
    UNION ALL
    SELECT name, model_id, 'alias table', 3
    FROM read_csv(getvariable('reference_dir') || '/model_aliases.csv', all_varchar = true)
    WHERE model_id IN (SELECT model_id FROM raw.hub_models)
    UNION ALL
    -- the Hub's legacy unnamespaced ids (xlm-roberta-large): the repo name when no other repo has it
    SELECT split_part(model_id, '/', -1), min(model_id), 'repo name', 4
    FROM raw.hub_models WHERE model_id LIKE '%/%' GROUP BY 1 HAVING count(*) = 1
)
GROUP BY alias, model_id;

-- model_ambiguities: near-matches deliberately left unmerged, for review (grain: model_id,
-- other_model_id). Same name under different papers, or names at least 0.95 alike (Jaro-Winkler on
-- slugs sharing their first four characters, which keeps the comparison near linear).
CREATE OR REPLACE TABLE model_ambiguities AS
WITH names AS (
    SELECT DISTINCT model_id, model_name AS name, slug(model_name) AS name_slug FROM model_resolution
    UNION
    SELECT model_id, split_part(model_id, '/', -1), slug(split_part(model_id, '/', -1)) FROM raw.hub_models
)
SELECT a.model_id, b.model_id AS other_model_id, a.name, b.name AS other_name,
       round(jaro_winkler_similarity(a.name_slug, b.name_slug), 3) AS similarity,
       CASE WHEN a.name_slug = b.name_slug THEN 'same name, different paper or repo' ELSE 'similar names' END
           AS reason
FROM names AS a
JOIN names AS b
  ON a.model_id < b.model_id AND left(a.name_slug, 4) = left(b.name_slug, 4)
 AND (a.name_slug = b.name_slug OR jaro_winkler_similarity(a.name_slug, b.name_slug) >= 0.95);
