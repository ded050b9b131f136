/*
 * History fuzz target for the map: the input is a script of map updates and
 * syncs across three replicas, run in lockstep with the map's reference
 * model (tests/support/map_model.c), as fuzz_history.c does for the flat
 * types. After every step the touched replica must print the model's value
 * and context, compare() against the others as the model's sets do, and
 * its readers must agree; every update's return code and delta must match
 * (CRDT_ENOENT cases included); every delta group must equal the model's.
 * At the end: commutative, idempotent and associative merges, the join of
 * every delta as one group equal to the join of the full states, and
 * identical bytes after encode/decode.
 *
 * Script (docs/verification-map.md has the same table):
 *   byte 0        flags: bit 0 checks every reader on every field after
 *                 each step (else the updated field's)
 *   then commands, each an opcode byte `op` and its argument bytes;
 *   r = (op & 3) % 3 is the replica, c = op >> 2:
 *   c  0..39  update at r: kind c % 10 (inc, dec, add, remove element,
 *             MV set, LWW set, enable, disable, remove field, inc), through
 *             crdt_object_update when (c / 10) is odd; two bytes follow:
 *             p: depth 1 + p % 3, name i = NAMES[(p >> (2 + 2i)) & 3];
 *             a: item ITEMS[a & 7]; amount (a >> 3) + 1, or an edge value
 *             for a >= 0xF8; timestamp a >> 4; removed type 1 + a % 6
 *   c 40..48  r merges the full state of replica (c - 40) / 3, directly,
 *             as bytes, or as bytes decoded with r's id ((c - 40) % 3)
 *   c 49..51  r receives the delta of event a % events (a: one byte)
 *   c 52..57  r receives a group of 1 + a % 8 deltas (a, then one byte per
 *             event), as bytes when c is odd
 *   c 58..63  r reloads its state from its own encoding
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crdt/crdt.h"
#include "fuzz.h"
#include "map_model.h"

void fuzz_fail(const char *what) {
  fprintf(stderr, "fuzz property failed: %s\n", what);
  abort();
}

#define MAX_SCRIPT 4096

static const char *const IDS[3] = {"B", "A", "node-7"};

/* Names that collide: a prefix of another, the empty name, not UTF-8. */
static const crdt_bytes NAMES[4] = {
    {"a", 1}, {"ab", 2}, {"", 0}, {"\0\xff", 2}};

static const crdt_bytes ITEMS[8] = {
    {"", 0},         {"x", 1},         {"y", 1},   {"\"\\", 2},
    {"\0\xff", 2},   {"\xc3\xa9", 2},  {"x\n\t", 3},
    {"a value longer than twelve bytes", 32}};

static const uint64_t EDGES[8] = {
    (uint64_t)INT64_MAX,     (uint64_t)INT64_MAX + 1, (uint64_t)INT64_MAX - 1,
    (uint64_t)INT64_MAX / 2, UINT64_MAX,              1ull << 62,
    1000000,                 0};

static const mm_kind KINDS[10] = {MM_INC,     MM_DEC,     MM_ADD,   MM_RMELEM,
                                  MM_MVSET,   MM_LWWSET,  MM_ENABLE,
                                  MM_DISABLE, MM_REMOVE,  MM_INC};

typedef struct script {
  const uint8_t *p, *end;
} script;

static bool next(script *s, uint8_t *b) {
  if (s->p == s->end) return false;
  *b = *s->p++;
  return true;
}

static void update(map_sim *s, unsigned r, unsigned c, uint8_t p, uint8_t a) {
  crdt_bytes names[3];
  mm_op op = {0};
  op.kind = KINDS[c % 10];
  op.path = (crdt_path){names, 1 + p % 3};
  for (unsigned i = 0; i < 3; i++) names[i] = NAMES[(p >> (2 + 2 * i)) & 3];
  op.arg = ITEMS[a & 7];
  op.n = a >= 0xF8 ? EDGES[a - 0xF8] : (uint64_t)(a >> 3) + 1;
  op.ts = a >> 4;
  op.type = (crdt_field_type)(1 + a % 6);
  ms_update(s, r, &op, (c / 10) & 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  script in = {data + 1, data + (size < MAX_SCRIPT ? size : MAX_SCRIPT)};
  map_sim *s = ms_new(3, IDS, fuzz_fail);
  FUZZ_CHECK(s != NULL);
  /* Out-of-order deltas: the known issue (docs/verification.md), which
   * every map field type whose updates replace dots shares. */
  s->check_determined = false;
  s->check_readers = data[0] & 1;
  uint8_t op, a, p;
  while (next(&in, &op) && !mm_full(&s->m)) {
    unsigned r = (op & 3) % 3, c = op >> 2, nev = s->m.nevents;
    if (c < 40) {
      if (!next(&in, &p) || !next(&in, &a)) break;
      update(s, r, c, p, a);
    } else if (c < 49) {
      ms_sync(s, (c - 40) / 3, r, (c - 40) % 3);
    } else if (c < 52) {
      if (!next(&in, &a)) break;
      if (nev) ms_deliver(s, a % nev, r);
    } else if (c < 58) {
      if (!next(&in, &a)) break;
      unsigned ev[8];
      size_t n = 0, want = 1 + a % 8;
      uint8_t b;
      while (n < want && next(&in, &b))
        if (nev) ev[n++] = b % nev;
      if (n) ms_deliver_group(s, ev, n, r, (c & 1) != 0);
    } else {
      ms_restart(s, r);
    }
  }
  ms_check_final(s);
  ms_free(s);
  return 0;
}
