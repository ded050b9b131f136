/*
 * Codec building blocks: the writer, the reader and the blob frame (see
 * wire.h and docs/format.md).
 */
#include <assert.h>
#include <string.h>

#include <xxhash.h>

#include "wire_priv.h"

/* ---- writer --------------------------------------------------------------- */

static bool w_room(crdt__wbuf *w, size_t n) {
  if (w->err) return false;
  if (n <= w->cap - w->len) return true;
  size_t cap = w->cap > 256 ? w->cap : 256;
  while (cap - w->len < n) {
    if (cap > SIZE_MAX / 2) {
      w->err = CRDT_ENOMEM;
      return false;
    }
    cap *= 2;
  }
  uint8_t *grown;
  if (w->borrowed) { /* outgrown the caller's buffer: move to our own */
    grown = crdt__alloc(w->mem, cap);
    if (grown && w->len) memcpy(grown, w->data, w->len);
  } else {
    grown = crdt__realloc(w->mem, w->data, w->cap, cap);
  }
  if (!grown) {
    w->err = CRDT_ENOMEM;
    return false;
  }
  w->data = grown;
  w->cap = cap;
  w->borrowed = false;
  return true;
}

void crdt__w_bytes(crdt__wbuf *w, const void *p, size_t n) {
  if (!n || !w_room(w, n)) return;
  memcpy(w->data + w->len, p, n);
  w->len += n;
}

void crdt__w_u8(crdt__wbuf *w, uint8_t v) { crdt__w_bytes(w, &v, 1); }

uint8_t *crdt__w_take(crdt__wbuf *w, size_t n) {
  if (!w_room(w, n)) return NULL;
  uint8_t *at = w->data + w->len;
  w->len += n;
  return at;
}

void crdt__w_varint(crdt__wbuf *w, uint64_t v) {
  uint8_t tmp[10];
  crdt__w_bytes(w, tmp, (size_t)(varint_put(tmp, v) - tmp));
}

void crdt__w_zigzag(crdt__wbuf *w, int64_t v) { crdt__w_varint(w, zigzag(v)); }

void crdt__wbuf_free(crdt__wbuf *w) {
  if (!w->borrowed) crdt__free(w->mem, w->data, w->cap);
  w->data = NULL;
  w->len = w->cap = 0;
  w->borrowed = false;
}

/* ---- reader --------------------------------------------------------------- */

int crdt__r_varint_long(crdt__rbuf *r, uint64_t *v) {
  uint64_t x = 0;
  for (unsigned shift = 0, i = 0;; shift += 7, i++) {
    if (r->p == r->end) return CRDT_ETRUNC;
    uint8_t b = *r->p++;
    if (i == 9 && b > 1) return CRDT_EOVERFLOW;
    x |= (uint64_t)(b & 0x7F) << shift;
    if (!(b & 0x80)) {
      if (b == 0 && i > 0) return CRDT_EFORMAT; /* overlong */
      *v = x;
      return 0;
    }
  }
}


/* ---- frame ------------------------------------------------------------------ */

#define HEADER_FIXED 7 /* magic(4) version(1) tag(1) flags(1) */
#define CHECKSUM_LEN 8

void crdt__frame_begin(crdt__wbuf *w, uint8_t tag, uint8_t flags) {
  crdt__w_bytes(w, CRDT__WIRE_MAGIC, 4);
  crdt__w_u8(w, CRDT__WIRE_VERSION);
  crdt__w_u8(w, tag);
  crdt__w_u8(w, flags);
}

bool crdt__frame_body(crdt__wbuf *w, size_t body) {
  if (w->err) return false;
  if (w->len != HEADER_FIXED || w->body) return w_room(w, body);
  size_t n = varint_len(body);
  if (body > SIZE_MAX - HEADER_FIXED - n - CHECKSUM_LEN) {
    w->err = CRDT_ENOMEM;
    return false;
  }
  size_t total = HEADER_FIXED + n + body + CHECKSUM_LEN;
  if (total > w->limit) { /* too big for the caller's buffer: say so */
    w->err = CRDT_ENOSPC;
    w->len = total;
    return false;
  }
  if (!w_room(w, total - w->len)) return false;
  varint_put(w->data + w->len, body);
  w->len += n;
  w->body = w->len;
  return true;
}

void crdt__frame_end(crdt__wbuf *w) {
  if (w->err) return;
  if (!w->body) {
    uint8_t len[10];
    size_t body = w->len - HEADER_FIXED;
    size_t n = (size_t)(varint_put(len, body) - len);
    if (!w_room(w, n + CHECKSUM_LEN)) return;
    memmove(w->data + HEADER_FIXED + n, w->data + HEADER_FIXED, body);
    memcpy(w->data + HEADER_FIXED, len, n);
    w->len += n;
  } else if (!w_room(w, CHECKSUM_LEN)) { /* reserved by crdt__frame_body */
    return;
  }
  uint64_t sum = XXH3_64bits(w->data, w->len);
  for (int i = 0; i < CHECKSUM_LEN; i++) w->data[w->len++] = (uint8_t)(sum >> (8 * i));
}

static bool tag_known(uint8_t tag) {
  return (tag >= 1 && tag <= 8) || tag == CRDT__WIRE_TAG_CONTEXT ||
         tag == CRDT__WIRE_TAG_SYNC || tag == CRDT__WIRE_TAG_SESSION;
}

int crdt__frame_peek(const void *data, size_t len, crdt__frame *f) {
  const uint8_t *p = data;
  if (!data && len) return CRDT_EINVAL;
  size_t m = len < 4 ? len : 4;
  /* m == 0 with data NULL: memcmp must not see a null pointer. */
  if (m && memcmp(p, CRDT__WIRE_MAGIC, m) != 0) return CRDT_EMAGIC;
  if (len < HEADER_FIXED) return CRDT_ETRUNC;
  f->version = p[4];
  f->tag = p[5];
  f->flags = p[6];
  if (f->version != CRDT__WIRE_VERSION) return CRDT_EVERSION;
  if (!tag_known(f->tag)) return CRDT_EBADTYPE;
  if (f->flags & ~CRDT__WIRE_FLAG_KEYED) return CRDT_EFORMAT;
  if (f->tag == CRDT__WIRE_TAG_CONTEXT && f->flags) return CRDT_EFORMAT;
  return 0;
}

int crdt__frame_open(const void *data, size_t len, crdt__frame *f) {
  int rc = crdt__frame_peek(data, len, f);
  if (rc) return rc;
  const uint8_t *p = data;
  crdt__rbuf r = {p + HEADER_FIXED, p + len};
  uint64_t body;
  if ((rc = crdt__r_varint(&r, &body))) return rc;
  size_t left = crdt__r_left(&r);
  if (left < CHECKSUM_LEN || body > left - CHECKSUM_LEN) return CRDT_ETRUNC;
  if (body < left - CHECKSUM_LEN) return CRDT_ETRAILING;
  size_t covered = (size_t)(r.p - p) + (size_t)body;
  uint64_t want = 0;
  for (int i = 0; i < CHECKSUM_LEN; i++)
    want |= (uint64_t)p[covered + (size_t)i] << (8 * i);
  if (XXH3_64bits(p, covered) != want) return CRDT_ECHECKSUM;
  f->body = (crdt__rbuf){r.p, r.p + body};
  return 0;
}

