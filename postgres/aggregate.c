/*
 * crdt_merge_agg(crdt): the join of every non-NULL input, with a combine
 * function for parallel and partial aggregation.
 *
 * The transition state is a live crdt_object (STYPE internal), so each row
 * costs one decode and one merge, never a re-encoding of the running join.
 *
 * Memory: the state object is created in the aggregate's memory context
 * (AggCheckCallContext) and keeps that allocator for its whole life: a
 * merge that grows it reallocates there, across transition calls, whatever
 * context is current. The decoded input of each row lives in the current
 * (per-tuple) context and is freed right after its merge. PostgreSQL resets
 * the aggregate context after each group (and on error), which releases the
 * state without crdt_object_free. The final function only encodes: it may
 * be called more than once on one state, and never frees it.
 *
 * Parallel workers send their states as blobs (serial: crdt_encode), which
 * the leader decodes (deserial: validated like any other input) in the
 * per-tuple context; combine merges them into its state in the aggregate
 * context, copying the first one there.
 */
#include "crdt_pg.h"

/* The aggregate context, or an ERROR when called as a plain function. */
static MemoryContext agg_context(FunctionCallInfo fcinfo, const char *name) {
  MemoryContext cxt;
  if (!AggCheckCallContext(fcinfo, &cxt))
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("crdt: %s called outside an aggregate", name)));
  return cxt;
}

static crdt_object *state_arg(FunctionCallInfo fcinfo, int i) {
  return PG_ARGISNULL(i) ? NULL : (crdt_object *)PG_GETARG_POINTER(i);
}

/* Merges `src` into `*state`, or makes it the state when there is none
 * (then `src` must already live in the aggregate context). */
static void join_into(crdt_object **state, crdt_object *src, bool free_src) {
  if (!*state) {
    *state = src;
    return;
  }
  int rc = crdt_object_merge(*state, src);
  if (free_src) crdt_object_free(src);
  if (rc) crdt_pg_error(rc, "merging into crdt_merge_agg");
}

PG_FUNCTION_INFO_V1(crdt_pg_agg_trans);
Datum crdt_pg_agg_trans(PG_FUNCTION_ARGS) {
  MemoryContext aggcxt = agg_context(fcinfo, "crdt_merge_agg_trans");
  crdt_object *state = state_arg(fcinfo, 0);
  if (PG_ARGISNULL(1)) {
    if (!state) PG_RETURN_NULL();
    PG_RETURN_POINTER(state);
  }
  /* The first row becomes the state: decode it straight into the
   * aggregate context. Later rows are decoded for the merge only. */
  crdt_pg_memory(state ? CurrentMemoryContext : aggcxt);
  crdt_object *row = crdt_pg_decode(PG_GETARG_VARLENA_PP(1), NULL,
                                    "reading a crdt value");
  join_into(&state, row, true);
  PG_RETURN_POINTER(state);
}

PG_FUNCTION_INFO_V1(crdt_pg_agg_final);
Datum crdt_pg_agg_final(PG_FUNCTION_ARGS) {
  (void)agg_context(fcinfo, "crdt_merge_agg_final");
  crdt_object *state = state_arg(fcinfo, 0);
  if (!state) PG_RETURN_NULL();
  crdt_pg_memory(CurrentMemoryContext);
  /* crdt_pg_encode frees its object only on error, and an error resets
   * the aggregate context anyway. */
  PG_RETURN_POINTER(crdt_pg_encode(state, 0));
}

PG_FUNCTION_INFO_V1(crdt_pg_agg_serial);
Datum crdt_pg_agg_serial(PG_FUNCTION_ARGS) {
  (void)agg_context(fcinfo, "crdt_merge_agg_serial");
  crdt_pg_memory(CurrentMemoryContext);
  PG_RETURN_POINTER(crdt_pg_encode(state_arg(fcinfo, 0), 0));
}

PG_FUNCTION_INFO_V1(crdt_pg_agg_deserial);
Datum crdt_pg_agg_deserial(PG_FUNCTION_ARGS) {
  (void)agg_context(fcinfo, "crdt_merge_agg_deserial");
  crdt_pg_memory(CurrentMemoryContext);
  PG_RETURN_POINTER(crdt_pg_decode(PG_GETARG_BYTEA_PP(0), NULL,
                                   "reading a parallel worker's state"));
}

PG_FUNCTION_INFO_V1(crdt_pg_agg_combine);
Datum crdt_pg_agg_combine(PG_FUNCTION_ARGS) {
  MemoryContext aggcxt = agg_context(fcinfo, "crdt_merge_agg_combine");
  crdt_object *state = state_arg(fcinfo, 0), *other = state_arg(fcinfo, 1);
  if (!other) {
    if (!state) PG_RETURN_NULL();
    PG_RETURN_POINTER(state);
  }
  if (!state) {
    /* `other` belongs to the caller and may live in a shorter context. */
    crdt_pg_memory(aggcxt);
    int rc = crdt_object_copy(other, &state);
    if (rc) crdt_pg_error(rc, "copying a parallel worker's state");
    PG_RETURN_POINTER(state);
  }
  crdt_pg_memory(CurrentMemoryContext);
  join_into(&state, other, false);
  PG_RETURN_POINTER(state);
}
