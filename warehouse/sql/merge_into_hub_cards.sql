-- The cards, eval results and parse rows of the models parsed in this run (the registered frames
-- parsed_cards, parsed_eval_results, parsed_models) replace those of every model but the unchanged
-- ones (unchanged_models), whose rows stay as they were.
DELETE FROM raw.hub_cards WHERE model_id NOT IN (SELECT model_id FROM unchanged_models);
DELETE FROM raw.hub_eval_results WHERE model_id NOT IN (SELECT model_id FROM unchanged_models);
DELETE FROM raw.hub_card_parses WHERE model_id NOT IN (SELECT model_id FROM unchanged_models);

INSERT INTO raw.hub_cards
SELECT model_id, sha, readme, card_html, metadata::JSON, fetched_at::TIMESTAMP FROM parsed_cards;

INSERT INTO raw.hub_eval_results
SELECT * EXCLUDE (result_date), try_cast(result_date AS DATE)
FROM parsed_eval_results;

INSERT INTO raw.hub_card_parses
SELECT model_id, sha, requested_id, source_file, getvariable('parser'), without_card, cross_check, eval_results_seen,
       failures::JSON::STRUCT(record_key VARCHAR, reason VARCHAR, payload VARCHAR)[],
       getvariable('parsed_at')::TIMESTAMP
FROM parsed_models;
