-- Macros shared by the core transforms. Every parse is total: it returns a value or a reason.

-- Lower-case slug used in ids: "SQuAD 2.0" -> "squad-2-0".
CREATE OR REPLACE MACRO slug(text) AS
    trim(regexp_replace(lower(trim(text)), '[^a-z0-9]+', '-', 'g'), '-');

-- A model name without footnote marks: †, ‡, §, ¶ anywhere, superscript digits at the end of a word
-- ("BERT†" and "ABS† (2015)" are BERT and ABS (2015); "X²-Net" keeps its square).
CREATE OR REPLACE MACRO model_name_unmarked(text) AS
    trim(regexp_replace(regexp_replace(trim(text), '[†‡§¶]+', '', 'g'), '[¹²³⁴⁵⁶⁷⁸⁹⁰]+(\s|\(|$)', '\1', 'g'));

-- The key of a model name in synthetic ids: a slug in which symbols that name a variant stay
-- ("ABS+" -> "abs-plus", "C++" -> "c-plus-plus", "Model*" -> "model-star", "A#" -> "a-sharp").
CREATE OR REPLACE MACRO model_name_key(text) AS
    slug(replace(replace(replace(replace(replace(model_name_unmarked(text), '++', ' plus plus '), '+', ' plus '),
                                 '*', ' star '), '#', ' sharp '), '&', ' and '));

-- What makes two spellings one model name: case, spaces, hyphens, underscores, dots and grouping
-- braces ignored ("{BERT-base} (single-model)" is "BERT-Base (single model)").
CREATE OR REPLACE MACRO model_spelling_key(text) AS
    lower(regexp_replace(model_name_unmarked(text), '[\s\-_.{}]+', '', 'g'));

-- A model or metric name compared loosely: case, spacing and surrounding punctuation ignored.
CREATE OR REPLACE MACRO name_key(text) AS
    trim(regexp_replace(lower(trim(text)), '\s+', ' ', 'g'));

-- A metric name as a key: name_key after invisible characters (BOM, zero-width) are removed,
-- no-break spaces made spaces, and the snake case of Hub metric types read as words
-- ("ndcg_at_10" is "ndcg@10", "cos_sim_spearman" is "cos sim spearman").
CREATE OR REPLACE MACRO metric_key(text) AS
    name_key(replace(replace(regexp_replace(regexp_replace(text, '[\x{FEFF}\x{200B}-\x{200D}\x{2060}]', '', 'g'),
                                           '\x{00A0}', ' ', 'g'), '_at_', '@'), '_', ' '));

-- The dataset of a Hub model-index result, as its identity: the dataset type, and beside it the
-- dataset name when the name says more than the type (two tasks of a suite on one dataset type:
-- "MTEB SummEval" and "MTEB SummEvalSummarization.v2" on mteb/summeval). A name that only restates
-- the type ("SQuAD v2" for squad_v2, "MTEB SummEval (default)" for mteb/summeval) adds nothing.
CREATE OR REPLACE MACRO hub_dataset(dataset_type, dataset_name, dataset_config) AS
    CASE WHEN nullif(trim(dataset_type), '') IS NULL THEN dataset_name
         WHEN nullif(trim(dataset_name), '') IS NULL
              OR regexp_replace(lower(regexp_replace(dataset_name, '\s*\(' || regexp_escape(coalesce(dataset_config, '')) || '\)\s*$', '')), '[^a-z0-9]', '', 'g')
                 IN (regexp_replace(lower(dataset_type), '[^a-z0-9]', '', 'g'),
                     regexp_replace(lower(split_part(dataset_type, '/', -1)), '[^a-z0-9]', '', 'g'),
                     regexp_replace(lower(split_part(dataset_type, '/', -1) || coalesce(dataset_config, '')), '[^a-z0-9]', '', 'g'),
                     regexp_replace(lower(dataset_type || coalesce(dataset_config, '')), '[^a-z0-9]', '', 'g'))
             THEN dataset_type
         ELSE dataset_type || ' / ' || trim(regexp_replace(dataset_name, '\s*\(' || regexp_escape(coalesce(dataset_config, '')) || '\)\s*$', ''))
    END;

