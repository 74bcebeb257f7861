-- The rows of one curated CSV file (the temporary table curated, every column VARCHAR, numbered by
-- row_index) into raw.table_results, one value each; a row without a model name, a benchmark or a
-- metric is left out here and quarantined by the caller. Texts are trimmed, split and setting
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
