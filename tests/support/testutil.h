/*
 * Test support shared by every test binary: a counting allocator that can
 * fail on demand, an out-of-memory atomicity driver, and the CRDT law checks
 * (commutative, associative, idempotent merge; compare agrees with merge).
 */
#ifndef CRDT_TESTUTIL_H
#define CRDT_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "crdt/crdt.h"

/* ---- counting, failing allocator ---------------------------------------- */

/* Installs the counting allocator as the library default (idempotent). */
void tu_alloc_install(void);
/* Live bytes allocated through the hook. */
size_t tu_alloc_live(void);
/* Number of allocations (alloc + growing realloc) since install. */
unsigned long tu_alloc_count(void);
/* Makes allocation number `k` from now fail (0 = the next one); the ones
 * after it succeed again. k < 0 disarms. */
void tu_alloc_fail_at(long k);
/* true when an armed failure has fired since the last tu_alloc_fail_at. */
bool tu_alloc_fired(void);
/* Suspends an armed failure: allocations between tu_alloc_pause() and
 * tu_alloc_resume() always succeed and do not count towards the armed
 * allocation number, so a snapshot taken in the middle of a checked run
 * cannot fire (or use up) the failure meant for the operation. Pairs nest;
 * the outermost resume restores the armed state and the fired flag. */
void tu_alloc_pause(void);
void tu_alloc_resume(void);

/* ---- out-of-memory atomicity --------------------------------------------- */

/* One operation to check under allocation failure. setup builds fresh
 * fixtures (never fails); run performs the operation and returns its code;
 * snapshot returns a malloc'd canonical text of everything run may change;
 * teardown frees the fixtures. */
typedef struct tu_oom_case {
  const char *name;
  void *(*setup)(void);
  int (*run)(void *fixture);
  char *(*snapshot)(void *fixture);
  void (*teardown)(void *fixture);
} tu_oom_case;

/* For k = 0, 1, 2, ...: fail allocation k of run(). Asserts that each failed
 * run returns CRDT_ENOMEM and leaves the snapshot unchanged, that nothing
 * leaks, and that a run without failure succeeds. Returns the number of
 * allocation points exercised. */
unsigned tu_check_oom(const tu_oom_case *c);

/* Canonical text of any object: type, value JSON and context text. */
char *tu_object_text(const crdt_object *o);

/* ---- laws ---------------------------------------------------------------- */

/* Checks the join laws over every pair and triple of `states` (all of one
 * type): a⊔b = b⊔a, (a⊔b)⊔c = a⊔(b⊔c), a⊔a = a, a⊔b ⊒ a, and (for types
 * with a history) compare(a, b) agrees with whether a⊔b equals a or b.
 * Also checks that equal states print identically. */
void tu_check_laws(crdt_object *const *states, size_t n);

/* a ⊔ b as a new object (asserts success). */
crdt_object *tu_join(const crdt_object *a, const crdt_object *b);

/* A deterministic pseudo-random generator (xorshift64*). */
typedef struct tu_rng {
  unsigned long long s;
} tu_rng;
unsigned long long tu_rand(tu_rng *r);
/* Uniform in [0, n). */
unsigned tu_below(tu_rng *r, unsigned n);

/* ---- random histories ---------------------------------------------------- */

#define TU_HISTORY_REPLICAS 3
#define TU_HISTORY_DELTAS 256

/* Replicas r1, r2, r3 of one type after random steps, and the delta of
 * every update made. */
typedef struct tu_history {
  crdt_object *r[TU_HISTORY_REPLICAS];
  crdt_object *deltas[TU_HISTORY_DELTAS];
  size_t ndeltas;
} tu_history;

/* One random update of `replica` (owned) joined into `delta` (a fresh
 * owner-less object); returns the library's code, CRDT_ENOENT when the
 * update had nothing to act on (it is then dropped). */
typedef int (*tu_update_fn)(crdt_object *replica, crdt_object *delta,
                            tu_rng *rng);

/* `steps` steps, each a full-state merge between two random replicas (one
 * in 4) or an update at a random replica through `update`. */
void tu_history_run(tu_history *h, crdt_type type, tu_update_fn update,
                    unsigned long long seed, int steps);
void tu_history_free(tu_history *h);

/* tu_check_laws on the replicas and the first and last deltas of random
 * histories. */
void tu_check_history_laws(crdt_type type, tu_update_fn update);

/* On random histories: every delta, shuffled and partly duplicated, then
 * all in order; all of them grouped first (newest first); and every
 * replica's state through encode/decode, each give the full-state merge of
 * the replicas. */
void tu_check_history_deltas(crdt_type type, tu_update_fn update);

/* For the counters: a sink merged from one-replica states one at a time
 * (the join's path for a source with one replica) equals a sink merged
 * from the group of the same states (the path for a source with many),
 * whatever the sink knew before, stale states included. `update(c, n)`
 * makes an update of size n >= 1 at c's replica. */
void tu_check_single_replica_merges(crdt_type type, unsigned long long seed,
                                    void (*update)(crdt_object *c,
                                                   uint64_t n));

#endif
