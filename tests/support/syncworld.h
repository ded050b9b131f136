/*
 * Replicas of one type joined pairwise by sync sessions, run in lockstep
 * with the reference model (model.h for the flat types, map_model.h for
 * the map, behind syncmodel.h): the world of tests/test_sync_model.c and
 * fuzz/fuzz_sync_history.c. Plain C (no cmocka): failures go to the
 * `fail` hook, which must not return.
 *
 * After every message a replica receives, what its context says it has
 * seen (K) decides what the model expects: its context must be closed
 * (every update it names comes with the updates that one superseded), its
 * live dots a subset of the model's live dots of K (never "behind"; an
 * unfinished round may have applied removals whose removing update is not
 * in K yet: "ahead"), and when they are equal it is checked against the
 * model like after any update (value, context, compare() with the others).
 * Updates and outside merges happen only at replicas the model is in step
 * with.
 */
#ifndef CRDT_TEST_SYNCWORLD_H
#define CRDT_TEST_SYNCWORLD_H

#include <stdbool.h>
#include <stdint.h>

#include "crdt/crdt.h"

typedef struct sworld sworld;

/* n replicas (2 .. MODEL_MAX_REPLICAS) of `type`; NULL when out of memory. */
sworld *sworld_new(crdt_type type, unsigned n, void (*fail)(const char *what));
void sworld_free(sworld *w);

/* What a step does, between replica i and replica j (i != j):
 *   UPDATE    an update at i (arg picks kind and key; for the map also
 *             the path and the field type)
 *   PRODUCE   session i -> j produces up to 1 + arg % 3 messages (caps of
 *             400, 2000 or 65536 bytes by arg / 3)
 *   DELIVER   message arg % queued of i -> j arrives at j, out of order;
 *             kept queued (a duplicate) when arg / 64 % 8 == 0
 *   DROP      message arg % queued of i -> j is lost
 *   RESTART   session i -> j starts a new round
 *   BOUNCE    session i -> j is freed and restored from its saved state
 *             (arg odd), or recreated fresh (a lost session)
 *   RELOAD    replica i reloads its state from its encoding; its sessions
 *             saved and restored (arg odd) or lost
 *   MERGE     i merges j's whole state outside any session (through
 *             bytes or not, by arg) */
typedef enum sworld_op {
  SW_UPDATE, SW_PRODUCE, SW_DELIVER, SW_DROP, SW_RESTART, SW_BOUNCE,
  SW_RELOAD, SW_MERGE, SW_OPS
} sworld_op;

void sworld_step(sworld *w, sworld_op op, unsigned i, unsigned j, unsigned arg);

/* Syncs every pair (each restarting, as after a reconnect) until all are
 * equal, then checks them against the model of all events. */
void sworld_converge(sworld *w);

/* States checked against the model so far. */
unsigned long sworld_checks(const sworld *w);
unsigned sworld_replicas(const sworld *w);

#endif
