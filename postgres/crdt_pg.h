/*
 * The PostgreSQL extension `crdt`: what its source files share.
 *
 *   support.c    memory (the library's allocator hook on palloc), errors,
 *                decoding and encoding `crdt` datums
 *   type.c       the type: text and binary I/O, equality, hashing, and the
 *                functions that read or merge states
 *   update.c     crdt_update / crdt_update_delta: every mutator of every
 *                type through one function (crdt_object_update)
 *   aggregate.c  crdt_merge_agg: transition, final, combine, serialize
 *
 * A `crdt` datum is a varlena holding one canonical libcrdt blob
 * (docs/format.md), nothing else: its bytes are what crdt_encode() wrote,
 * so equal states are equal datums, and send/recv and the casts to and from
 * bytea move exactly those bytes.
 *
 * Rules every entry point follows:
 * - It binds the library's allocator to a memory context (crdt_pg_memory)
 *   before its first library call. The library copies the default hook
 *   into each object it creates, and a hook left pointing at a context
 *   that has since been reset would be a use after free.
 * - Library errors become ereport(ERROR) through crdt_pg_error(). Objects a
 *   function created are freed first where it can; whatever is left lives
 *   in a memory context that PostgreSQL resets when the error unwinds, so
 *   nothing leaks. The library never aborts or exits (it returns codes).
 * - Every byte string from outside (text input, binary input, bytea casts,
 *   function arguments, aggregate serial states) is decoded, and so fully
 *   validated, before anything trusts it.
 */
#ifndef CRDT_PG_H
#define CRDT_PG_H

#include "postgres.h"

#include "fmgr.h"
#include "utils/memutils.h"

#include <crdt/crdt.h>

/* The module's own helpers are not entry points: keep them out of the
 * dynamic symbol table (the PG_FUNCTION_INFO_V1 functions stay visible). */
#if defined(__GNUC__)
#define CRDT_PG_LOCAL __attribute__((visibility("hidden")))
#else
#define CRDT_PG_LOCAL
#endif

/* Objects the library creates from now on allocate in `cxt` (palloc with
 * MCXT_ALLOC_NO_OOM: out of memory is CRDT_ENOMEM, then an ERROR). */
CRDT_PG_LOCAL void crdt_pg_memory(MemoryContext cxt);

/* ereport(ERROR) for the library's error `rc`: the message is the
 * library's, the detail names the code and what failed (`doing`, e.g.
 * "reading a crdt value"). The SQLSTATE follows the code. */
CRDT_PG_LOCAL pg_attribute_noreturn() void crdt_pg_error(int rc, const char *doing);

/* The type called `name` ("orset", ...); an ERROR naming the types when
 * there is none. */
CRDT_PG_LOCAL crdt_type crdt_pg_type_named(const char *name);

/* Decodes a crdt datum (already detoasted) into a new object allocated in
 * the context bound by crdt_pg_memory(), owned by `replica` (NULL: a
 * receive-only object). Errors out on any invalid blob. */
CRDT_PG_LOCAL crdt_object *crdt_pg_decode(const struct varlena *value, const char *replica,
                            const char *doing);

/* Decodes `len` bytes from outside (text, binary or bytea input): the same
 * as crdt_pg_decode but the SQLSTATE says the input was invalid. Returns
 * nothing: the bytes are only checked. */
CRDT_PG_LOCAL void crdt_pg_validate(const void *data, size_t len, const char *doing);

/* Encodes `obj` into a new crdt datum allocated in CurrentMemoryContext.
 * `guess` is a size to try first (0: ask the encoder), saving the encoder's
 * planning pass when it is right. On error frees `obj` and errors out. */
CRDT_PG_LOCAL struct varlena *crdt_pg_encode(crdt_object *obj, size_t guess);

/* The datum's blob. (The server's macros take non-const pointers; they
 * only read.) */
static inline const void *crdt_pg_bytes(const struct varlena *v) {
  struct varlena *m = (struct varlena *)(uintptr_t)v;
  return VARDATA_ANY(m);
}
static inline size_t crdt_pg_size(const struct varlena *v) {
  struct varlena *m = (struct varlena *)(uintptr_t)v;
  return VARSIZE_ANY_EXHDR(m);
}

#endif /* CRDT_PG_H */
