-- hub_models: the rows of raw.hub_models (one per canonical Hub model id) into hub_models_rows and
-- of raw.hub_model_aliases (one per other id a file was fetched under) into hub_model_aliases_rows,
-- from the model info files read into raw.hub_model_files (merge_into_hub_model_files) that were
-- not refused. The asset writes the rows that changed.
CREATE OR REPLACE TEMP TABLE hub_models_rows AS
SELECT model_id, requested_id, author, sha, last_modified, created_at, private, gated, disabled, downloads,
       likes, pipeline_tag, library_name, tags, license,
       coalesce(safetensors_params, card_params) AS params,
       CASE WHEN safetensors_params IS NOT NULL THEN 'safetensors' WHEN card_params IS NOT NULL THEN 'card' END,
       base_models, arxiv_ids, card_data, fetched_at, source_file
FROM raw.hub_model_files
WHERE reason IS NULL
-- one row per canonical id: the file fetched under that id wins over a legacy or renamed one
QUALIFY row_number() OVER (PARTITION BY model_id ORDER BY requested_id = model_id DESC, fetched_at DESC,
                                                           requested_id) = 1;

CREATE OR REPLACE TEMP TABLE hub_model_aliases_rows AS
SELECT requested_id AS alias, any_value(model_id ORDER BY fetched_at DESC),
       any_value(CASE WHEN lower(requested_id) = lower(model_id) THEN 'same id, other case'
                      WHEN requested_id NOT LIKE '%/%' THEN 'legacy id without org'
                      ELSE 'renamed on the Hub' END ORDER BY fetched_at DESC)
FROM raw.hub_model_files
WHERE reason IS NULL AND requested_id <> model_id
GROUP BY requested_id;
