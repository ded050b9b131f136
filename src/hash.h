/*
 * The hash of element keys and replica ids inside one process.
 */
#ifndef CRDT_SRC_HASH_H
#define CRDT_SRC_HASH_H

#include <stddef.h>
#include <stdint.h>

/* XXH3 with a per-process random seed, so a hostile peer cannot choose keys
 * that collide in the indexes. Hashes never reach the wire or any output. */
uint32_t crdt__key_hash(const void *key, size_t len);

#endif
