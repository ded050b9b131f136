/*
 * Heapsort with context (see sort.h).
 */
#include <stdint.h>
#include <string.h>

#include "sort.h"

static void swap_bytes(unsigned char *a, unsigned char *b, size_t size) {
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