-- The arXiv id (no version) in a reference: URL (abs/pdf, any version), "arXiv:" prefix, arXiv DOI
-- (10.48550/arXiv.<id>), bare id. Old-style ids keep their archive in lower case and drop the
-- subject class (math.GT/0309136 -> math/0309136), as assets.sources.arxiv.ids.normalize_arxiv_id does.
CREATE OR REPLACE MACRO arxiv_id_of(text) AS
    nullif(coalesce(
        nullif(regexp_extract(text, '(?i)(?:arxiv\.org/(?:abs|pdf)/|arxiv:\s*|10\.48550/arxiv\.|^\s*)(\d{4}\.\d{4,5})(?:v\d+)?', 1), ''),
        nullif(lower(regexp_extract(text, '(?i)(?:arxiv\.org/(?:abs|pdf)/|arxiv:\s*|10\.48550/arxiv\.|^\s*)([a-z\-]+)(?:\.[A-Z]{2})?/\d{7}(?:v\d+)?', 1))
               || '/' || regexp_extract(text, '(?i)(?:arxiv\.org/(?:abs|pdf)/|arxiv:\s*|10\.48550/arxiv\.|^\s*)[a-z\-]+(?:\.[A-Z]{2})?/(\d{7})(?:v\d+)?', 1), '/')
    ), '');

-- Text as a reader sees it: byte order marks and zero-width characters (U+FEFF, U+200B..U+200D,
-- U+2060) removed, no-break spaces (U+00A0, U+2007, U+202F) made spaces. (ASCII text, as many
-- bytes as characters, is returned as it is without running the expressions.)
CREATE OR REPLACE MACRO visible_text(text) AS
    CASE WHEN strlen(text) = length(text) THEN text
         ELSE regexp_replace(regexp_replace(text, '[\x{FEFF}\x{200B}-\x{200D}\x{2060}]', '', 'g'),
                             '[\x{00A0}\x{2007}\x{202F}]', ' ', 'g') END;

-- Score text -> struct(value, spread, percent_sign, note, reason). reason is NULL when value parsed.
-- Accepts 83.6, "83.6%", "**70.3**", "0.7482 ± 0.0015" (and +-, +/-), "1,234.5" (thousands),
-- "0,912" (decimal comma when it cannot be a thousands separator), scientific notation, invisible
-- characters anywhere (visible_text), and a note in parentheses or brackets after the value:
-- "70.14 (measured by X)" and "88.2 [reported]" are 70.14 and 88.2, the note kept in `note`.
-- A number a double cannot hold is refused: "1e400" (infinite) and "1e-400" (zero) are not values.
CREATE OR REPLACE MACRO parse_score(raw) AS (
    WITH visible AS (
        SELECT trim(visible_text(coalesce(raw, ''))) AS v
    ), noted AS (
        SELECT v, CASE WHEN contains(v, ')') OR contains(v, ']') THEN
                      regexp_extract(v, '^(.*?[^\s(\[])\s*(?:\(([^()]*)\)|\[([^\[\]]*)\])[*_\s]*$',
                                     ['main', 'paren', 'bracket']) END AS g
        FROM visible
    ), cleaned AS (
        SELECT trim(regexp_replace(v, '[*_]', '', 'g')) AS s,
               trim(regexp_replace(CASE WHEN g.main <> '' THEN g.main ELSE v END, '[*_]', '', 'g')) AS valued,
               nullif(trim(CASE WHEN g.main <> '' THEN g.paren || g.bracket END), '') AS note
        FROM noted
    ), parts AS (
        SELECT s, valued, note,
               trim(regexp_extract(valued, '^([^±]+?)\s*(?:±|\+/-|\+-)\s*(.+)$', 1)) AS main_part,
               trim(regexp_extract(valued, '^([^±]+?)\s*(?:±|\+/-|\+-)\s*(.+)$', 2)) AS spread_part
        FROM cleaned
    ), numbers AS (
        SELECT s, valued, note, coalesce(nullif(main_part, ''), valued) AS main, nullif(spread_part, '') AS spread
        FROM parts
    ), normalised AS (
        SELECT s, valued, note, spread,
               main LIKE '%\%%' ESCAPE '\' AS percent_sign,
               CASE
                   WHEN regexp_matches(replace(main, '%', ''), '^[+-]?[1-9]\d{0,2}(,\d{3})+(\.\d+)?$')
                       THEN replace(replace(main, '%', ''), ',', '')
                   WHEN regexp_matches(replace(main, '%', ''), '^[+-]?\d+,\d+$')
                       THEN replace(replace(main, '%', ''), ',', '.')
                   ELSE trim(replace(main, '%', ''))
               END AS number_text
        FROM numbers
    ), read AS (
        SELECT *,
               CASE WHEN regexp_matches(number_text, '^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$')
                    THEN number_text::DOUBLE END AS number,
               try_cast(replace(spread, '%', '') AS DOUBLE) AS spread_number
        FROM normalised
    )
    SELECT {
        'value': CASE WHEN isfinite(number) AND (number <> 0 OR NOT regexp_matches(number_text, '^[^eE]*[1-9]'))
                      THEN number END,
        'spread': CASE WHEN isfinite(spread_number) THEN spread_number END,
        'percent_sign': percent_sign,
        'note': note,
        'reason': CASE
            WHEN number IS NOT NULL AND NOT isfinite(number)
                THEN 'number out of range: ' || left(number_text, 80) || ' is too large for a double'
            WHEN number = 0 AND regexp_matches(number_text, '^[^eE]*[1-9]')
                THEN 'number out of range: ' || left(number_text, 80) || ' is too small for a double (not zero)'
            WHEN number IS NOT NULL THEN NULL
            WHEN s = '' THEN 'empty value'
            WHEN regexp_matches(lower(valued), '^(-+|—|–|n/?a|nan|none|null|\?+|tbd|please tell us.*|unknown)$')
                THEN 'not a value: ' || s
            ELSE 'unparsable value: ' || left(s, 80)
        END
    }
    FROM read
);

