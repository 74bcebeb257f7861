-- A source's quarantine for tonight (getvariable('source')): its rows of raw.ingest_failures replaced
-- by the records it refused tonight (source_failures) and those its incremental ingest keeps refused
-- (recalled_failures), each (record_key, reason, payload) once, seen at getvariable('seen_at').
DELETE FROM raw.ingest_failures WHERE source = getvariable('source');

INSERT INTO raw.ingest_failures
SELECT DISTINCT getvariable('source'), record_key, reason, payload, getvariable('seen_at')::TIMESTAMP
FROM (SELECT record_key, reason, payload FROM source_failures UNION ALL SELECT * FROM recalled_failures);
