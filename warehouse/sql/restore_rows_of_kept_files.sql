-- The rows set aside by set_aside_rows_of_kept_files back into the new raw.table_results.
INSERT INTO raw.table_results SELECT * FROM kept_table_results;

DROP TABLE kept_table_results;
