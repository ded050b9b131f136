/*
 * Driving two sync sessions against each other in one process (tests and
 * fuzzers): messages go through a queue per direction that can lose,
 * duplicate and reorder them.
 */
#ifndef CRDT_TEST_SYNCPUMP_H
#define CRDT_TEST_SYNCPUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crdt/crdt.h"

/* Lockstep exchange: in each tick, every side produces what it has (at
 * most `cap` bytes per message) given what it received in the previous
 * tick, and the messages are delivered. `b_waits`: b produces nothing
 * until it has received something (one side starts). Stops when both are
 * in sync and a tick carried nothing, or after max_ticks. Returns the
 * number of ticks that carried messages until both were in sync (a round
 * trip is two), or -1 when they never were; a library error is a test
 * failure (through the `fail` hook). Bytes each way in *ab, *ba. */
typedef struct tu_pump {
  size_t cap;
  bool b_waits;
  int max_ticks;
  uint64_t ab, ba;      /* bytes a -> b, b -> a */
  unsigned msgs_ab, msgs_ba;
  void (*fail)(const char *what, int rc);
} tu_pump;

int tu_pump_run(tu_pump *p, crdt_sync *a, crdt_sync *b);

/* Helpers of the sync tests; each aborts on a library error. */
crdt_object *tu_new_object(crdt_type t, const char *id);
crdt_sync *tu_new_session(crdt_object *o);
/* OR-set elements "item-<i>" for i in [from, to) (by `step`), added or
 * removed at o. */
void tu_add_items(crdt_object *o, unsigned from, unsigned to);
void tu_remove_items(crdt_object *o, unsigned from, unsigned to,
                     unsigned step);
/* Encoded size of o, and of its causal context. */
size_t tu_encoded_size(const crdt_object *o);
size_t tu_context_size(const crdt_object *o);
/* o through its encoding, owned by replica `owner`. */
crdt_object *tu_copy_as(const crdt_object *o, const char *owner);

#endif
