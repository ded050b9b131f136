-- crdt 0.2: the `crdt` type (a libcrdt state as its canonical blob), the
-- functions that read, merge and update states, and crdt_merge_agg.
-- docs/postgres.md describes every object below.
--
-- Conventions, checked by postgres/test/upgrade.sh for every version:
-- every function is IMMUTABLE and PARALLEL SAFE; the C functions name
-- their symbol explicitly (crdt_pg_*); the typed mutators are SQL-standard
-- function bodies over crdt_update, bound at creation time (so they do
-- not depend on search_path, e.g. in a logical replication apply worker).

\echo Use "CREATE EXTENSION crdt" to load this file. \quit

-- ---- the type ---------------------------------------------------------------

CREATE TYPE crdt;

CREATE FUNCTION crdt_in(cstring) RETURNS crdt
    AS 'MODULE_PATHNAME', 'crdt_pg_in'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION crdt_out(crdt) RETURNS cstring
    AS 'MODULE_PATHNAME', 'crdt_pg_out'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION crdt_recv(internal) RETURNS crdt
    AS 'MODULE_PATHNAME', 'crdt_pg_recv'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION crdt_send(crdt) RETURNS bytea
    AS 'MODULE_PATHNAME', 'crdt_pg_send'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE crdt (
    INPUT = crdt_in,
    OUTPUT = crdt_out,
    RECEIVE = crdt_recv,
    SEND = crdt_send,
    INTERNALLENGTH = VARIABLE,
    STORAGE = extended
);
COMMENT ON TYPE crdt IS 'a libcrdt state or delta (canonical blob; text form: hex)';

-- bytea -> crdt validates; crdt -> bytea is the blob as it is.
CREATE FUNCTION crdt(bytea) RETURNS crdt
    AS 'MODULE_PATHNAME', 'crdt_pg_from_bytea'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (bytea AS crdt) WITH FUNCTION crdt(bytea);
CREATE CAST (crdt AS bytea) WITHOUT FUNCTION;

-- ---- equality by bytes (encodings are canonical), hashing -------------------

