-- merge_into_hub_model_files: reads the model info files listed in getvariable('model_files')
-- (bodies of GET /api/models/{id}; absolute paths, each described by a row of the registered frame
-- `model_files_to_read`: filename, source_file, requested_id, bytes, mtime_ns) and inserts one row
-- per file into raw.hub_model_files: its fields, or the reason it was refused (not UTF-8, not JSON,
-- not an object, no valid id), and the fields it left empty because their value was not of their
-- type (field_problems); and one into raw.files_read, stamped getvariable('parser') and
-- getvariable('read_at'). The caller has deleted the rows of these files first. Needs create_macros
-- (parse_count).
CREATE OR REPLACE TEMP TABLE hub_model_docs AS
SELECT f.source_file, f.requested_id, b.text,
       timezone('UTC', b.last_modified) AS file_time,
       CASE WHEN json_valid(b.text) THEN b.text::JSON END AS j
FROM (SELECT filename, last_modified, try(decode(content)) AS text FROM read_blob(getvariable('model_files'))) AS b
JOIN model_files_to_read AS f USING (filename);

INSERT INTO raw.hub_model_files
WITH docs AS (
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
),
models AS (
    SELECT *, CASE WHEN reason IS NULL THEN j END AS m,
           CASE WHEN reason IS NULL THEN try_cast(j -> '$.tags' AS VARCHAR[]) END AS tag_list
    FROM docs
), counted AS (
    -- a count given but not a count (NaN, 1e999, -1e400, text) is left empty, and said so
    SELECT *, list_filter([
               CASE WHEN json_type(m, '$.' || field) <> 'NULL' AND try_cast(m ->> ('$.' || field) AS BIGINT) IS NULL
                    THEN field || ': not a count: ' || left(m ->> ('$.' || field), 80) END
               FOR field IN ['downloads', 'likes', 'safetensors.total']], lambda problem: problem IS NOT NULL)
               AS field_problems
    FROM models
)
SELECT source_file, requested_id, reason,
       CASE WHEN reason IS NOT NULL
            THEN json_object('file', source_file, 'id', requested_id, 'excerpt', left(text, 500))::VARCHAR END,
       m ->> '$.id',
       m ->> '$.author',
       m ->> '$.sha',
       timezone('UTC', try_cast(m ->> '$.lastModified' AS TIMESTAMPTZ)),
       timezone('UTC', try_cast(m ->> '$.createdAt' AS TIMESTAMPTZ)),
       try_cast(m ->> '$.private' AS BOOLEAN),
       m ->> '$.gated',
       try_cast(m ->> '$.disabled' AS BOOLEAN),
       try_cast(m ->> '$.downloads' AS BIGINT),
       try_cast(m ->> '$.likes' AS BIGINT),
       m ->> '$.pipeline_tag',
       m ->> '$.library_name',
       tag_list,
       coalesce(
           CASE json_type(m, '$.cardData.license') WHEN 'VARCHAR' THEN m ->> '$.cardData.license'
                                                   WHEN 'ARRAY' THEN m ->> '$.cardData.license[0]' END,
           substr(list_filter(tag_list, lambda t: starts_with(t, 'license:'))[1], 9)
       ),
       try_cast(m ->> '$.safetensors.total' AS BIGINT),
       parse_count(coalesce(m ->> '$.cardData.params', m ->> '$.cardData.parameters',
                            m ->> '$.cardData.num_parameters', m ->> '$.cardData.model_size')),
       coalesce(
           CASE json_type(m, '$.cardData.base_model')
               WHEN 'VARCHAR' THEN [m ->> '$.cardData.base_model']
               WHEN 'ARRAY' THEN try_cast(m -> '$.cardData.base_model' AS VARCHAR[]) END,
           -- tags "base_model:<id>" (the relation-qualified "base_model:finetune:<id>" repeat them)
           nullif(list_transform(list_filter(tag_list, lambda t: starts_with(t, 'base_model:')
                                                     AND length(t) - length(replace(t, ':', '')) = 1),
                                 lambda t: substr(t, 12)), [])
       ),
       list_sort(list_distinct(list_transform(
           list_filter(tag_list, lambda t: starts_with(lower(t), 'arxiv:')),
           lambda t: regexp_replace(trim(substr(t, 7)), 'v\d+$', '')))),
       CASE WHEN json_type(m, '$.cardData') = 'OBJECT' THEN m -> '$.cardData' END,
       file_time,
       field_problems
FROM counted;

INSERT INTO raw.files_read BY NAME
SELECT 'raw.hub_model_files' AS read_into, source_file, bytes, mtime_ns, getvariable('parser') AS parser,
       getvariable('read_at')::TIMESTAMP AS read_at
FROM model_files_to_read;

DROP TABLE hub_model_docs;
