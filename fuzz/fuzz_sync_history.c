/*
 * Sync-history fuzz target: the input is a script of steps among 3 to 5
 * replicas of one type joined pairwise by sync sessions
 * (tests/support/syncworld.h, the world of tests/test_sync_model.c): updates,
 * messages produced, delivered out of order, duplicated and lost, sessions
 * restarted, saved and restored or forgotten, replicas reloaded, full-state
 * merges. After every received message the receiver is checked against the
 * reference model (never behind, a closed context, and when it is in step
 * the model's value and context); at the end every pair syncs until quiet
 * and all must equal the model of every event.
 *
 * Script (docs/verification.md has the same table):
 *   byte 0   type: 1 + byte % 8 (gcounter .. lwwreg, flag, map)
 *   byte 1   replicas: 3 + byte % 3
 *   then steps of four bytes: op, i/j, arg (two bytes, little-endian)
 *     op % 8   0 update, 1 produce, 2 deliver, 3 drop, 4 restart,
 *              5 bounce (save+restore when arg is odd, else lost),
 *              6 reload (sessions kept when arg is odd), 7 full merge
 *     i/j      i = low nibble, j = high nibble (both mod replicas; j != i)
 *   at most 400 steps are run.
 */
#include <stdio.h>
#include <stdlib.h>

#include "crdt/crdt.h"
#include "fuzz.h"
#include "syncworld.h"

void fuzz_fail(const char *what) {
  fprintf(stderr, "fuzz property failed: %s\n", what);
  abort();
}

#define MAX_STEPS 400

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  crdt_type type = fuzz_type(data[0], 8);
  unsigned n = 3 + data[1] % 3;
  sworld *w = sworld_new(type, n, fuzz_fail);
  FUZZ_CHECK(w != NULL);
  const uint8_t *p = data + 2, *end = data + size;
  for (unsigned step = 0; step < MAX_STEPS && end - p >= 4; step++, p += 4) {
    unsigned arg = (unsigned)p[2] | (unsigned)p[3] << 8;
    sworld_step(w, (sworld_op)(p[0] % SW_OPS), p[1] & 15, p[1] >> 4, arg);
  }
  sworld_converge(w);
  sworld_free(w);
  return 0;
}
