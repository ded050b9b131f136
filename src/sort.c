/*
 * Heapsort with context, and the repeated-dot check (see sort.h).
 */
#include <stdint.h>
#include <string.h>

#include "sort.h"

static void swap_bytes(unsigned char *a, unsigned char *b, size_t size) {
  for (; size >= 8; size -= 8, a += 8, b += 8) { /* words, then bytes */
    uint64_t x, y;
    memcpy(&x, a, 8);
    memcpy(&y, b, 8);
    memcpy(a, &y, 8);
    memcpy(b, &x, 8);
  }
  while (size--) {
    unsigned char t = *a;
    *a++ = *b;
    *b++ = t;
  }
}

static void sift_down(unsigned char *base, size_t root, size_t n, size_t size,
                      crdt__cmp_fn cmp, const void *ctx) {
  for (;;) {
    size_t child = 2 * root + 1;
    if (child >= n) return;
    if (child + 1 < n &&
        cmp(base + child * size, base + (child + 1) * size, ctx) < 0)
      child++;
    if (cmp(base + root * size, base + child * size, ctx) >= 0) return;
    swap_bytes(base + root * size, base + child * size, size);
    root = child;
  }
}

void crdt__sort(void *base, size_t n, size_t size, crdt__cmp_fn cmp,
                const void *ctx) {
  unsigned char *b = base;
  if (n < 2) return;
  for (size_t i = n / 2; i-- > 0;) sift_down(b, i, n, size, cmp, ctx);
  for (size_t end = n - 1; end > 0; end--) {
    swap_bytes(b, b + end * size, size);
    sift_down(b, 0, end, size, cmp, ctx);
  }
}

static int u64_cmp(const void *a, const void *b, const void *ctx) {
  (void)ctx;
  const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* Is a counter range dense enough for a bitmap (at most about 2 bits per
 * counter held, as wire_store.c's bucket pass)? */
static bool dense(uint64_t lo, uint64_t hi, size_t count) {
  return hi - lo <= 2 * (uint64_t)count + 64;
}

int crdt__dots_repeat(const crdt__dot *dots, size_t n, uint32_t ranks,
                      const crdt_allocator *m, bool *repeat) {
  *repeat = false;
  if (n < 2) return 0;
  size_t *start = crdt__calloc(m, (size_t)ranks + 1, sizeof *start);
  uint64_t *lo = crdt__alloc(m, crdt__mul(ranks, sizeof *lo));
  uint64_t *hi = crdt__calloc(m, ranks, sizeof *hi);
  uint64_t *counters = crdt__alloc(m, crdt__mul(n, sizeof *counters));
  uint64_t *bits = NULL;
  size_t words = 0;
  int rc = CRDT_ENOMEM;
  if (!start || !lo || !hi || !counters) goto done;
  for (uint32_t r = 0; r < ranks; r++) lo[r] = UINT64_MAX;
  for (size_t i = 0; i < n; i++) { /* counts per rank, and their ranges */
    const crdt__dot d = dots[i];
    start[d.replica + 1]++;
    if (d.counter < lo[d.replica]) lo[d.replica] = d.counter;
    if (d.counter > hi[d.replica]) hi[d.replica] = d.counter;
  }
  for (uint32_t r = 0; r < ranks; r++) {
    const size_t count = start[r + 1];
    start[r + 1] += start[r];
    if (count > 1 && dense(lo[r], hi[r], count)) {
      const size_t w = (size_t)((hi[r] - lo[r]) / 64 + 1);
      if (w > words) words = w;
    }
  }
  if (words && !(bits = crdt__alloc(m, crdt__mul(words, sizeof *bits))))
    goto done;
  for (size_t i = 0; i < n; i++) /* grouped by rank: start[r] moves up */
    counters[start[dots[i].replica]++] = dots[i].counter;
  rc = 0;
  for (uint32_t r = 0; r < ranks && !*repeat; r++) {
    /* rank r's counters are now counters[start[r - 1] .. start[r]) */
    const size_t from = r ? start[r - 1] : 0, count = start[r] - from;
    uint64_t *c = counters + from;
    if (count < 2) continue;
    if (dense(lo[r], hi[r], count)) {
      memset(bits, 0, (size_t)((hi[r] - lo[r]) / 64 + 1) * sizeof *bits);
      for (size_t i = 0; i < count && !*repeat; i++) {
        const uint64_t k = c[i] - lo[r], bit = (uint64_t)1 << (k % 64);
        *repeat = bits[k / 64] & bit;
        bits[k / 64] |= bit;
      }
    } else {
      crdt__sort(c, count, sizeof *c, u64_cmp, NULL);
      for (size_t i = 1; i < count && !*repeat; i++) *repeat = c[i - 1] == c[i];
    }
  }
done:
  crdt__free(m, start, start ? ((size_t)ranks + 1) * sizeof *start : 0);
  crdt__free(m, lo, lo ? ranks * sizeof *lo : 0);
  crdt__free(m, hi, hi ? ranks * sizeof *hi : 0);
  crdt__free(m, counters, counters ? n * sizeof *counters : 0);
  crdt__free(m, bits, words * sizeof *bits);
  return rc;
}
