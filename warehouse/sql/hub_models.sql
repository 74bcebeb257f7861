-- hub_models: raw.hub_models (one row per canonical Hub model id) and raw.hub_model_aliases from the
-- model info files listed in getvariable('model_files') (bodies of GET /api/models/{id}, path
-- hub/models/<requested id>.json under getvariable('root')). Files that are not UTF-8, not JSON,
-- not an object or without a valid id land in hub_model_errors (the asset quarantines them).
-- Needs create_macros (parse_count).
CREATE OR REPLACE TEMP TABLE hub_model_docs AS
SELECT filename,
       regexp_replace(substr(filename, length(getvariable('root') || '/hub/models/') + 1), '\.json$', '')
           AS requested_id,
       substr(filename, length(getvariable('root') || '/') + 1) AS source_file,
       text, timezone('UTC', last_modified) AS file_time,
       CASE WHEN json_valid(text) THEN text::JSON END AS j
FROM (SELECT *, try(decode(content)) AS text FROM read_blob(getvariable('model_files')));

CREATE OR REPLACE TEMP TABLE hub_model_errors AS
SELECT source_file, requested_id, reason, left(text, 2000) AS payload
FROM (
    SELECT *, CASE
        WHEN text IS NULL THEN 'invalid json: file is not UTF-8 text'
        WHEN j IS NULL THEN 'invalid json: file does not parse as JSON'
        WHEN json_type(j) <> 'OBJECT' THEN 'invalid model info: not a JSON object'
        WHEN json_type(j, '$.id') IS DISTINCT FROM 'VARCHAR' THEN 'invalid model info: no string id'
        WHEN NOT regexp_full_match(j ->> '$.id', '([A-Za-z0-9][A-Za-z0-9_.-]{0,95}/)?[A-Za-z0-9][A-Za-z0-9_.-]{0,95}')
             OR contains(j ->> '$.id', '..') OR contains(j ->> '$.id', '--')
            THEN 'invalid model id: ' || left(j ->> '$.id', 200)
    END AS reason
    FROM hub_model_docs
) WHERE reason IS NOT NULL;

CREATE OR REPLACE TEMP TABLE hub_model_rows AS
WITH docs AS (
    SELECT d.*, try_cast(j -> '$.tags' AS VARCHAR[]) AS tag_list
    FROM hub_model_docs AS d
    WHERE source_file NOT IN (SELECT source_file FROM hub_model_errors)
)
SELECT j ->> '$.id' AS model_id,
       requested_id,
       j ->> '$.author' AS author,
       j ->> '$.sha' AS sha,
       timezone('UTC', try_cast(j ->> '$.lastModified' AS TIMESTAMPTZ)) AS last_modified,
       timezone('UTC', try_cast(j ->> '$.createdAt' AS TIMESTAMPTZ)) AS created_at,
       try_cast(j ->> '$.private' AS BOOLEAN) AS private,
       j ->> '$.gated' AS gated,
       try_cast(j ->> '$.disabled' AS BOOLEAN) AS disabled,
       try_cast(j ->> '$.downloads' AS BIGINT) AS downloads,
       try_cast(j ->> '$.likes' AS BIGINT) AS likes,
       j ->> '$.pipeline_tag' AS pipeline_tag,
       j ->> '$.library_name' AS library_name,
       tag_list AS tags,
       coalesce(
           CASE json_type(j, '$.cardData.license') WHEN 'VARCHAR' THEN j ->> '$.cardData.license'
                                                   WHEN 'ARRAY' THEN j ->> '$.cardData.license[0]' END,
           substr(list_filter(tag_list, lambda t: starts_with(t, 'license:'))[1], 9)
       ) AS license,
       try_cast(j ->> '$.safetensors.total' AS BIGINT) AS safetensors_params,
       parse_count(coalesce(j ->> '$.cardData.params', j ->> '$.cardData.parameters',
                            j ->> '$.cardData.num_parameters', j ->> '$.cardData.model_size')) AS card_params,
       coalesce(
           CASE json_type(j, '$.cardData.base_model')
               WHEN 'VARCHAR' THEN [j ->> '$.cardData.base_model']
               WHEN 'ARRAY' THEN try_cast(j -> '$.cardData.base_model' AS VARCHAR[]) END,
           -- tags "base_model:<id>" (the relation-qualified "base_model:finetune:<id>" repeat them)
           nullif(list_transform(list_filter(tag_list, lambda t: starts_with(t, 'base_model:')
                                                     AND length(t) - length(replace(t, ':', '')) = 1),
                                 lambda t: substr(t, 12)), [])
       ) AS base_models,
       list_sort(list_distinct(list_transform(
           list_filter(tag_list, lambda t: starts_with(lower(t), 'arxiv:')),
           lambda t: regexp_replace(trim(substr(t, 7)), 'v\d+$', '')))) AS arxiv_ids,
       CASE WHEN json_type(j, '$.cardData') = 'OBJECT' THEN j -> '$.cardData' END AS card_data,
       file_time AS fetched_at,
       source_file
FROM docs;

DELETE FROM raw.hub_models;
INSERT INTO raw.hub_models
SELECT model_id, requested_id, author, sha, last_modified, created_at, private, gated, disabled, downloads,
       likes, pipeline_tag, library_name, tags, license,
       coalesce(safetensors_params, card_params) AS params,
       CASE WHEN safetensors_params IS NOT NULL THEN 'safetensors' WHEN card_params IS NOT NULL THEN 'card' END,
       base_models, arxiv_ids, card_data, fetched_at, source_file
FROM hub_model_rows
-- one row per canonical id: the file fetched under that id wins over a legacy or renamed one
QUALIFY row_number() OVER (PARTITION BY model_id ORDER BY requested_id = model_id DESC, fetched_at DESC,
                                                           requested_id) = 1;

DELETE FROM raw.hub_model_aliases;
INSERT INTO raw.hub_model_aliases
SELECT requested_id, any_value(model_id ORDER BY fetched_at DESC),
       any_value(CASE WHEN lower(requested_id) = lower(model_id) THEN 'same id, other case'
                      WHEN requested_id NOT LIKE '%/%' THEN 'legacy id without org'
                      ELSE 'renamed on the Hub' END ORDER BY fetched_at DESC)
FROM hub_model_rows
WHERE requested_id <> model_id
GROUP BY requested_id;
