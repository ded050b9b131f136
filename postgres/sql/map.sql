-- Maps (version 0.2): fields by path through the typed mutators, the reset
-- on remove, one name with two types, errors; and the flag.

-- A record at A: a counter, a set, a register and a flag in a nested map.
SELECT crdt_map_counter_inc(crdt_new('map'), 'A', ARRAY['user', 'visits'], 5) AS a \gset
SELECT crdt_map_orset_add(:'a', 'A', ARRAY['user', 'tags'], 'admin') AS a \gset
SELECT crdt_map_lwwreg_set(:'a', 'A', ARRAY['user', 'name'], 'Ada', 1) AS a \gset
SELECT crdt_map_flag_enable(:'a', 'A', ARRAY['user', 'settings', 'dark']) AS a \gset
SELECT crdt_value(:'a'), crdt_context(:'a');
-- B removes the whole user record; concurrently A counts two more visits.
-- The remove resets what B had seen: only the concurrent 2 survives.
SELECT crdt_map_remove(crdt_merge(crdt_new('map'), :'a'), 'B', ARRAY['user'], 'map') AS b \gset
SELECT crdt_value(:'b') AS after_remove, crdt_context(:'b');
SELECT crdt_map_counter_inc(:'a', 'A', ARRAY['user', 'visits'], 2) AS a \gset
SELECT crdt_value(:'a'::crdt || :'b'::crdt) AS merged,
       (:'a'::crdt || :'b'::crdt) = (:'b'::crdt || :'a'::crdt) AS commutes;
-- One name, two types: two fields.
SELECT crdt_value(crdt_map_orset_add(crdt_map_counter_inc(crdt_new('map'), 'A', ARRAY['x']),
                                     'A', ARRAY['x'], 'e')) AS two_fields;
-- Removing the last element of a set removes the field, and the maps it
-- leaves empty.
SELECT crdt_value(crdt_map_orset_remove(crdt_map_orset_add(crdt_new('map'), 'A', ARRAY['m', 's'], 'e'),
                                        'A', ARRAY['m', 's'], 'e')) AS emptied;
-- Removing what is not there changes nothing (the same bytes come back).
SELECT crdt_map_remove(:'b', 'B', ARRAY['nothing'], 'flag') = :'b'::crdt AS unchanged;
-- Concurrent register writes: MV keeps both, LWW shows the higher time.
SELECT crdt_value(crdt_map_mvreg_set(crdt_new('map'), 'A', ARRAY['r'], 'x') ||
                  crdt_map_mvreg_set(crdt_new('map'), 'B', ARRAY['r'], 'y')) AS siblings;
SELECT crdt_value(crdt_map_lwwreg_set(crdt_new('map'), 'A', ARRAY['r'], 'x', 20) ||
                  crdt_map_lwwreg_set(crdt_new('map'), 'B', ARRAY['r'], 'y', 10)) AS lww;
-- The generic form and a delta: only the update, keyed to its path.
SELECT crdt_value(crdt_update_field_delta(:'b', 'B', 'map.add', 'x',
                  path => ARRAY['s'], field => 'orset')) AS delta;
-- crdt_merge_agg over map rows.
SELECT crdt_value(crdt_merge_agg(s)) AS aggregated
  FROM (VALUES (crdt_map_counter_inc(crdt_new('map'), 'A', ARRAY['n'], 1)),
               (crdt_map_counter_inc(crdt_new('map'), 'B', ARRAY['n'], 2))) v(s);
-- Errors: an unknown field type, an empty path, a NULL name, a path past
-- 32 names, an op on a state of another type.
SELECT crdt_map_remove(:'b', 'B', ARRAY['x'], 'set');
SELECT crdt_map_counter_inc(:'b', 'B', ARRAY[]::text[]);
SELECT crdt_map_counter_inc(:'b', 'B', ARRAY['a', NULL]);
SELECT crdt_map_counter_inc(:'b', 'B', array_fill('n'::text, ARRAY[33]));
SELECT crdt_map_counter_inc(crdt_new('orset'), 'B', ARRAY['a']);

-- The flag: enable, disable, and an enable concurrent with a disable wins.
SELECT crdt_flag_enable(crdt_new('flag'), 'A') AS f \gset
SELECT crdt_value(:'f') AS enabled, crdt_value(crdt_flag_disable(:'f', 'B')) AS disabled;
SELECT crdt_value(crdt_flag_disable(:'f', 'B') || crdt_flag_enable(:'f', 'A')) AS enable_wins;
