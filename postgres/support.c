/*
 * Memory, errors and the datum <-> object conversions of the extension
 * (crdt_pg.h).
 */
#include "crdt_pg.h"

#include <limits.h>

#include "utils/elog.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

/* crdt.debug_fail_allocation: when set to N > 0, the N-th allocation the
 * library makes after the setting fails (once), so that tests can walk
 * every allocation point of a statement and see CRDT_ENOMEM become an
 * ERROR. Superuser only; 0 (off) by default. */
static int fail_allocation;
static int64 allocations;

static void reset_allocations(int newval, void *extra) {
  (void)newval;
  (void)extra;
  allocations = 0;
}

void _PG_init(void);
void _PG_init(void) {
  DefineCustomIntVariable(
      "crdt.debug_fail_allocation",
      "Makes the N-th allocation of libcrdt after this setting fail (tests).",
      "0 turns it off.", &fail_allocation, 0, 0, INT_MAX, PGC_SUSET, 0, NULL,
      reset_allocations, NULL);
  MarkGUCPrefixReserved("crdt");
}

static bool injected_failure(void) {
  return fail_allocation > 0 && ++allocations == fail_allocation;
}

/* ---- memory ---------------------------------------------------------------- */

/* The hook's user pointer is the memory context the object was created in;
 * repalloc and pfree find a chunk's context themselves. Sizes past what
 * palloc accepts are refused here, so that palloc never raises an ERROR
 * from inside a library call (the library would be unwound half-way). */

static void *pg_alloc(void *user, size_t size) {
  if (size > MaxAllocHugeSize || injected_failure()) return NULL;
  return MemoryContextAllocExtended((MemoryContext)user, size,
                                    MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
}

static void *pg_realloc(void *user, void *ptr, size_t old_size,
                        size_t new_size) {
  (void)user;
  (void)old_size;
  if (new_size > MaxAllocHugeSize || injected_failure()) return NULL;
  return repalloc_extended(ptr, new_size, MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
}

static void pg_free(void *user, void *ptr, size_t size) {
  (void)user;
  (void)size;
  pfree(ptr);
}

void crdt_pg_memory(MemoryContext cxt) {
  const crdt_allocator hook = {pg_alloc, pg_realloc, pg_free, cxt};
  /* Only fails for NULL function pointers. */
  (void)crdt_set_allocator(&hook);
}

/* ---- errors ------------------------------------------------------------------ */

static int sqlstate_of(int rc) {
  switch (rc) {
  case CRDT_ENOMEM: return ERRCODE_OUT_OF_MEMORY;
  case CRDT_EINVAL: return ERRCODE_INVALID_PARAMETER_VALUE;
  case CRDT_ERANGE:
  case CRDT_EOVERFLOW: return ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE;
  case CRDT_ETYPE: return ERRCODE_DATATYPE_MISMATCH;
  case CRDT_ENOTSUP: return ERRCODE_FEATURE_NOT_SUPPORTED;
  case CRDT_ENOREPLICA: return ERRCODE_INVALID_PARAMETER_VALUE;
  case CRDT_ETOOMANY:
  case CRDT_ENOSPC: return ERRCODE_PROGRAM_LIMIT_EXCEEDED;
  default: return ERRCODE_INVALID_BINARY_REPRESENTATION; /* decoding */
  }
}

void crdt_pg_error(int rc, const char *doing) {
  ereport(ERROR, (errcode(sqlstate_of(rc)), errmsg("crdt: %s", crdt_strerror(rc)),
                  errdetail("Library error %s while %s.", crdt_err_name(rc),
                            doing)));
  pg_unreachable();
}

crdt_type crdt_pg_type_named(const char *name) {
  crdt_type type;
  if (crdt_type_from_name(name, &type) != 0)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("crdt: unknown type \"%s\"", name),
                    errhint("Types: gcounter, pncounter, orset, mvreg, cart, "
                            "lwwreg.")));
  return type;
}

/* ---- datums ------------------------------------------------------------------ */

crdt_object *crdt_pg_decode(const struct varlena *value, const char *replica,
                            const char *doing) {
  crdt_object *obj;
  int rc = crdt_decode(crdt_pg_bytes(value), crdt_pg_size(value), replica,
                       &obj);
  if (rc) crdt_pg_error(rc, doing);
  return obj;
}

void crdt_pg_validate(const void *data, size_t len, const char *doing) {
  crdt_object *obj;
  int rc = crdt_decode(data, len, NULL, &obj);
  if (rc) crdt_pg_error(rc, doing);
  crdt_object_free(obj);
}

struct varlena *crdt_pg_encode(crdt_object *obj, size_t guess) {
  size_t size = guess;
  struct varlena *out = NULL;
  int rc = CRDT_ENOSPC;
  if (guess && guess <= MaxAllocSize - VARHDRSZ) {
    out = palloc(VARHDRSZ + guess);
    rc = crdt_encode(obj, VARDATA(out), guess, &size);
  } else {
    rc = crdt_encode(obj, NULL, 0, &size);
  }
  if (rc == CRDT_ENOSPC) {
    if (out) pfree(out);
    out = NULL;
    if (size > MaxAllocSize - VARHDRSZ) {
      crdt_object_free(obj);
      ereport(ERROR,
              (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
               errmsg("crdt: state too large (%zu bytes encoded)", size),
               errdetail("A crdt value holds at most %zu bytes.",
                         (size_t)(MaxAllocSize - VARHDRSZ))));
    }
    out = palloc(VARHDRSZ + size);
    rc = crdt_encode(obj, VARDATA(out), size, &size);
  }
  if (rc) {
    crdt_object_free(obj);
    crdt_pg_error(rc, "encoding a state");
  }
  SET_VARSIZE(out, VARHDRSZ + size);
  return out;
}
