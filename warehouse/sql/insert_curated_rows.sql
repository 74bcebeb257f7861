-- The rows of one curated CSV file (the temporary table curated, every column VARCHAR, numbered by
-- row_index) into raw.table_results, one value each; a row without a model name, a benchmark or a
-- metric is refused instead (table_file_refusals). Texts are trimmed, split and setting
-- lower-cased, the date read as a date when it is one; the source URL falls back to the paper's.
INSERT INTO raw.table_results
SELECT concat_ws('|', getvariable('source_file'), row_index, 'value'), getvariable('source_file'), 'curated-csv',
       [trim(task)], trim(task), nullif(trim(area), ''), trim(benchmark), NULL, row_index,
       trim(model_name), nullif(trim(model_id), ''), trim(metric), value,
       nullif(lower(trim(split)), ''), coalesce(lower(trim(setting)), ''),
       nullif(trim(paper_title), ''), nullif(trim(paper_url), ''), try_cast(result_date AS DATE),
       try_cast(result_date AS DATE), coalesce(nullif(trim(source_url), ''), nullif(trim(paper_url), '')),
       coalesce(try_cast(uses_additional_data AS BOOLEAN), false), NULL
FROM curated
WHERE nullif(trim(model_name), '') IS NOT NULL AND nullif(trim(benchmark), '') IS NOT NULL
  AND nullif(trim(metric), '') IS NOT NULL;

INSERT INTO table_file_refusals
SELECT concat_ws('|', getvariable('source_file'), row_index), 'curated row without model_name, benchmark or metric',
       json_object('file', getvariable('source_file'), 'row', row_index,
                   'excerpt', left(to_json(curated)::VARCHAR, 500))::VARCHAR
FROM curated
WHERE nullif(trim(model_name), '') IS NULL OR nullif(trim(benchmark), '') IS NULL OR nullif(trim(metric), '') IS NULL;
