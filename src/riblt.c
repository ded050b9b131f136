/*
 * Rateless IBLT (see riblt.h).
 */
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "riblt.h"

#define CHECK_SEED UINT64_C(0x52494C54) /* "RILT" */

uint64_t crdt__riblt_check(uint64_t item) {
  uint8_t b[8];
  for (int i = 0; i < 8; i++) b[i] = (uint8_t)(item >> (8 * i));
  return XXH3_64bits_withSeed(b, sizeof b, CHECK_SEED);
}

static uint64_t splitmix(uint64_t *s) {
  uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

/* The index after i in an item's sequence (state s). With u uniform in
 * (0, 1], the next index j solves j + 1.5 = (i + 1.5) / sqrt(u). sqrt(u)
 * is drawn directly as the larger of two uniform numbers (P(max <= v) =
 * v^2), so no square root is computed: q = max of the two 32-bit halves of
 * a splitmix64 output (| 1: never 0), sqrt(u) = q / 2^32. Past 2^30 the
 * sequence ends (UINT32_MAX): no sketch is that long. */
static uint32_t next_index(uint64_t *s, uint32_t i) {
  if (i >= (UINT32_C(1) << 30)) return UINT32_MAX;
  uint64_t r = splitmix(s);
  uint64_t hi = r >> 32, lo = r & UINT32_MAX;
  uint64_t q = (hi > lo ? hi : lo) | 1;
  uint64_t a = 2 * (uint64_t)i + 3;     /* 2 (i + 1.5) */
  uint64_t t = ((a << 32) + q - 1) / q; /* ceil(a * 2^32 / q) > a */
  uint64_t j = (t - 2) / 2;             /* ceil((t - 3) / 2) >= i + 1 */
  return j > UINT32_MAX ? UINT32_MAX : (uint32_t)j;
}

void crdt__riblt_add(crdt__rcell *cells, uint32_t m, uint64_t x, int sign) {
  uint64_t state = crdt__riblt_check(x);
  const uint32_t check = (uint32_t)state;
  for (uint32_t i = 0; i < m; i = next_index(&state, i)) {
    cells[i].key ^= x;
    cells[i].check ^= check;
    cells[i].count += sign;
  }
}

void crdt__riblt_subtract(crdt__rcell *cells, const crdt__rcell *other,
                          uint32_t m) {
  for (uint32_t i = 0; i < m; i++) {
    cells[i].key ^= other[i].key;
    cells[i].check ^= other[i].check;
    cells[i].count -= other[i].count;
  }
}

void crdt__riblt_diff_free(crdt__riblt_diff *d, const crdt_allocator *m) {
  crdt__free(m, d->mine, d->cap_mine * sizeof *d->mine);
  crdt__free(m, d->theirs, d->cap_theirs * sizeof *d->theirs);
  memset(d, 0, sizeof *d);
}

static bool pure(const crdt__rcell *c) {
  return (c->count == 1 || c->count == -1) &&
         (uint32_t)crdt__riblt_check(c->key) == c->check;
}

static bool empty(const crdt__rcell *c) {
  return c->count == 0 && c->key == 0 && c->check == 0;
}

static int push(uint64_t **items, uint32_t *n, uint32_t *cap, uint64_t x,
                const crdt_allocator *m) {
  if (*n == *cap) {
    uint32_t ncap = crdt__grow_cap(*cap, 16, *n + 1);
    uint64_t *p = crdt__realloc(m, *items, *cap * sizeof *p, ncap * sizeof *p);
    if (!p) return CRDT_ENOMEM;
    *items = p;
    *cap = ncap;
  }
  (*items)[(*n)++] = x;
  return 0;
}

/* Peeling with a stack of cells that may be pure (each cell is pushed when
 * it changes, and checked again when popped). */
int crdt__riblt_decode(crdt__rcell *cells, uint32_t m, const crdt_allocator *mem,
                       crdt__riblt_diff *out) {
  uint32_t cap = m ? m : 1, top = 0;
  uint32_t *stack = crdt__alloc(mem, crdt__mul(cap, sizeof *stack));
  if (!stack) return CRDT_ENOMEM;
  int rc = 0;
  uint64_t budget = 2 * (uint64_t)m + 64;
  for (uint32_t i = m; i-- > 0;)
    if (pure(&cells[i])) stack[top++] = i;
  while (top && rc == 0) {
    const uint32_t i = stack[--top];
    if (!pure(&cells[i])) continue;
    if (budget-- == 0) break;
    const uint64_t x = cells[i].key;
    const int sign = cells[i].count == 1 ? 1 : -1;
    rc = sign > 0 ? push(&out->mine, &out->nmine, &out->cap_mine, x, mem)
                  : push(&out->theirs, &out->ntheirs, &out->cap_theirs, x, mem);
    if (rc) break;
    uint64_t state = crdt__riblt_check(x);
    const uint32_t check = (uint32_t)state;
    for (uint32_t j = 0; j < m; j = next_index(&state, j)) {
      cells[j].key ^= x;
      cells[j].check ^= check;
      cells[j].count -= sign;
      if (pure(&cells[j])) {
        if (top == cap) { /* a cell may sit on the stack more than once */
          uint32_t ncap = crdt__grow_cap(cap, 16, top + 1);
          uint32_t *p = crdt__realloc(mem, stack, cap * sizeof *p,
                                      ncap * sizeof *p);
          if (!p) {
            rc = CRDT_ENOMEM;
            break;
          }
          stack = p;
          cap = ncap;
        }
        stack[top++] = j;
      }
    }
  }
  crdt__free(mem, stack, cap * sizeof *stack);
  if (rc) return rc;
  for (uint32_t i = 0; i < m; i++)
    if (!empty(&cells[i])) return 1;
  return 0;
}