CREATE FUNCTION crdt_eq(crdt, crdt) RETURNS boolean
    AS 'MODULE_PATHNAME', 'crdt_pg_eq'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION crdt_ne(crdt, crdt) RETURNS boolean
    AS 'MODULE_PATHNAME', 'crdt_pg_ne'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION crdt_hash(crdt) RETURNS integer
    AS 'MODULE_PATHNAME', 'crdt_pg_hash'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION crdt_hash_extended(crdt, bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'crdt_pg_hash_extended'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR = (
    LEFTARG = crdt, RIGHTARG = crdt, FUNCTION = crdt_eq,
    COMMUTATOR = =, NEGATOR = <>,
    RESTRICT = eqsel, JOIN = eqjoinsel, HASHES
);
CREATE OPERATOR <> (
    LEFTARG = crdt, RIGHTARG = crdt, FUNCTION = crdt_ne,
    COMMUTATOR = <>, NEGATOR = =,
    RESTRICT = neqsel, JOIN = neqjoinsel
);

-- GROUP BY, DISTINCT, UNION, hash joins and hash partitioning. There is no
-- btree operator class: states are only partially ordered (<@ below).
CREATE OPERATOR CLASS crdt_hash_ops
    DEFAULT FOR TYPE crdt USING hash AS
        OPERATOR 1 = (crdt, crdt),
        FUNCTION 1 crdt_hash(crdt),
        FUNCTION 2 crdt_hash_extended(crdt, bigint);

-- ---- reading states -----------------------------------------------------------

CREATE FUNCTION crdt_new(type text) RETURNS crdt
    AS 'MODULE_PATHNAME', 'crdt_pg_new'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION crdt_type(crdt) RETURNS text
    AS 'MODULE_PATHNAME', 'crdt_pg_type'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION crdt_value(crdt) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'crdt_pg_value'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION crdt_context(crdt) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'crdt_pg_context'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- ---- two states ------------------------------------------------------------------

CREATE FUNCTION crdt_merge(crdt, crdt) RETURNS crdt
    AS 'MODULE_PATHNAME', 'crdt_pg_merge'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION crdt_compare(crdt, crdt) RETURNS text
    AS 'MODULE_PATHNAME', 'crdt_pg_compare'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION crdt_seen_by(crdt, crdt) RETURNS boolean
    AS 'MODULE_PATHNAME', 'crdt_pg_seen_by'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION crdt_has_seen(crdt, crdt) RETURNS boolean
    AS 'MODULE_PATHNAME', 'crdt_pg_has_seen'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- a || b: the join. a <@ b: b has seen every update a has (causal inclusion);
-- a @> b: the converse.
CREATE OPERATOR || (
    LEFTARG = crdt, RIGHTARG = crdt, FUNCTION = crdt_merge
);
CREATE OPERATOR <@ (
    LEFTARG = crdt, RIGHTARG = crdt, FUNCTION = crdt_seen_by,
    COMMUTATOR = @>
);
CREATE OPERATOR @> (
    LEFTARG = crdt, RIGHTARG = crdt, FUNCTION = crdt_has_seen,
    COMMUTATOR = <@
);

-- ---- updates: one C function for every type and op ------------------------------

-- The new state, and the update's delta alone. arg is text or bytea.
CREATE FUNCTION crdt_update(state crdt, replica text, op text,
                            arg text DEFAULT NULL, n bigint DEFAULT 1,
                            "time" bigint DEFAULT 0, context crdt DEFAULT NULL)
    RETURNS crdt
    AS 'MODULE_PATHNAME', 'crdt_pg_update'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION crdt_update(state crdt, replica text, op text, arg bytea,
                            n bigint DEFAULT 1, "time" bigint DEFAULT 0,
                            context crdt DEFAULT NULL)
    RETURNS crdt
    AS 'MODULE_PATHNAME', 'crdt_pg_update'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION crdt_update_delta(state crdt, replica text, op text,
                                  arg text DEFAULT NULL, n bigint DEFAULT 1,
                                  "time" bigint DEFAULT 0,
                                  context crdt DEFAULT NULL)
    RETURNS crdt
    AS 'MODULE_PATHNAME', 'crdt_pg_update_delta'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION crdt_update_delta(state crdt, replica text, op text, arg bytea,
                                  n bigint DEFAULT 1, "time" bigint DEFAULT 0,
                                  context crdt DEFAULT NULL)
    RETURNS crdt
    AS 'MODULE_PATHNAME', 'crdt_pg_update_delta'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- The typed mutators: one line of SQL each. STRICT: a NULL argument gives
-- NULL, never an update with a missing element.
CREATE FUNCTION crdt_counter_inc(state crdt, replica text, n bigint DEFAULT 1)
    RETURNS crdt LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
    RETURN crdt_update(state, replica, 'inc', NULL::text, n);
CREATE FUNCTION crdt_counter_dec(state crdt, replica text, n bigint DEFAULT 1)
    RETURNS crdt LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
    RETURN crdt_update(state, replica, 'pncounter.dec', NULL::text, n);
CREATE FUNCTION crdt_orset_add(state crdt, replica text, elem text)
    RETURNS crdt LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
    RETURN crdt_update(state, replica, 'orset.add', elem);
CREATE FUNCTION crdt_orset_remove(state crdt, replica text, elem text)
    RETURNS crdt LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
    RETURN crdt_update(state, replica, 'orset.rm', elem);
CREATE FUNCTION crdt_cart_add(state crdt, replica text, item text,
                              n bigint DEFAULT 1)
    RETURNS crdt LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
    RETURN crdt_update(state, replica, 'cart.add', item, n);
CREATE FUNCTION crdt_cart_dec(state crdt, replica text, item text,
                              n bigint DEFAULT 1)
    RETURNS crdt LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
    RETURN crdt_update(state, replica, 'cart.dec', item, n);
CREATE FUNCTION crdt_cart_remove(state crdt, replica text, item text)
    RETURNS crdt LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
    RETURN crdt_update(state, replica, 'cart.rm', item);
-- read: the state the writer read the value from (its causal context is
-- what this write supersedes); without it, everything the state has seen.
CREATE FUNCTION crdt_mvreg_set(state crdt, replica text, value text)
    RETURNS crdt LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
    RETURN crdt_update(state, replica, 'mvreg.set', value);
CREATE FUNCTION crdt_mvreg_set(state crdt, replica text, value text, read crdt)
    RETURNS crdt LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
    RETURN crdt_update(state, replica, 'mvreg.set', value, context => read);
CREATE FUNCTION crdt_lwwreg_set(state crdt, replica text, value text,
                                "time" bigint)
    RETURNS crdt LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
    RETURN crdt_update(state, replica, 'lwwreg.set', value, "time" => "time");

-- ---- the merge aggregate -------------------------------------------------------

CREATE FUNCTION crdt_merge_agg_trans(internal, crdt) RETURNS internal
    AS 'MODULE_PATHNAME', 'crdt_pg_agg_trans'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION crdt_merge_agg_final(internal) RETURNS crdt
    AS 'MODULE_PATHNAME', 'crdt_pg_agg_final'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION crdt_merge_agg_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'crdt_pg_agg_combine'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION crdt_merge_agg_serial(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'crdt_pg_agg_serial'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION crdt_merge_agg_deserial(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'crdt_pg_agg_deserial'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE AGGREGATE crdt_merge_agg(crdt) (
    SFUNC = crdt_merge_agg_trans,
    STYPE = internal,
    FINALFUNC = crdt_merge_agg_final,
    COMBINEFUNC = crdt_merge_agg_combine,
    SERIALFUNC = crdt_merge_agg_serial,
    DESERIALFUNC = crdt_merge_agg_deserial,
    PARALLEL = SAFE
);

-- ---- 0.2: maps and the flag (as in crdt--0.1--0.2.sql) ----------------------

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
