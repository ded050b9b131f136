-- Hostile input: every way bytes enter a crdt value (text input, the bytea
-- cast, binary COPY, function arguments) gets a clean SQL error, and the
-- backend survives them all (same process at the end).
SELECT pg_backend_pid() AS pid \gset

-- ---- text input --------------------------------------------------------------
SELECT ''::crdt;
SELECT 'abc'::crdt;
SELECT 'zz'::crdt;
SELECT '0g'::crdt;
SELECT '\x435244540101000100f8b7e3f6de0b553c'::crdt;  -- bytea syntax is not ours
-- A valid blob (the empty G-counter) and damaged copies of it:
--   43524454 "CRDT" | 01 version | 01 tag | 00 flags | 01 body length |
--   00 body (no replica) | f8b7e3f6de0b553c XXH3-64 of the bytes before it
SELECT '435244540101000100f8b7e3f6de0b553c'::crdt AS valid;
SELECT '435244540101000100f8b7e3f6de0b55'::crdt AS truncated;
SELECT '435244540101000100f8b7e3f6de0b553d'::crdt AS checksum;
SELECT '435244540101000101f8b7e3f6de0b553c'::crdt AS body_byte;
SELECT '435244540101000100f8b7e3f6de0b553c00'::crdt AS trailing;
SELECT '445244540101000100f8b7e3f6de0b553c'::crdt AS magic;
SELECT '4352'::crdt AS short_magic;
SELECT '435244540201000100f8b7e3f6de0b553c'::crdt AS version;
SELECT '435244540109000100f8b7e3f6de0b553c'::crdt AS tag;
SELECT '435244540101020100f8b7e3f6de0b553c'::crdt AS flags;
-- A body length of 2^63 (a 10-byte varint) and one past 64 bits.
SELECT '43524454010100808080808080808080010000'::crdt AS huge_length;
SELECT '43524454010100ffffffffffffffffff7f0000'::crdt AS length_overflow;
-- Well-formed frames with a correct checksum around an invalid body
-- (written by hand, byte by byte, per docs/format.md):
-- an OR-set whose only dot (A,2) is outside its context {A:1};
SELECT '435244540103000a01014101000102017800ad0659b1951fbae0'::crdt AS dot_outside;
-- replica ids out of order (B before A);
SELECT '435244540103000c0201420141010001000000007d8420bcbf87efad'::crdt AS ids_unsorted;
-- an overlong varint (81 00 for 1);
SELECT '43524454010100060101418100015d9a1f08810adc59'::crdt AS overlong_varint;
-- a replica count of 2^40 in a 6-byte body (rejected before allocating);
SELECT '43524454010300068080808080207758d62de1ba1b24'::crdt AS count_beyond_body;
-- a cloud run of 10^9 dots in a 13-byte body (decoding memory is bounded);
SELECT '435244540103000d0101410001008094ebdc030000ad7c029399f2ba91'::crdt AS cloud_too_large;
-- a counter varint past 64 bits;
SELECT '435244540101000e010141ffffffffffffffffff7f01d6b6f456457d5d9d'::crdt AS counter_overflow;
-- a marker key in a state that is not a keyed delta, then in one that is;
SELECT '435244540103000400010178a71e0c9b46a7ec59'::crdt AS marker_in_state;
SELECT crdt_value('435244540103010400010178aaf433e5baa63ccd'::crdt) AS marker_in_delta;
-- a context token (an MV-register read token) is not a state.
SELECT '435244540110000501014101000a1e4e0fce570f81'::crdt AS context_token;
-- 4 MB of hex that is no blob at all.
SELECT repeat('00', 2 * 1024 * 1024)::crdt AS oversize;

-- ---- the bytea cast and function arguments ----------------------------------
SELECT crdt('\x435244540101000100f8b7e3f6de0b553d'::bytea);
SELECT '\x435244540101000100f8b7e3f6de0b55'::bytea::crdt;
SELECT crdt_merge(crdt_new('orset'), '435244540103000a01014101000102017800ad0659b1951fbae0');
SELECT crdt_update(crdt_new('mvreg'), 'A', 'set', 'v', context => 'zz');
SELECT crdt_value(crdt_update(crdt_new('mvreg'), 'A', 'set', 'v', context => crdt_new('lwwreg')));

-- ---- binary COPY (crdt_recv) ------------------------------------------------
-- crdt's binary form is the blob, as bytea's is: rows written from a bytea
-- table load into a crdt column, so any bytes can be offered to crdt_recv.
CREATE TABLE raw (b bytea);
CREATE TABLE loaded (s crdt);
-- Good rows load, and round-trip through send/recv unchanged.
INSERT INTO raw VALUES (crdt_new('gcounter')::bytea),
  (crdt_orset_add(crdt_new('orset'), 'A', 'milk')::bytea);
\copy raw TO 'good.bin' WITH (FORMAT binary)
\copy loaded FROM 'good.bin' WITH (FORMAT binary)
SELECT crdt_type(s), crdt_value(s) FROM loaded ORDER BY 1;
\copy loaded TO 'loaded.bin' WITH (FORMAT binary)
CREATE TABLE reloaded (s crdt);
\copy reloaded FROM 'loaded.bin' WITH (FORMAT binary)
SELECT count(*) FROM loaded JOIN reloaded USING (s);
-- Each bad row stops its COPY with the decoder's error.
TRUNCATE raw;
INSERT INTO raw VALUES ('\x435244540101000100f8b7e3f6de0b55');
\copy raw TO 'truncated.bin' WITH (FORMAT binary)
\copy loaded FROM 'truncated.bin' WITH (FORMAT binary)
TRUNCATE raw;
INSERT INTO raw VALUES ('\x435244540101000100f8b7e3f6de0b553d');
\copy raw TO 'checksum.bin' WITH (FORMAT binary)
\copy loaded FROM 'checksum.bin' WITH (FORMAT binary)
TRUNCATE raw;
INSERT INTO raw VALUES ('\x435244540103000a01014101000102017800ad0659b1951fbae0');
\copy raw TO 'dot.bin' WITH (FORMAT binary)
\copy loaded FROM 'dot.bin' WITH (FORMAT binary)
TRUNCATE raw;
INSERT INTO raw VALUES (''), ('\x00');
\copy raw TO 'empty.bin' WITH (FORMAT binary)
\copy loaded FROM 'empty.bin' WITH (FORMAT binary)
TRUNCATE raw;
INSERT INTO raw SELECT decode(repeat('43', 4 * 1024 * 1024), 'hex');
\copy raw TO 'oversize.bin' WITH (FORMAT binary)
\copy loaded FROM 'oversize.bin' WITH (FORMAT binary)
-- Nothing of the failed COPYs is in the table.
SELECT count(*) FROM loaded;

-- The same backend served every statement above.
SELECT pg_backend_pid() = :pid AS same_backend;
