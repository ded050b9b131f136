/*
 * uthash configured for libcrdt: allocation through the object's allocator,
 * non-fatal out-of-memory (an add that cannot allocate leaves the table as it
 * was and sets add->hh.tbl to NULL), XXH3 as the hash function.
 *
 * Every function that uses a HASH_ADD/HASH_DEL macro declares a local
 * `const crdt_allocator *uthash_mem` naming the allocator of the table.
 */
#ifndef CRDT_SRC_UTHASH_CFG_H
#define CRDT_SRC_UTHASH_CFG_H

#include <xxhash.h>

#include "mem.h"

#define HASH_NONFATAL_OOM 1
#define uthash_malloc(sz) crdt__alloc(uthash_mem, (sz))
#define uthash_free(ptr, sz) crdt__free(uthash_mem, (ptr), (sz))
#define HASH_FUNCTION(keyptr, keylen, hashv)                                   \
  ((hashv) = (unsigned)XXH3_64bits((keyptr), (size_t)(keylen)))

#include <uthash.h>

#endif