-- Size text such as "24M", "1.3B", "355M params", "110,000,000" -> count.
CREATE OR REPLACE MACRO parse_count(raw) AS (
    WITH m AS (
        SELECT regexp_extract(replace(trim(visible_text(coalesce(raw, ''))), ',', ''),
                              '^~?\s*(\d+(?:\.\d+)?)\s*([kKmMbBtT]?)\b', ['number', 'suffix']) AS g
    )
    SELECT CASE WHEN g.number <> '' THEN
        round(try_cast(g.number AS DOUBLE) * CASE upper(g.suffix) WHEN 'K' THEN 1e3 WHEN 'M' THEN 1e6
                                                      WHEN 'B' THEN 1e9 WHEN 'T' THEN 1e12 ELSE 1 END)::BIGINT
    END FROM m
);

-- A JSON list, or a list kept as a JSON string (as some Parquet conversions store nested lists).
CREATE OR REPLACE MACRO json_array_of(j) AS
    CASE json_type(j) WHEN 'ARRAY' THEN j
                      WHEN 'VARCHAR' THEN CASE WHEN json_valid(j ->> '$') AND json_type((j ->> '$')::JSON) = 'ARRAY'
                                               THEN (j ->> '$')::JSON END END;

-- The same for a JSON object.
CREATE OR REPLACE MACRO json_object_of(j) AS
    CASE json_type(j) WHEN 'OBJECT' THEN j
                      WHEN 'VARCHAR' THEN CASE WHEN json_valid(j ->> '$') AND json_type((j ->> '$')::JSON) = 'OBJECT'
                                               THEN (j ->> '$')::JSON END END;

-- The items of the JSON list at `path` in `node` (or of a list kept there as a JSON string), with
-- their 0-based positions; a list is extracted in one parse of the node.
CREATE OR REPLACE MACRO json_items(node, path) AS
    list_transform(CASE WHEN json_type(node, path) = 'ARRAY' THEN json_extract(node, path || '[*]')
                        ELSE json_extract(json_array_of(json_extract(node, path)), '$[*]') END,
                   lambda item, i: {'i': i - 1, 'item': item});

-- A parsed number (a value or its spread) in its metric's unit: divided by 100 for a fraction or a
-- correlation written as a percentage (a % sign, or its scope's scale evidence says percentages),
-- times 100 for a percent metric whose scope writes fractions; NULL while the scope's scale is undecided.
CREATE OR REPLACE MACRO in_unit(number, unit, percent_sign, value_scale) AS
    CASE
        WHEN number IS NULL OR value_scale LIKE 'undecided%' THEN NULL
        WHEN unit IN ('fraction', 'correlation') AND (percent_sign OR value_scale LIKE 'percentages%')
            THEN round(number / 100, 12)
        WHEN unit = 'percent' AND value_scale LIKE 'fractions%' THEN round(number * 100, 12)
        ELSE number
    END;

-- How good a value is on a metric of `direction`, as one number where more is better: the value when
-- higher is better, its negation when lower is; NULL when the direction is unknown (never ranked).
CREATE OR REPLACE MACRO goodness(direction, value) AS
    CASE direction WHEN 'higher' THEN value WHEN 'lower' THEN -value END;
