-- Updates: the typed mutators (SQL wrappers over crdt_update), the generic
-- crdt_update / crdt_update_delta, and their errors.

-- Counters. A increments twice, B once; the value is the sum, the context
-- one event per update.
SELECT crdt_counter_inc(crdt_counter_inc(crdt_new('gcounter'), 'A', 5), 'A') AS a \gset
SELECT crdt_value(:'a'), crdt_context(:'a');
SELECT crdt_value(crdt_counter_inc(:'a', 'B', 10)) AS a_and_b;
SELECT crdt_counter_dec(:'a', 'A');
SELECT crdt_value(crdt_counter_dec(crdt_counter_inc(crdt_new('pncounter'), 'A', 5), 'B', 7)) AS pn;
SELECT crdt_counter_inc(:'a', 'A', 0);
SELECT crdt_counter_inc(:'a', 'A', -3);
SELECT crdt_counter_inc(:'a', 'A', NULL) IS NULL AS strict_null;
-- Past 2^64 - 1 in total: the library's overflow error.
SELECT crdt_counter_inc(crdt_counter_inc(crdt_new('gcounter'), 'A', 9223372036854775807),
                        'A', 9223372036854775807) AS big \gset
SELECT crdt_value(:'big');
SELECT crdt_counter_inc(crdt_counter_inc(:'big', 'A', 1), 'A', 1);

-- OR-set: add, remove, and add wins over a concurrent remove.
SELECT crdt_orset_add(crdt_orset_add(crdt_new('orset'), 'A', 'milk'), 'A', 'eggs') AS a \gset
SELECT crdt_value(:'a'), crdt_context(:'a');
SELECT crdt_merge(crdt_new('orset'), :'a') AS b \gset
SELECT crdt_orset_remove(:'b', 'B', 'milk') AS b \gset
SELECT crdt_value(:'b'), crdt_context(:'b');
SELECT crdt_orset_add(:'a', 'A', 'milk') AS a \gset
SELECT crdt_value(crdt_merge(:'a', :'b')) AS add_wins,
       crdt_context(crdt_merge(:'a', :'b')) AS context;
-- Removing what the replica does not see changes nothing (same bytes).
SELECT crdt_orset_remove(:'b', 'B', 'milk') = :'b'::crdt AS unchanged;
SELECT crdt_orset_add(:'b', 'B', NULL) IS NULL AS strict_null;
-- A wrapper checks the type its op belongs to.
SELECT crdt_orset_add(crdt_new('cart'), 'A', 'milk');

-- Cart: quantities add up; a remove resets what it observed, and a
-- concurrent add survives with its own amount.
SELECT crdt_cart_add(crdt_new('cart'), 'A', 'apple', 2) AS a \gset
SELECT crdt_cart_add(crdt_new('cart'), 'B', 'apple', 3) AS b \gset
SELECT crdt_merge(:'a', :'b') AS a \gset
SELECT crdt_value(:'a') AS both_adds;
SELECT crdt_cart_remove(:'a', 'A', 'apple') AS a \gset
SELECT crdt_cart_add(:'b', 'B', 'apple', 1) AS b \gset
SELECT crdt_value(crdt_merge(:'a', :'b')) AS after_remove;
SELECT crdt_value(crdt_cart_dec(crdt_cart_add(crdt_new('cart'), 'A', 'pear', 4), 'A', 'pear', 3)) AS dec;
-- dec takes at most what this replica sees; the item goes at 0.
SELECT crdt_value(crdt_cart_dec(crdt_cart_add(crdt_new('cart'), 'A', 'pear', 4), 'A', 'pear', 9)) AS dec_all;
SELECT crdt_cart_dec(crdt_new('cart'), 'A', 'plum') = crdt_new('cart') AS dec_absent_unchanged;

-- MV-register with read contexts: the learner's question (DESIGN.md). One
-- server replica S. Client 1 writes eggs (dot S1). Client 2 writes milk
-- without having read (its read is the empty state): a sibling. Client 1
-- read [eggs] (state s1) and writes "eggs, bacon" on that read: it
-- supersedes eggs only, so milk stays.
SELECT crdt_new('mvreg') AS s0 \gset
SELECT crdt_mvreg_set(:'s0', 'S', 'eggs') AS s1 \gset
SELECT crdt_mvreg_set(:'s1', 'S', 'milk', :'s0') AS s2 \gset
SELECT crdt_value(:'s2'), crdt_context(:'s2');
SELECT crdt_mvreg_set(:'s2', 'S', 'eggs, bacon', :'s1') AS s3 \gset
SELECT crdt_value(:'s3'), crdt_context(:'s3');
-- Without a read, the write supersedes every sibling the state holds.
SELECT crdt_value(crdt_mvreg_set(:'s3', 'S', 'tea'));

