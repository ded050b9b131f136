-- The extension installs into a fresh database; every later test uses it.
CREATE EXTENSION crdt;
SELECT extname, extversion, extrelocatable FROM pg_extension WHERE extname = 'crdt';
-- The functions the control file's module provides are all there.
SELECT count(*) > 40 AS many_objects FROM pg_depend d
  JOIN pg_extension e ON d.refobjid = e.oid AND e.extname = 'crdt'
  WHERE d.deptype = 'e';
-- Every function of the extension is IMMUTABLE and PARALLEL SAFE (so the
-- planner may use parallel workers, indexes on expressions and constant
-- folding), and the C ones name a crdt_pg_ symbol of the module.
SELECT p.proname, p.provolatile, p.proparallel
  FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON d.refobjid = e.oid AND e.extname = 'crdt'
  WHERE p.provolatile <> 'i' OR p.proparallel <> 's'
     OR (p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'c')
         AND p.prosrc NOT LIKE 'crdt\_pg\_%');
