-- One table file read (or refused whole) into raw.table_files, with what its reading refused
-- (table_file_refusals, create_table_docs): a later run that keeps the file quarantines them again;
-- and into raw.files_read, as it was (getvariable: source_file, bytes, sha256, parser, read_at).
INSERT INTO raw.table_files
SELECT getvariable('source_file'),
       coalesce((SELECT list({'record_key': record_key, 'reason': reason, 'payload': payload})
                 FROM table_file_refusals), []);

INSERT INTO raw.files_read BY NAME
SELECT 'raw.table_files' AS read_into, getvariable('source_file') AS source_file, getvariable('bytes') AS bytes,
       getvariable('sha256') AS sha256, getvariable('parser') AS parser, getvariable('read_at')::TIMESTAMP AS read_at;
