-- One line per member object of the installed crdt extension: its identity
-- and everything that defines it (function definitions and attributes,
-- type I/O, operator and operator-class wiring, aggregate support, casts,
-- comments). Two databases whose outputs are equal hold the same extension,
-- object by object. Used by postgres/test/upgrade.sh.
WITH members AS (
    SELECT d.classid, d.objid
    FROM pg_depend d JOIN pg_extension e ON d.refobjid = e.oid
    WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
      AND e.extname = 'crdt'
)
SELECT pg_describe_object(m.classid, m.objid, 0) || ' | ' || coalesce(CASE m.classid
    WHEN 'pg_proc'::regclass THEN (
        SELECT format('%s volatile=%s parallel=%s strict=%s leakproof=%s cost=%s %s',
                      p.prokind, p.provolatile, p.proparallel, p.proisstrict,
                      p.proleakproof, p.procost,
                      CASE WHEN p.prokind = 'a' THEN (
                          SELECT format('trans=%s final=%s combine=%s serial=%s deserial=%s stype=%s modify=%s',
                                        a.aggtransfn::regprocedure, a.aggfinalfn, a.aggcombinefn,
                                        a.aggserialfn, a.aggdeserialfn, a.aggtranstype::regtype,
                                        a.aggfinalmodify)
                          FROM pg_aggregate a WHERE a.aggfnoid = p.oid)
                      ELSE pg_get_functiondef(p.oid) END)
        FROM pg_proc p WHERE p.oid = m.objid)
    WHEN 'pg_type'::regclass THEN (
        SELECT format('in=%s out=%s recv=%s send=%s len=%s storage=%s align=%s category=%s',
                      t.typinput, t.typoutput, t.typreceive, t.typsend, t.typlen,
                      t.typstorage, t.typalign, t.typcategory)
        FROM pg_type t WHERE t.oid = m.objid)
    WHEN 'pg_operator'::regclass THEN (
        SELECT format('code=%s commutator=%s negator=%s restrict=%s join=%s hashes=%s merges=%s',
                      o.oprcode::regprocedure, o.oprcom::regoperator, o.oprnegate::regoperator,
                      o.oprrest, o.oprjoin, o.oprcanhash, o.oprcanmerge)
        FROM pg_operator o WHERE o.oid = m.objid)
    WHEN 'pg_opclass'::regclass THEN (
        SELECT format('default=%s operators=%s support=%s', c.opcdefault,
                      (SELECT string_agg(format('%s:%s', o.amopstrategy, o.amopopr::regoperator),
                                         ',' ORDER BY o.amopstrategy)
                       FROM pg_amop o WHERE o.amopfamily = c.opcfamily),
                      (SELECT string_agg(format('%s:%s', p.amprocnum, p.amproc::regprocedure),
                                         ',' ORDER BY p.amprocnum)
                       FROM pg_amproc p WHERE p.amprocfamily = c.opcfamily))
        FROM pg_opclass c WHERE c.oid = m.objid)
    WHEN 'pg_cast'::regclass THEN (
        SELECT format('function=%s context=%s method=%s', c.castfunc::regprocedure,
                      c.castcontext, c.castmethod)
        FROM pg_cast c WHERE c.oid = m.objid)
    ELSE '' END, '?')
    || coalesce(' | comment: ' || obj_description(m.objid, m.classid::regclass::text), '')
FROM members m
ORDER BY 1;
