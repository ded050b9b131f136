-- crdt 0.1 -> 0.2: maps (records of CRDT fields, updated by path) and the
-- enable-wins flag. docs/postgres.md describes every object below; the
-- conventions of crdt--0.1.sql hold.

\echo Use "ALTER EXTENSION crdt UPDATE TO '0.2'" to load this file. \quit

-- crdt_update with a map field: its path (names from a field of the root
-- map down to the field) and its type ('counter', 'orset', 'mvreg',
-- 'lwwreg', 'flag', 'map'). The arguments keep crdt_update's positions.
CREATE FUNCTION crdt_update_field(state crdt, replica text, op text,
                                  arg text DEFAULT NULL, n bigint DEFAULT 1,
                                  "time" bigint DEFAULT 0,
                                  context crdt DEFAULT NULL,
                                  path text[] DEFAULT NULL,
                                  field text DEFAULT NULL)
    RETURNS crdt
    AS 'MODULE_PATHNAME', 'crdt_pg_update'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION crdt_update_field_delta(state crdt, replica text, op text,
                                        arg text DEFAULT NULL,
                                        n bigint DEFAULT 1,
                                        "time" bigint DEFAULT 0,
                                        context crdt DEFAULT NULL,
                                        path text[] DEFAULT NULL,
                                        field text DEFAULT NULL)
    RETURNS crdt
    AS 'MODULE_PATHNAME', 'crdt_pg_update_delta'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- The map's typed mutators: one line of SQL each, STRICT.
CREATE FUNCTION crdt_map_counter_inc(state crdt, replica text, path text[],
                                     n bigint DEFAULT 1)
    RETURNS crdt LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
    RETURN crdt_update_field(state, replica, 'map.inc', NULL::text, n,
                             path => path, field => 'counter');
CREATE FUNCTION crdt_map_counter_dec(state crdt, replica text, path text[],
                                     n bigint DEFAULT 1)
    RETURNS crdt LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
    RETURN crdt_update_field(state, replica, 'map.dec', NULL::text, n,
                             path => path, field => 'counter');
CREATE FUNCTION crdt_map_orset_add(state crdt, replica text, path text[],
                                   elem text)
    RETURNS crdt LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
    RETURN crdt_update_field(state, replica, 'map.add', elem,
                             path => path, field => 'orset');
CREATE FUNCTION crdt_map_orset_remove(state crdt, replica text, path text[],
                                      elem text)
    RETURNS crdt LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
    RETURN crdt_update_field(state, replica, 'map.rm', elem,
                             path => path, field => 'orset');
CREATE FUNCTION crdt_map_mvreg_set(state crdt, replica text, path text[],
                                   value text)
    RETURNS crdt LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
    RETURN crdt_update_field(state, replica, 'map.set', value,
                             path => path, field => 'mvreg');
CREATE FUNCTION crdt_map_lwwreg_set(state crdt, replica text, path text[],
                                    value text, "time" bigint)
    RETURNS crdt LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
    RETURN crdt_update_field(state, replica, 'map.set', value,
                             "time" => "time", path => path,
                             field => 'lwwreg');
CREATE FUNCTION crdt_map_flag_enable(state crdt, replica text, path text[])
    RETURNS crdt LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
    RETURN crdt_update_field(state, replica, 'map.enable',
                             path => path, field => 'flag');
CREATE FUNCTION crdt_map_flag_disable(state crdt, replica text, path text[])
    RETURNS crdt LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
    RETURN crdt_update_field(state, replica, 'map.disable',
                             path => path, field => 'flag');
-- Removes the field (path, field type) with reset (docs/map.md).
CREATE FUNCTION crdt_map_remove(state crdt, replica text, path text[],
                                field text)
    RETURNS crdt LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
    RETURN crdt_update_field(state, replica, 'map.del',
                             path => path, field => field);

-- The flag.
CREATE FUNCTION crdt_flag_enable(state crdt, replica text)
    RETURNS crdt LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
    RETURN crdt_update(state, replica, 'flag.enable');
CREATE FUNCTION crdt_flag_disable(state crdt, replica text)
    RETURNS crdt LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
    RETURN crdt_update(state, replica, 'flag.disable');
