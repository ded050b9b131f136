/*
 * The binary codec's building blocks: a growable writer, a bounds-checked
 * reader, LEB128 varints, the blob frame (magic, version, type, flags, body
 * length, XXH3-64 checksum), and the canonical encoding of causal states
 * and contexts shared by every dot-based type. docs/format.md is the
 * specification; this file must agree with it byte for byte.
 */
#ifndef CRDT_SRC_WIRE_H
#define CRDT_SRC_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define CRDT__WIRE_MAGIC "CRDT"
#define CRDT__WIRE_VERSION 1
#define CRDT__WIRE_TAG_CONTEXT 0x10
#define CRDT__WIRE_TAG_SYNC 0x11    /* a sync message (docs/sync.md) */
#define CRDT__WIRE_TAG_SESSION 0x12 /* a saved sync session */
#define CRDT__WIRE_FLAG_KEYED 0x01
/* A decoded context may hold at most this many cloud dots per input byte
 * (plus a constant): ranges are expanded in memory, so this keeps decoding
 * memory proportional to the input. */
#define CRDT__WIRE_CLOUD_PER_BYTE 16
#define CRDT__WIRE_CLOUD_SLACK 4096

/* ---- writer --------------------------------------------------------------- */

/* Writes into the caller's buffer while it has room (`borrowed`), else into
 * a buffer of its own that grows by doubling. */
typedef struct crdt__wbuf {
  uint8_t *data;
  size_t len, cap;
  const crdt_allocator *mem;
  int err;       /* first error; later writes are ignored. CRDT_ENOSPC (set
                    only by crdt__frame_body): `len` is the size needed */
  bool borrowed; /* data is the caller's: never freed or grown in place */
  size_t limit;  /* size of the caller's buffer */
  size_t body;   /* offset of the body once crdt__frame_body wrote its
                    length up front, else 0 */
} crdt__wbuf;

/* A writer that fills `buf` (cap bytes; NULL when cap is 0) and allocates
 * with `m` only if the encoding outgrows it. */
static inline crdt__wbuf crdt__wbuf_into(void *buf, size_t cap,
                                         const crdt_allocator *m) {
  return (crdt__wbuf){(uint8_t *)buf, 0, cap, m, 0, true, cap, 0};
}

void crdt__w_bytes(crdt__wbuf *w, const void *p, size_t n);
void crdt__w_u8(crdt__wbuf *w, uint8_t v);
/* The next n bytes of the output, for the caller to fill in; NULL after an
 * error (w->err says which). */
uint8_t *crdt__w_take(crdt__wbuf *w, size_t n);
void crdt__w_varint(crdt__wbuf *w, uint64_t v);
/* Bytes crdt__w_varint writes for v: 1 to 10. */
static inline size_t crdt__varint_len(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}
void crdt__w_zigzag(crdt__wbuf *w, int64_t v);
/* Frees what the writer allocated (never the caller's buffer). */
void crdt__wbuf_free(crdt__wbuf *w);

/* ---- reader --------------------------------------------------------------- */

typedef struct crdt__rbuf {
  const uint8_t *p, *end;
} crdt__rbuf;

static inline size_t crdt__r_left(const crdt__rbuf *r) {
  return (size_t)(r->end - r->p);
}
/* Minimal-length LEB128 only: overlong forms are CRDT_EFORMAT, values past
 * 64 bits CRDT_EOVERFLOW, running out CRDT_ETRUNC. Single-byte varints (the
 * common case) are read inline; crdt__r_varint_long reads the rest. */
int crdt__r_varint_long(crdt__rbuf *r, uint64_t *v);
static inline int crdt__r_varint(crdt__rbuf *r, uint64_t *v) {
  if (r->p != r->end && *r->p < 0x80) {
    *v = *r->p++;
    return 0;
  }
  return crdt__r_varint_long(r, v);
}
static inline int crdt__r_zigzag(crdt__rbuf *r, int64_t *v) {
  uint64_t u;
  int rc = crdt__r_varint(r, &u);
  if (rc) return rc;
  *v = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
  return 0;
}
/* n bytes of the input: *p points into it. Inline, as the decoders read
 * one per key. */
static inline int crdt__r_bytes(crdt__rbuf *r, size_t n, const uint8_t **p) {
  if (n > crdt__r_left(r)) return CRDT_ELENGTH;
  *p = r->p;
  r->p += n;
  return 0;
}
/* A count of items that each take at least `min_bytes` bytes: rejects
 * counts the remaining input cannot hold, before anything is allocated. */
static inline int crdt__r_count(crdt__rbuf *r, size_t min_bytes,
                                uint64_t *n) {
  int rc = crdt__r_varint(r, n);
  if (rc) return rc;
  if (min_bytes && *n > crdt__r_left(r) / min_bytes) return CRDT_ELENGTH;
  return 0;
}

/* ---- frame ------------------------------------------------------------------ */

typedef struct crdt__frame {
  uint8_t version;
  uint8_t tag;
  uint8_t flags;
  crdt__rbuf body;
} crdt__frame;

/* Starts a blob: writes the header with room for the body length. */
void crdt__frame_begin(crdt__wbuf *w, uint8_t tag, uint8_t flags);
/* For an encoder that knows the exact size of its body before writing it,
 * called right after crdt__frame_begin: writes the body length up front (so
 * crdt__frame_end moves nothing) and makes room for the body and the
 * checksum; elsewhere it only makes room for `body` bytes. The encoder then
 * writes exactly `body` bytes at w->data + w->len and adds them to w->len.
 * Returns false when nothing is to be written: after an error, or when the
 * blob does not fit the caller's buffer (err CRDT_ENOSPC, len the blob's
 * size). */
bool crdt__frame_body(crdt__wbuf *w, size_t body);
/* Ends a blob started at offset 0: fills in the body length unless
 * crdt__frame_body did, and appends the checksum. */
void crdt__frame_end(crdt__wbuf *w);
/* Checks magic, version, tag range, length and checksum. */
int crdt__frame_open(const void *data, size_t len, crdt__frame *f);
/* Magic, version, tag and flags only (no length or checksum check). */
int crdt__frame_peek(const void *data, size_t len, crdt__frame *f);

/* ---- causal states ----------------------------------------------------------- */

/* Encodes replica table, context and store. `values`: the store's dots carry
 * int64 values (the cart). */
void crdt__wire_put_causal(crdt__wbuf *w, const crdt__causal *c, bool values);
/* Decodes into an empty causal state (freed by the caller on error too). */
int crdt__wire_get_causal(crdt__rbuf *r, const crdt_allocator *m,
                          crdt__causal *c, bool values, bool keyed);

/* Context alone (read tokens): replica table + context. */
void crdt__wire_put_context(crdt__wbuf *w, const crdt__ctx *ctx,
                            const crdt__replicas *r);
int crdt__wire_get_context(crdt__rbuf *r, const crdt_allocator *m,
                           crdt__ctx *ctx, crdt__replicas *reps,
                           size_t input_len);

#endif
