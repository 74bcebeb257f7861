-- A table file refused whole (getvariable('source_file')): none of its rows is kept, and its reason
-- (getvariable('reason'), with getvariable('payload')) goes to table_file_refusals (create_table_docs),
-- which insert_table_file records with the file.
DELETE FROM raw.table_results WHERE source_file = getvariable('source_file');

INSERT INTO table_file_refusals VALUES (getvariable('source_file'), getvariable('reason'), getvariable('payload'));
