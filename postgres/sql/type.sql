-- The crdt type: text I/O (hex of the canonical blob), the bytea casts,
-- equality and hashing by bytes, no ordering.

-- An empty OR-set as created by crdt_new (a delta group: flags 01) and the
-- state after one add at replica A. The text form round-trips exactly.
SELECT crdt_new('orset') AS empty_orset;
SELECT crdt_orset_add(crdt_new('orset'), 'A', 'milk') AS one_add;
SELECT crdt_orset_add(crdt_new('orset'), 'A', 'milk')::text::crdt
     = crdt_orset_add(crdt_new('orset'), 'A', 'milk') AS text_round_trip;
-- Upper-case hex is accepted; output is lower case.
SELECT upper(crdt_new('gcounter')::text)::crdt::text = crdt_new('gcounter')::text AS upper_ok;

-- Every type by name; crdt_type reads the header.
SELECT t, crdt_type(crdt_new(t)), crdt_value(crdt_new(t))
  FROM unnest(ARRAY['gcounter', 'pncounter', 'orset', 'mvreg', 'cart', 'lwwreg']) AS t;
SELECT crdt_new('nosuch');

-- crdt -> bytea is the blob; bytea -> crdt validates it.
SELECT crdt_new('gcounter')::bytea;
SELECT (crdt_new('gcounter')::bytea)::crdt = crdt_new('gcounter') AS bytea_round_trip;
SELECT '\x00'::bytea::crdt;

-- Equality and hashing: by bytes. GROUP BY, DISTINCT, UNION and hash
-- joins need the hash operator class (postgresql-hll issue #80).
CREATE TABLE states (id int, s crdt);
INSERT INTO states VALUES
  (1, crdt_counter_inc(crdt_new('gcounter'), 'A', 2)),
  (2, crdt_counter_inc(crdt_new('gcounter'), 'A', 2)),
  (3, crdt_counter_inc(crdt_new('gcounter'), 'B', 2)),
  (4, crdt_new('gcounter')),
  (5, NULL);
SELECT crdt_value(s) AS value, crdt_context(s) AS context, count(*)
  FROM states GROUP BY s ORDER BY count(*) DESC, crdt_context(s)::text NULLS FIRST;
SELECT count(*) FROM (SELECT DISTINCT s FROM states) d;
-- (An aggregate's DISTINCT always sorts, so it needs what crdt lacks.)
SELECT count(DISTINCT s) FROM states;
SELECT count(*) FROM (SELECT s FROM states UNION SELECT s FROM states) u;
SET enable_mergejoin = off;
SET enable_nestloop = off;
EXPLAIN (COSTS OFF) SELECT a.id, b.id FROM states a JOIN states b ON a.s = b.s;
SELECT a.id, b.id FROM states a JOIN states b ON a.s = b.s ORDER BY 1, 2;
RESET enable_mergejoin;
RESET enable_nestloop;
SELECT s1.s = s2.s AS eq, s1.s <> s2.s AS ne FROM states s1, states s2
  WHERE s1.id = 1 AND s2.id IN (2, 3) ORDER BY s2.id;
-- Hash values agree with equality (same bytes, same hash) and the
-- extended hash depends on its seed.
SELECT crdt_hash(a.s) = crdt_hash(b.s) AS same_hash
  FROM states a, states b WHERE a.id = 1 AND b.id = 2;
SELECT crdt_hash_extended(s, 0) <> crdt_hash_extended(s, 1) AS seeded
  FROM states WHERE id = 1;
-- Hash partitioning works on the type.
CREATE TABLE parts (s crdt) PARTITION BY HASH (s);
CREATE TABLE parts_0 PARTITION OF parts FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE parts_1 PARTITION OF parts FOR VALUES WITH (MODULUS 2, REMAINDER 1);
INSERT INTO parts SELECT s FROM states WHERE s IS NOT NULL;
SELECT count(*) FROM parts;
-- A hash index, and no btree (states are only partially ordered).
CREATE INDEX states_s_hash ON states USING hash (s);
CREATE INDEX states_s_btree ON states (s);
SELECT s FROM states ORDER BY s;
SELECT max(s) FROM states;
DROP TABLE parts;

-- Merging: the join, as crdt_merge and ||; idempotent, commutative.
SELECT crdt_value(a.s || b.s) AS merged, crdt_context(crdt_merge(a.s, b.s)) AS context
  FROM states a, states b WHERE a.id = 1 AND b.id = 3;
SELECT crdt_merge(a.s, b.s) = crdt_merge(b.s, a.s) AS commutative,
       crdt_merge(a.s, a.s) = a.s AS idempotent
  FROM states a, states b WHERE a.id = 1 AND b.id = 3;
SELECT crdt_merge(crdt_new('orset'), crdt_new('gcounter'));

-- Causal order: compare and the inclusion operators.
SELECT a.id, b.id, crdt_compare(a.s, b.s), a.s <@ b.s AS seen_by, a.s @> b.s AS has_seen
  FROM states a, states b WHERE a.id IN (1, 3, 4) AND b.id IN (1, 3, 4)
  ORDER BY 1, 2;
SELECT crdt_compare(crdt_new('lwwreg'), crdt_new('lwwreg'));
SELECT crdt_context(crdt_new('lwwreg'));
