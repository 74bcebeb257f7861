-- raw.entity_fetch_failures of one kind of entity (getvariable('entity')): kept for the ids still
-- tracked (tracked_entities) only, and tonight's failed fetches (failed_entities: entity_id, reason)
-- recorded at getvariable('failed_at'), each replacing the id's earlier failure.
DELETE FROM raw.entity_fetch_failures
WHERE entity = getvariable('entity') AND entity_id NOT IN (SELECT entity_id FROM tracked_entities);

INSERT OR REPLACE INTO raw.entity_fetch_failures
SELECT getvariable('entity'), entity_id, getvariable('failed_at')::TIMESTAMP, reason FROM failed_entities;
