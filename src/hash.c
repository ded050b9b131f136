/*
 * Key hashing: XXH3 with a per-process random seed (see hash.h).
 */
#define _DEFAULT_SOURCE /* getentropy */
#include <stdint.h>
#include <time.h>
#include <unistd.h>

/* XXH3 compiled in (from the system's xxhash.h): keys are short, and a
 * call through the shared library costs as much as hashing them. */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "hash.h"

static uint64_t hash_seed;

/* Runs before main (and before any other thread could exist), so every
 * store of the process agrees on the seed: joins compare hashes across
 * stores. */
__attribute__((constructor)) static void seed_hash(void) {
  uint64_t seed = 0;
  if (getentropy(&seed, sizeof seed) != 0)
    seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&hash_seed;
  hash_seed = seed;
}

uint32_t crdt__key_hash(const void *key, size_t len) {
  return (uint32_t)XXH3_64bits_withSeed(key, len, hash_seed);
}
