/*
 * The libFuzzer entry point every fuzz target defines; replay.c calls it
 * for each corpus file so ctest runs the corpora without libFuzzer.
 */
#ifndef CRDT_FUZZ_H
#define CRDT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "crdt/crdt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property failed: print and abort, so libFuzzer (and ctest) see it. */
void fuzz_fail(const char *what);

/* The type an input's byte names, 1 + byte % ntypes; or, when the
 * environment variable CRDT_FUZZ_TYPE holds a type name ("map", "orset",
 * ...), always that type, for a campaign on one type:
 *   CRDT_FUZZ_TYPE=map scripts/fuzz.sh 600 sync_history
 * A name that is not a type is a property failure (a campaign that would
 * silently fuzz the wrong thing). */
static inline crdt_type fuzz_type(uint8_t byte, unsigned ntypes) {
  static int pinned = -1; /* not read yet */
  if (pinned < 0) {
    const char *name = getenv("CRDT_FUZZ_TYPE");
    crdt_type t = 0;
    if (name && *name && crdt_type_from_name(name, &t))
      fuzz_fail("CRDT_FUZZ_TYPE names no type");
    pinned = name && *name ? (int)t : 0;
  }
  return pinned ? (crdt_type)pinned : (crdt_type)(1 + byte % ntypes);
}

#define FUZZ_CHECK(cond)                                                       \
  do {                                                                         \
    if (!(cond)) fuzz_fail(#cond);                                             \
  } while (0)

#endif
