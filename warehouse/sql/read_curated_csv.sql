-- A curated CSV table file (getvariable('table_file'), named getvariable('source_file') in the
-- snapshot) read whole into the temp table curated: every cell as text, RFC 4180 quotes, a short row
-- padded with NULLs; its earlier rows in raw.table_results are removed first (a changed file is read
-- whole).
DELETE FROM raw.table_results WHERE source_file = getvariable('source_file');

CREATE OR REPLACE TEMP TABLE curated AS
SELECT *, row_number() OVER () - 1 AS row_index
FROM read_csv(getvariable('table_file'), all_varchar = true, header = true, delim = ',', quote = '"', escape = '"',
              null_padding = true, strict_mode = false);
