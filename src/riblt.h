/*
 * Rateless invertible Bloom lookup tables (Yang, Gilad, Alizadeh,
 * "Practical Rateless Set Reconciliation", SIGCOMM 2024), written from the
 * paper's description: two parties holding sets A and B of 64-bit items
 * reconcile them with about 1.35 |A xor B| coded cells for large
 * differences (more, relatively, for small ones), without knowing the size
 * of the difference in advance: the cells form an endless sequence, and any
 * prefix long enough decodes.
 *
 * A cell sums the items mapped to it: `key` is the XOR of the items,
 * `check` the XOR of their 32-bit checksums, `count` how many there are.
 * Item x maps to cell 0 and then to a sparser and sparser pseudo-random
 * sequence of cells: with probability 1 / (1 + i/2) to cell i. Subtracting
 * B's cells from A's (XOR, and count minus count) leaves the cells of the
 * symmetric difference; a cell holding one item (count +1 for an item of
 * A only, -1 for B only, and a matching checksum) is "pure": the item is
 * read off and removed from every cell it maps to (peeling), which makes
 * further cells pure.
 *
 * Everything is integer arithmetic on fixed-width words, so both parties
 * compute identical cells on any machine (the protocol depends on it):
 *   check(x) = XXH3_64bits_withSeed(x as 8 bytes LE, 0x52494C54) (low 32
 *              bits on the wire)
 *   the index sequence of x: state s = check(x) (64 bits), i = 0; then
 *   repeatedly r = splitmix64(s) (s advances by 0x9E3779B97F4A7C15),
 *   q = max(r >> 32, r mod 2^32) | 1, t = ceil((2i + 3) * 2^32 / q),
 *   next i = floor((t - 2) / 2). q / 2^32 is distributed as sqrt(u) for u
 *   uniform, so this samples P(next > j) = ((i + 1.5) / (j + 1.5))^2, which
 *   makes P(x maps to cell j) = 1 / (1 + j/2).
 * docs/sync.md gives the wire encoding of cells.
 */
#ifndef CRDT_SRC_RIBLT_H
#define CRDT_SRC_RIBLT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mem.h"

typedef struct crdt__rcell {
  uint64_t key;   /* XOR of the items */
  int64_t count;  /* items added minus items subtracted */
  uint32_t check; /* XOR of their checksums */
} crdt__rcell;

/* Largest sketch the library builds or accepts, in cells. */
#define CRDT__RIBLT_MAX_CELLS (UINT32_C(1) << 24)

/* The 64-bit checksum of an item (its low 32 bits go into cells). */
uint64_t crdt__riblt_check(uint64_t item);

/* Adds (sign +1) or subtracts (sign -1) item x to the cells of indexes
 * [0, m) it maps to. O(log m) expected. */
void crdt__riblt_add(crdt__rcell *cells, uint32_t m, uint64_t x, int sign);

/* cells[i] -= other[i] for i < m. */
void crdt__riblt_subtract(crdt__rcell *cells, const crdt__rcell *other,
                          uint32_t m);

/* The result of peeling: items of the first set only (count +1) and of the
 * second only (-1), allocated with the decoder's allocator. */
typedef struct crdt__riblt_diff {
  uint64_t *mine, *theirs;
  uint32_t nmine, ntheirs, cap_mine, cap_theirs;
} crdt__riblt_diff;

void crdt__riblt_diff_free(crdt__riblt_diff *d, const crdt_allocator *m);

/* Peels `cells` (m cells of A - B; consumed: they end zero on success) into
 * *out (empty on entry). Returns 0 when every cell ends empty (the
 * difference is complete), 1 when peeling stops with cells left (more
 * cells are needed; *out holds what was found, which the caller must not
 * act on), CRDT_ENOMEM. The work is bounded: at most 2m + 64 items are
 * peeled before the attempt is declared undecodable. */
int crdt__riblt_decode(crdt__rcell *cells, uint32_t m, const crdt_allocator *mem,
                       crdt__riblt_diff *out);

#endif
