/*
 * The shared base of the counters (G-Counter, PN-Counter): an object header,
 * the kernel's per-replica vector (src/pervec.h) and the owner replica.
 * Merge, equality, copy, comparison, freeing and the wire format are the
 * same for both and live here once; each counter adds its updates and how
 * its value is read.
 */
#ifndef CRDT_TYPES_COUNTER_H
#define CRDT_TYPES_COUNTER_H

#include "pervec.h"
#include "type.h"

typedef struct crdt__counter {
  struct crdt_object base;
  crdt__pervec v;
  uint32_t self; /* owner's replica index, or CRDT__NO_REPLICA */
} crdt__counter;

static inline crdt__counter *crdt__counter_of(crdt_object *o) {
  return (crdt__counter *)o;
}
static inline const crdt__counter *crdt__counter_cof(const crdt_object *o) {
  return (const crdt__counter *)o;
}

/* A new counter; the owner is interned with a zero entry, so updates never
 * allocate in the counter itself. replica NULL: delta / receive-only. */
int crdt__counter_create(const crdt__type *t, const char *replica,
                         crdt_object **out);

/* The type-table operations shared by the counters. */
int crdt__counter_merge(crdt_object *dst, const crdt_object *src);
bool crdt__counter_equal(const crdt_object *a, const crdt_object *b);
int crdt__counter_copy(const crdt_object *src, crdt_object **out);
int crdt__counter_compare(const crdt_object *a, const crdt_object *b,
                          crdt_order *out);
void crdt__counter_destroy(crdt_object *o);
const char *crdt__counter_replica(const crdt_object *o);
int crdt__counter_context_text(const crdt_object *o, crdt__text *t);
int crdt__counter_context(const crdt_object *o, crdt_context **out);

/* Argument checks of every update, in the documented order: CRDT_EINVAL
 * (NULL, n == 0, delta == c), CRDT_ETYPE, CRDT_ENOREPLICA. */
int crdt__counter_check(const crdt__counter *c, uint64_t n,
                        const crdt_object *delta);

/* One update adding n to payload k, after the caller's range checks: the
 * owner's entry gets one more event; the delta (may be NULL) joins the new
 * entry. Fallible steps first; on error nothing changes. */
int crdt__counter_apply(crdt__counter *c, unsigned k, uint64_t n,
                        crdt_object *delta);

/* Wire format: `words` payload totals per replica (1 or 2). */
struct crdt__wbuf;
struct crdt__rbuf;
void crdt__counter_encode(const crdt_object *o, struct crdt__wbuf *w,
                          unsigned words);
int crdt__counter_decode(const crdt__type *t, struct crdt__rbuf *body,
                         const char *replica, unsigned words,
                         crdt_object **out);

#endif
