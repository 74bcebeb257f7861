-- The table files listed tonight (found_table_files: source_file, bytes, sha256) against those read
-- before (raw.files_read): table_files_kept holds the files still listed that this code
-- (getvariable('parser')) read, whose rows stay until the file is read again (unchanged, all of them;
-- changed, those of its table rows that did not change).
CREATE OR REPLACE TEMP TABLE table_files_kept AS
SELECT source_file FROM raw.files_read
WHERE read_into = 'raw.table_files' AND parser = getvariable('parser')
  AND source_file IN (SELECT source_file FROM found_table_files);
