/*
 * The codec's private helpers, shared by src/wire.c (buffers, frame),
 * src/wire_context.c (replica tables and contexts) and src/wire_store.c (dot
 * stores): varints written in place, the two-pass size/write "sink", and the
 * canonical ranking of a state's replicas.
 */
#ifndef CRDT_SRC_WIRE_PRIV_H
#define CRDT_SRC_WIRE_PRIV_H

#include <string.h>

#include "wire.h"

static inline size_t varint_len(uint64_t v) { return crdt__varint_len(v); }

/* Writes v at out (room for varint_len(v) bytes); returns the end. */
static inline uint8_t *varint_put(uint8_t *out, uint64_t v) {
  while (v >= 0x80) {
    *out++ = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  *out++ = (uint8_t)v;
  return out;
}

static inline uint64_t zigzag(int64_t v) {
  return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}


/* Output of the two-pass encoders below: a first pass with `at` NULL only
 * adds up the size, the second (with room reserved) writes the bytes. */
typedef struct sink {
  uint8_t *at;
  size_t size;
} sink;

static inline void sink_varint(sink *o, uint64_t v) {
  if (o->at) {
    uint8_t *end = varint_put(o->at, v);
    o->size += (size_t)(end - o->at);
    o->at = end;
  } else {
    o->size += varint_len(v);
  }
}

static inline void sink_bytes(sink *o, const void *p, size_t n) {
  if (o->at && n) {
    memcpy(o->at, p, n);
    o->at += n;
  }
  o->size += n;
}

/* The replicas a state refers to, in canonical order. Every store dot is in
 * the context, so the context alone decides. */
typedef struct ranking {
  uint32_t *list; /* replica indexes, canonical order */
  uint32_t n;
  uint32_t *rank; /* by replica index; UINT32_MAX when unreferenced */
  uint32_t count; /* table size */
} ranking;

/* A cloud dot, by the rank of its replica. */
typedef struct cloud_dot {
  uint64_t counter;
  uint32_t rank;
} cloud_dot;

/* Ranks the replicas `ctx` refers to. Frees on failure; ranking_free is
 * idempotent. */
int crdt__ranking_make(ranking *k, const crdt__ctx *ctx,
                       const crdt__replicas *reps, const crdt_allocator *m);
void crdt__ranking_free(ranking *k, const crdt_allocator *m);
/* The cloud's dots sorted by (rank, counter), into *out (ctx->cloud.count
 * of them, allocated with m; NULL when the cloud is empty). */
int crdt__cloud_sorted(const crdt__ctx *ctx, const ranking *k,
                       const crdt_allocator *m, cloud_dot **out);
/* Replica table and context, from the cloud in canonical order. */
void crdt__put_context(sink *o, const crdt__ctx *ctx,
                       const crdt__replicas *reps, const ranking *k,
                       const cloud_dot *cloud);

/* Writes the replica table and context (as crdt__put_context) to w. */
void crdt__w_context(crdt__wbuf *w, const crdt__ctx *ctx,
                     const crdt__replicas *reps, const ranking *k,
                     const cloud_dot *cloud);

#endif
