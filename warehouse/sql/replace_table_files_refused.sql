-- raw.table_files_refused replaced by tonight's table files left unread (refused_table_files:
-- source_file, bytes, status, reason), seen at getvariable('seen_at').
DELETE FROM raw.table_files_refused;

INSERT INTO raw.table_files_refused
SELECT source_file, bytes, status, reason, getvariable('seen_at')::TIMESTAMP FROM refused_table_files;
