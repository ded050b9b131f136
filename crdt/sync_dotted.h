/*
 * Sync sessions for the dot-based types, internal: helpers shared by
 * sync_dotted.c (plan, chunks) and sync_drops.c (resolving removals, LIVE
 * lists, the final join). The contract with the session is syncops.h.
 */
#ifndef CRDT_TYPES_SYNC_DOTTED_H
#define CRDT_TYPES_SYNC_DOTTED_H

#include "leaf.h"
#include "syncops.h"

/* How the object's replica indexes relate to the round's snapshots: per
 * object replica index, its index in this side's snapshot, in the peer's
 * (CRDT__NO_REPLICA when absent) and its rank among the common replicas
 * (UINT32_MAX when not common). */
typedef struct crdt__sd_maps {
  uint32_t *mine, *peer, *common;
  uint32_t n;
} crdt__sd_maps;

int crdt__sd_maps_make(crdt__sd_maps *mp, const crdt__cold *k,
                       const crdt__replicas *r, const crdt_allocator *m);
void crdt__sd_maps_free(crdt__sd_maps *mp, const crdt_allocator *m);

/* Is (replica index idx of s, counter) in the snapshot s? */
static inline bool crdt__sd_in_sctx(const crdt__sctx *s, uint32_t idx,
                                    uint64_t counter) {
  return idx != CRDT__NO_REPLICA &&
         crdt__ctx_has(&s->c, (crdt__dot){counter, idx});
}

/* Adds dot (id of `from` index `ri`, counter, value) to the context of the
 * keyed delta t, and to leaf `at` (made when absent) when `store`. */
int crdt__sd_put_dot(crdt__causal *t, const crdt_allocator *m,
                     const crdt__leaf *at, const crdt__replicas *from,
                     uint32_t ri, uint64_t counter, int64_t value, bool store);
/* Leaf `at` in the change's delta, created as a marker: listed, so that
 * the join kills the dots of it the delta's context names. */
int crdt__sd_change_key(crdt__change *ch, const crdt_allocator *m,
                        const crdt__leaf *at);
/* Kills dot d of leaf `at` of state c in the change: the leaf listed, the
 * dot in the context but not in the store. */
int crdt__sd_change_kill(crdt__change *ch, const crdt_allocator *m,
                         const crdt__causal *c, const crdt__leaf *at,
                         const crdt__dv *d);
/* ctx (indexes of `reps`) joined into (*into, its table). */
int crdt__sd_join_ctx(crdt__ctx *into, crdt__replicas *into_reps,
                      const crdt_allocator *m, const crdt__ctx *ctx,
                      const crdt__replicas *reps);

#endif
