-- hub_leaderboards: raw.hub_leaderboard_entries from the files listed in
-- getvariable('leaderboard_files') (bodies of GET /api/datasets/{id}/leaderboard, path
-- hub/leaderboards/<dataset id>.json under getvariable('root')). Unreadable files and entries
-- without a model id or a numeric value land in hub_leaderboard_errors (record_key, reason, payload:
-- JSON text naming the file, the dataset id, the position and an excerpt).
CREATE OR REPLACE TEMP TABLE hub_leaderboard_docs AS
SELECT regexp_replace(substr(filename, length(getvariable('root') || '/hub/leaderboards/') + 1), '\.json$', '')
           AS dataset_id,
       text, timezone('UTC', last_modified) AS file_time,
       CASE WHEN json_valid(text) THEN text::JSON END AS j
FROM (SELECT *, try(decode(content)) AS text FROM read_blob(getvariable('leaderboard_files')));

-- modelId must be a Hub repo id ([org/]name, no '..' or '--'): an entry naming a path is refused
CREATE OR REPLACE TEMP TABLE hub_leaderboard_items AS
SELECT d.dataset_id, d.file_time, u.entry, u.position,
       json_type(u.entry) = 'OBJECT' AND nullif(trim(u.entry ->> '$.modelId'), '') IS NOT NULL
       AND NOT (regexp_full_match(trim(u.entry ->> '$.modelId'),
                                  '([A-Za-z0-9][A-Za-z0-9_.-]{0,95}/)?[A-Za-z0-9][A-Za-z0-9_.-]{0,95}')
                AND NOT contains(u.entry ->> '$.modelId', '..') AND NOT contains(u.entry ->> '$.modelId', '--'))
           AS invalid_model_id
FROM hub_leaderboard_docs AS d,
     LATERAL (SELECT unnest(json_extract(d.j, '$[*]')) AS entry,
                     unnest(generate_series(0, json_array_length(d.j)::BIGINT - 1)) AS position) AS u
WHERE json_type(d.j) = 'ARRAY' AND json_array_length(d.j) > 0;

CREATE OR REPLACE TEMP TABLE hub_leaderboard_errors AS
SELECT dataset_id AS record_key,
       CASE WHEN text IS NULL THEN 'invalid json: file is not UTF-8 text'
            WHEN j IS NULL THEN 'invalid json: file does not parse as JSON'
            ELSE 'invalid leaderboard: not a JSON array' END AS reason,
       json_object('file', 'hub/leaderboards/' || dataset_id || '.json', 'id', dataset_id,
                   'excerpt', left(text, 500))::VARCHAR AS payload
FROM hub_leaderboard_docs
WHERE j IS NULL OR json_type(j) <> 'ARRAY'
UNION ALL
SELECT dataset_id || '/' || position,
       CASE WHEN json_type(entry) <> 'OBJECT' THEN 'invalid leaderboard: entry is not an object'
            WHEN nullif(trim(entry ->> '$.modelId'), '') IS NULL THEN 'invalid leaderboard: entry without modelId'
            WHEN invalid_model_id THEN 'invalid leaderboard: modelId is not a Hub repo id: '
                                       || left(entry ->> '$.modelId', 200)
            ELSE 'unparsable value: ' || coalesce(left(entry ->> '$.value', 80), 'missing') END,
       json_object('file', 'hub/leaderboards/' || dataset_id || '.json', 'id', dataset_id, 'position', position,
                   'excerpt', left(entry::VARCHAR, 500))::VARCHAR
FROM hub_leaderboard_items
WHERE json_type(entry) <> 'OBJECT' OR nullif(trim(entry ->> '$.modelId'), '') IS NULL OR invalid_model_id
   OR try_cast(entry ->> '$.value' AS DOUBLE) IS NULL OR NOT isfinite(try_cast(entry ->> '$.value' AS DOUBLE));

DELETE FROM raw.hub_leaderboard_entries;
INSERT INTO raw.hub_leaderboard_entries
SELECT dataset_id, try_cast(entry ->> '$.rank' AS INTEGER), trim(entry ->> '$.modelId'),
       try_cast(entry ->> '$.value' AS DOUBLE), coalesce(try_cast(entry ->> '$.verified' AS BOOLEAN), false),
       entry ->> '$.source.name', entry ->> '$.source.url', coalesce(entry ->> '$.filename', ''), file_time
FROM hub_leaderboard_items
WHERE json_type(entry) = 'OBJECT' AND nullif(trim(entry ->> '$.modelId'), '') IS NOT NULL AND NOT invalid_model_id
  AND isfinite(try_cast(entry ->> '$.value' AS DOUBLE))
-- the same model and result file listed twice: keep its best rank
QUALIFY row_number() OVER (PARTITION BY dataset_id, trim(entry ->> '$.modelId'), coalesce(entry ->> '$.filename', '')
                           ORDER BY try_cast(entry ->> '$.rank' AS INTEGER) NULLS LAST, position) = 1;
