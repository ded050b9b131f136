-- crdt_merge_agg: the join of a group's states, serial, parallel, spilled
-- to disk, and as a window aggregate.

-- The multi-writer table of docs/postgres.md: one row per (key, replica).
CREATE TABLE items (key text, replica text, state crdt, PRIMARY KEY (key, replica));
INSERT INTO items VALUES
  ('cart-1', 'A', crdt_cart_add(crdt_new('cart'), 'A', 'apple', 2)),
  ('cart-1', 'B', crdt_cart_add(crdt_cart_add(crdt_new('cart'), 'B', 'apple', 3), 'B', 'pear')),
  ('cart-1', 'C', NULL),
  ('tags-1', 'A', crdt_orset_add(crdt_new('orset'), 'A', 'red')),
  ('tags-1', 'B', crdt_orset_add(crdt_new('orset'), 'B', 'blue')),
  ('none', 'A', NULL);
SELECT key, crdt_value(crdt_merge_agg(state)), crdt_context(crdt_merge_agg(state))
  FROM items GROUP BY key ORDER BY key;
-- No rows: NULL. One row: that state.
SELECT crdt_merge_agg(state) IS NULL AS empty FROM items WHERE false;
SELECT crdt_merge_agg(state) = (SELECT state FROM items WHERE key = 'tags-1' AND replica = 'A') AS one
  FROM items WHERE key = 'tags-1' AND replica = 'A';
-- The aggregate is the fold of crdt_merge.
SELECT crdt_merge_agg(state) = crdt_merge((SELECT state FROM items WHERE key = 'tags-1' AND replica = 'A'),
                                          (SELECT state FROM items WHERE key = 'tags-1' AND replica = 'B')) AS fold
  FROM items WHERE key = 'tags-1';
-- States of different types cannot be joined.
SELECT crdt_merge_agg(state) FROM items;
-- (Its support functions take and return `internal`: SQL cannot call them.)

-- Many rows: 200 keys x 50 replicas of G-counter states, replica r of key
-- k incremented by r + 1; so each key's value is 1 + 2 + ... + 50 = 1275.
CREATE TABLE counters AS
  SELECT 'k' || k AS key, 'node-' || r AS replica,
         crdt_counter_inc(crdt_new('gcounter'), 'node-' || r, r + 1) AS state
  FROM generate_series(1, 200) k, generate_series(0, 49) r;
ANALYZE counters;
CREATE TABLE serial_result AS
  SELECT key, crdt_merge_agg(state) AS merged FROM counters GROUP BY key;
SELECT count(*), min(crdt_value(merged)::text), max(crdt_value(merged)::text),
       min(jsonb_array_length(jsonb_path_query_array(crdt_context(merged), '$.vv.*'))) AS replicas
  FROM serial_result;

-- Parallel: partial aggregates in two workers, serialized (crdt_encode),
-- deserialized and combined in the leader. Same result.
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF)
  SELECT key, crdt_merge_agg(state) FROM counters GROUP BY key;
-- The largest value of a field anywhere in a query's executed plan.
CREATE FUNCTION plan_max(query text, field text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE plan jsonb;
BEGIN
  EXECUTE 'EXPLAIN (ANALYZE, FORMAT JSON) ' || query INTO plan;
  RETURN (SELECT max((p ->> field)::int)
            FROM jsonb_path_query(plan, 'strict $.**') p
           WHERE jsonb_typeof(p) = 'object' AND p ? field);
END $$;
SELECT plan_max('SELECT key, crdt_merge_agg(state) FROM counters GROUP BY key',
                'Workers Launched') AS workers;
SELECT count(*) AS differences FROM (
  SELECT key, crdt_merge_agg(state) AS merged FROM counters GROUP BY key) p
  FULL JOIN serial_result s USING (key)
  WHERE p.merged IS DISTINCT FROM s.merged;
-- Without GROUP BY: one partial state per worker, combined.
SELECT crdt_value(crdt_merge_agg(state)) AS total FROM counters;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;

-- Hash aggregation that spills to disk (work_mem far below the states'
-- size) gives what sorting gives.
SET work_mem = '64kB';
SET enable_sort = off;
SET max_parallel_workers_per_gather = 0;
EXPLAIN (COSTS OFF) SELECT key, crdt_merge_agg(state) FROM counters GROUP BY key;
SELECT plan_max('SELECT key, crdt_merge_agg(state) FROM counters GROUP BY key',
                'HashAgg Batches') > 1 AS spilled;
CREATE TABLE spilled AS SELECT key, crdt_merge_agg(state) AS merged FROM counters GROUP BY key;
RESET enable_sort;
SET enable_hashagg = off;
SELECT count(*) AS differences FROM (
  SELECT key, crdt_merge_agg(state) AS merged FROM counters GROUP BY key) g
  FULL JOIN spilled s USING (key)
  WHERE g.merged IS DISTINCT FROM s.merged;
RESET enable_hashagg;
RESET max_parallel_workers_per_gather;
RESET work_mem;

-- As a window aggregate the final function runs once per row on the same
-- running state: the running union of an OR-set.
SELECT i, crdt_value(crdt_merge_agg(s) OVER (ORDER BY i)) AS running
  FROM (SELECT i, crdt_orset_add(crdt_new('orset'), 'r' || i, 'e' || (i % 3)) AS s
          FROM generate_series(1, 5) i) t
  ORDER BY i;