-- LWW-register: the highest timestamp wins; an older write changes nothing;
-- equal timestamps are ordered by replica id.
SELECT crdt_lwwreg_set(crdt_new('lwwreg'), 'A', 'first', 10) AS r \gset
SELECT crdt_value(:'r');
SELECT crdt_lwwreg_set(:'r', 'A', 'older', 5) = :'r'::crdt AS stale_unchanged;
SELECT crdt_value(crdt_lwwreg_set(:'r', 'A', 'newer', 20));
SELECT crdt_value(crdt_merge(crdt_lwwreg_set(crdt_new('lwwreg'), 'A', 'from A', 7),
                             crdt_lwwreg_set(crdt_new('lwwreg'), 'B', 'from B', 7))) AS tie;
SELECT crdt_lwwreg_set(:'r', 'A', 'x', -1);

-- The generic function: op names, optionally qualified by a type.
SELECT crdt_value(crdt_update(crdt_new('orset'), 'A', 'add', 'x')) AS generic;
SELECT crdt_value(crdt_update(crdt_new('cart'), 'A', 'cart.add', 'x', 4)) AS qualified;
SELECT crdt_update(crdt_new('orset'), 'A', 'fly', 'x');
SELECT crdt_update(crdt_new('orset'), 'A', 'bird.add', 'x');
SELECT crdt_update(crdt_new('orset'), 'A', 'inc');
SELECT crdt_update(crdt_new('orset'), 'A', 'mvreg.set', 'x');
SELECT crdt_update(NULL, 'A', 'add', 'x') IS NULL AS null_state,
       crdt_update(crdt_new('orset'), NULL, 'add', 'x') IS NULL AS null_replica,
       crdt_update(crdt_new('orset'), 'A', NULL, 'x') IS NULL AS null_op;
-- Replica ids are 1..64 bytes.
SELECT crdt_orset_add(crdt_new('orset'), '', 'x');
SELECT crdt_orset_add(crdt_new('orset'), repeat('r', 65), 'x');
SELECT crdt_context(crdt_orset_add(crdt_new('orset'), repeat('r', 64), 'x')) -> 'vv' ? repeat('r', 64) AS long_id;
-- Elements are bytes: the bytea overload. Bytes that are not UTF-8 print
-- as \u00XX code points; a NUL byte cannot be in jsonb at all.
SELECT crdt_value(crdt_update(crdt_new('orset'), 'A', 'add', '\xff41'::bytea)) AS non_utf8;
SELECT crdt_value(crdt_update(crdt_new('orset'), 'A', 'add', '\x00'::bytea)) AS nul;
SELECT crdt_type(crdt_update(crdt_new('orset'), 'A', 'add', '\x00'::bytea)) AS nul_stored;

-- Deltas: crdt_update_delta returns only what the update changed; joined
-- into the state it gives what crdt_update gives.
SELECT crdt_orset_add(crdt_orset_add(crdt_new('orset'), 'A', 'a'), 'A', 'b') AS s \gset
SELECT crdt_update_delta(:'s', 'B', 'add', 'c') AS d \gset
SELECT crdt_value(:'d') AS delta_value, crdt_context(:'d') AS delta_context;
SELECT crdt_value(crdt_merge(:'s', :'d')) = crdt_value(crdt_update(:'s', 'B', 'add', 'c')) AS same_value,
       crdt_compare(crdt_merge(:'s', :'d'), crdt_update(:'s', 'B', 'add', 'c')) AS same_history;
SELECT crdt_update_delta(:'s', 'B', 'rm', 'a') AS d \gset
SELECT crdt_value(:'d') AS remove_delta, crdt_context(:'d') AS remove_context,
       crdt_value(crdt_merge(:'s', :'d')) AS after;
-- A remove of what is not there: an empty delta.
SELECT crdt_value(crdt_update_delta(:'s', 'B', 'rm', 'zz')) AS empty_value,
       crdt_context(crdt_update_delta(:'s', 'B', 'rm', 'zz')) AS empty_context;
-- A delta that arrives before the one it follows: its dot waits in the
-- context's cloud, and the JSON shows it there.
SELECT crdt_update_delta(crdt_orset_add(crdt_new('orset'), 'A', 'x'), 'A', 'add', 'y') AS d2 \gset
SELECT crdt_value(crdt_merge(crdt_new('orset'), :'d2')) AS early,
       crdt_context(crdt_merge(crdt_new('orset'), :'d2')) AS early_context;
