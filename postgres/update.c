/*
 * Every mutator of every type, through one C function: the SQL functions
 * crdt_update (the new state) and crdt_update_delta (only the update's
 * delta) decode the state with the writer's replica id as its owner, build a
 * crdt_update from their arguments and call crdt_object_update(). The typed
 * mutators (crdt_orset_add, crdt_counter_inc, ...) are SQL wrappers that
 * fix the op, so a new type needs a line of SQL per op and no C.
 *
 * SQL arguments, by position (the SQL declarations give them names and
 * defaults):
 *   0 state    crdt    the state read (NULL: the result is NULL)
 *   1 replica  text    the writer's replica id (NULL: NULL)
 *   2 op       text    "inc", "dec", "add", "rm", "set"; or qualified by the
 *                      type the state must have, "orset.add" (NULL: NULL)
 *   3 arg      text or bytea: element, item or value (NULL: none)
 *   4 n        int8    amount, >= 1 (NULL: 1)
 *   5 time     int8    LWW timestamp, >= 0 (NULL: 0)
 *   6 context  crdt    MV-register: the state the value was read from; its
 *                      causal context is what the write supersedes (NULL:
 *                      everything the state has seen)
 *   7 path     text[]  map (version 0.2): the field's path, from a field of
 *                      the root map down to the field (NULL: none)
 *   8 field    text    map: the field's type, "counter", "orset", "mvreg",
 *                      "lwwreg", "flag" or "map" (NULL: none)
 */
#include "crdt_pg.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"

/* Splits "type.op" or "op"; errors out on an unknown op or type, or on a
 * state of another type than the one named. */
static crdt_op parse_op(const char *spec, const struct varlena *state) {
  const char *dot = strchr(spec, '.');
  const char *name = dot ? dot + 1 : spec;
  crdt_op op;
  if (crdt_op_from_name(name, &op) != 0)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("crdt: unknown operation \"%s\"", spec),
                    errhint("Operations: inc, dec, add, rm, set, enable, "
                            "disable, del, optionally qualified by a type, "
                            "as in orset.add.")));
  if (dot) {
    char *type_name = pnstrdup(spec, (Size)(dot - spec));
    crdt_type want = crdt_pg_type_named(type_name);
    crdt_blob_info info;
    int rc = crdt_peek(crdt_pg_bytes(state), crdt_pg_size(state), &info);
    if (rc) crdt_pg_error(rc, "reading a crdt value");
    if (info.type != want)
      ereport(ERROR,
              (errcode(ERRCODE_DATATYPE_MISMATCH),
               errmsg("crdt: %s", crdt_strerror(CRDT_ETYPE)),
               errdetail("Operation \"%s\" needs a state of type %s, not %s.",
                         spec, type_name,
                         crdt_type_name(info.type) ? crdt_type_name(info.type)
                                                   : "?")));
    pfree(type_name);
  }
  return op;
}

static uint64_t arg_u64(FunctionCallInfo fcinfo, int i, uint64_t absent,
                        int64 min, const char *what) {
  if (PG_NARGS() <= i || PG_ARGISNULL(i)) return absent;
  int64 v = PG_GETARG_INT64(i);
  if (v < min)
    ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
                    errmsg("crdt: %s must be at least %lld, not %lld", what,
                           (long long)min, (long long)v)));
  return (uint64_t)v;
}

/* A map field's path (argument 7) and type (argument 8), into u. The
 * names are the array's elements as bytes (NULL elements are refused); the
 * library checks the depth. */
static void field_of(FunctionCallInfo fcinfo, crdt_update *u) {
  if (PG_NARGS() > 7 && !PG_ARGISNULL(7)) {
    ArrayType *a = PG_GETARG_ARRAYTYPE_P(7);
    Datum *elems;
    bool *nulls;
    int n;
    if (ARR_NDIM(a) > 1)
      ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
                      errmsg("crdt: a field path is a one-dimensional array "
                             "of names")));
    deconstruct_array(a, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
    crdt_bytes *names = palloc0(sizeof *names * (size_t)(n ? n : 1));
    for (int i = 0; i < n; i++) {
      if (nulls[i])
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                        errmsg("crdt: a field path holds no NULL names")));
      struct varlena *name = pg_detoast_datum_packed(
          (struct varlena *)DatumGetPointer(elems[i]));
      names[i] = (crdt_bytes){crdt_pg_bytes(name), crdt_pg_size(name)};
    }
    u->path = (crdt_path){names, (size_t)n};
  }
  if (PG_NARGS() > 8 && !PG_ARGISNULL(8)) {
    char *name = text_to_cstring(PG_GETARG_TEXT_PP(8));
    crdt_field_type type;
    if (crdt_field_type_from_name(name, &type) != 0)
      ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                      errmsg("crdt: unknown field type \"%s\"", name),
                      errhint("Field types: counter, orset, mvreg, lwwreg, "
                              "flag, map.")));
    u->field = type;
  }
}

