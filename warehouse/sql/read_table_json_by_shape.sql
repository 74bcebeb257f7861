-- Reads one Papers with Code evaluation-tables JSON file of the usual shape, getvariable('table_file'),
-- in one typed pass of DuckDB's JSON reader: a list of task objects, each dataset an object whose
-- `sota.rows` is a list. Every table row lands in table_row_docs as JSON; what the pass keeps as
-- JSON (subtasks, subdatasets) goes to table_subtask_docs and table_subdataset_docs, which
-- benchmark_table_rows walks like any task or dataset. Positions and paths are the ones
-- benchmark_table_rows gives when it walks the whole file as JSON. The reader fails on a file of any
-- other shape (or not JSON, or not UTF-8): read_table_files reads that one instead.
CREATE OR REPLACE TEMP TABLE table_shaped_tasks AS
SELECT getvariable('table_file') AS filename, row_number() OVER () - 1 AS task_index, *
FROM read_json(getvariable('table_file'), format = 'array', maximum_object_size = getvariable('table_file_bytes'),
               columns = {task: 'VARCHAR', categories: 'JSON', subtasks: 'JSON',
                          datasets: 'STRUCT(dataset VARCHAR, sota STRUCT("rows" JSON[]), subdatasets JSON)[]'});

CREATE OR REPLACE TEMP TABLE table_shaped_datasets AS
SELECT filename, [task] AS task_path, categories, d.item.dataset AS dataset,
       task_index || ':' || d.i AS position, d.item.sota.rows AS rows, d.item.subdatasets AS subdatasets
FROM (SELECT *, unnest(list_transform(datasets, lambda item, i: {'i': i - 1, 'item': item})) AS d
      FROM table_shaped_tasks);

INSERT INTO table_subtask_docs
SELECT filename, task_index || '.' || s.i, [task, s.item ->> 'task'], coalesce(s.item -> 'categories', categories),
       s.item
FROM (SELECT *, unnest(json_items(subtasks, '$')) AS s FROM table_shaped_tasks);

INSERT INTO table_subdataset_docs
SELECT filename, task_path, categories, dataset, coalesce(s.item ->> 'dataset', 'subdataset ' || s.i),
       position || '.' || s.i, s.item
FROM (SELECT *, unnest(json_items(subdatasets, '$')) AS s FROM table_shaped_datasets);

-- a JSON null in the list of rows is a row (refused as not an object), as when the file is walked as JSON
INSERT INTO table_row_docs
SELECT filename, task_path, categories, dataset, NULL, position, r.i, coalesce(r.item, 'null'::JSON)
FROM (SELECT *, unnest(list_transform(rows, lambda item, i: {'i': i - 1, 'item': item})) AS r
      FROM table_shaped_datasets);

DROP TABLE table_shaped_tasks;
DROP TABLE table_shaped_datasets;
