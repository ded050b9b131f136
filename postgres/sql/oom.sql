-- Out of memory inside the library: crdt.debug_fail_allocation = N makes
-- the N-th library allocation after the setting fail. CRDT_ENOMEM must
-- become an ERROR (SQLSTATE out_of_memory), at every allocation point of a
-- statement, and the statement must give its normal result once N is past
-- its allocations; the backend survives.
SELECT pg_backend_pid() AS pid \gset
SET crdt.debug_fail_allocation = 1;
SELECT crdt_new('orset');
SET crdt.debug_fail_allocation = 1;
SELECT crdt_orset_add('435244540103000d01014101000100046d696c6b0008d2825be931b1b1', 'B', 'eggs');
RESET crdt.debug_fail_allocation;
SELECT crdt_value(crdt_orset_add(crdt_new('orset'), 'B', 'eggs')) AS works_again;

-- Walk every allocation point of one statement that decodes, updates,
-- aggregates (state in the aggregate context across rows), encodes and
-- prints: n = 1, 2, ... fails the n-th allocation.
CREATE TABLE oom_rows AS
  SELECT crdt_orset_add(crdt_orset_add(crdt_new('orset'), 'r' || i, 'e' || i), 'r' || i, 'e1') AS s
  FROM generate_series(1, 20) i;
CREATE TABLE oom_walk (n int, outcome text);
DO $$
DECLARE
  expected jsonb;
  got jsonb;
BEGIN
  SELECT crdt_value(crdt_merge_agg(crdt_orset_remove(s, 'Z', 'e1'))) INTO expected FROM oom_rows;
  FOR n IN 1..3000 LOOP
    BEGIN
      PERFORM set_config('crdt.debug_fail_allocation', n::text, false);
      SELECT crdt_value(crdt_merge_agg(crdt_orset_remove(s, 'Z', 'e1'))) INTO got FROM oom_rows;
      INSERT INTO oom_walk VALUES (n, CASE WHEN got = expected THEN 'same result'
                                           ELSE 'WRONG: ' || got::text END);
    EXCEPTION WHEN out_of_memory THEN
      INSERT INTO oom_walk VALUES (n, 'out of memory');
    END;
  END LOOP;
  PERFORM set_config('crdt.debug_fail_allocation', '0', false);
END $$;
-- Only these two outcomes: every allocation up to the statement's last
-- failed it cleanly, every n past it gave the normal result.
SELECT outcome, count(*) > 0 AS seen FROM oom_walk GROUP BY outcome ORDER BY outcome;
SELECT max(n) FILTER (WHERE outcome = 'out of memory') > 20 AS many_allocation_points,
       max(n) FILTER (WHERE outcome = 'out of memory')
         < min(n) FILTER (WHERE outcome = 'same result') AS failed_up_to_the_last
  FROM oom_walk;
SELECT crdt_value(crdt_merge_agg(crdt_orset_remove(s, 'Z', 'e1'))) AS after_walk FROM oom_rows;
SELECT pg_backend_pid() = :pid AS same_backend;