/* The update described by arguments 2..8 of `state`'s update. The
 * MV-register's read context, if one was given, is a new object in *read
 * (NULL otherwise) that the caller frees once the update is applied. */
static crdt_update build_update(FunctionCallInfo fcinfo,
                                const struct varlena *state,
                                crdt_context **read) {
  crdt_update u = {0};
  u.op = parse_op(text_to_cstring(PG_GETARG_TEXT_PP(2)), state);
  if (PG_NARGS() > 3 && !PG_ARGISNULL(3)) {
    const struct varlena *arg = PG_GETARG_VARLENA_PP(3);
    u.arg = (crdt_bytes){crdt_pg_bytes(arg), crdt_pg_size(arg)};
  }
  u.n = arg_u64(fcinfo, 4, 1, 1, "n");
  u.time = arg_u64(fcinfo, 5, 0, 0, "time");
  field_of(fcinfo, &u);
  *read = NULL;
  if (PG_NARGS() > 6 && !PG_ARGISNULL(6)) {
    crdt_object *seen = crdt_pg_decode(PG_GETARG_VARLENA_PP(6), NULL,
                                       "reading the read context's state");
    int rc = crdt_object_context(seen, read);
    crdt_object_free(seen);
    if (rc) crdt_pg_error(rc, "reading the read context");
    u.context = *read;
  }
  return u;
}

/* The common body: the new state, or only the update's delta. Removing
 * what the writer does not see (CRDT_ENOENT) and an LWW write older than
 * the value held (CRDT_ESTALE) change nothing: the state comes back as it
 * was, the delta empty. */
static Datum update(FunctionCallInfo fcinfo, bool delta_only) {
  if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2)) PG_RETURN_NULL();
  struct varlena *state = PG_GETARG_VARLENA_PP(0);
  char *replica = text_to_cstring(PG_GETARG_TEXT_PP(1));
  crdt_pg_memory(CurrentMemoryContext);
  crdt_context *read;
  crdt_update u = build_update(fcinfo, state, &read);

  crdt_object *obj, *delta = NULL;
  int rc = crdt_decode(crdt_pg_bytes(state), crdt_pg_size(state), replica,
                       &obj);
  if (rc == CRDT_EINVAL) {
    crdt_context_free(read);
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("crdt: invalid replica id \"%s\"", replica),
                    errdetail("A replica id is 1 to %d bytes.",
                              CRDT_REPLICA_MAX)));
  }
  if (rc) {
    crdt_context_free(read);
    crdt_pg_error(rc, "reading a crdt value");
  }
  if (delta_only &&
      (rc = crdt_object_new(crdt_object_type(obj), NULL, &delta)) != 0) {
    crdt_object_free(obj);
    crdt_context_free(read);
    crdt_pg_error(rc, "creating a delta");
  }
  rc = crdt_object_update(obj, &u, delta);
  crdt_context_free(read);
  if (rc == CRDT_ENOENT || rc == CRDT_ESTALE) {
    rc = 0;
    if (!delta_only) {
      crdt_object_free(obj);
      PG_RETURN_POINTER(state);
    }
  }
  if (rc) {
    crdt_object_free(obj);
    crdt_object_free(delta);
    crdt_pg_error(rc, "applying an update");
  }
  struct varlena *out;
  if (delta_only) {
    crdt_object_free(obj);
    out = crdt_pg_encode(delta, u.arg.size + 128);
    crdt_object_free(delta);
  } else {
    out = crdt_pg_encode(obj, crdt_pg_size(state) + u.arg.size + 32);
    crdt_object_free(obj);
  }
  PG_RETURN_POINTER(out);
}

PG_FUNCTION_INFO_V1(crdt_pg_update);
Datum crdt_pg_update(PG_FUNCTION_ARGS) { return update(fcinfo, false); }

PG_FUNCTION_INFO_V1(crdt_pg_update_delta);
Datum crdt_pg_update_delta(PG_FUNCTION_ARGS) { return update(fcinfo, true); }
