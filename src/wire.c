/*
 * Codec building blocks and the canonical encoding of causal states (see
 * wire.h and docs/format.md).
 */
#include <assert.h>
#include <string.h>

#include <xxhash.h>

#include "sort.h"
#include "wire.h"

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

static inline size_t varint_len(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

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

int crdt__r_zigzag(crdt__rbuf *r, int64_t *v) {
  uint64_t u;
  int rc = crdt__r_varint(r, &u);
  if (rc) return rc;
  *v = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
  return 0;
}

int crdt__r_bytes(crdt__rbuf *r, size_t n, const uint8_t **p) {
  if (n > crdt__r_left(r)) return CRDT_ELENGTH;
  *p = r->p;
  r->p += n;
  return 0;
}

int crdt__r_count(crdt__rbuf *r, size_t min_bytes, uint64_t *n) {
  int rc = crdt__r_varint(r, n);
  if (rc) return rc;
  if (min_bytes && *n > crdt__r_left(r) / min_bytes) return CRDT_ELENGTH;
  return 0;
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
  return (tag >= 1 && tag <= 6) || tag == CRDT__WIRE_TAG_CONTEXT ||
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

/* ---- contexts ------------------------------------------------------------- */

/* A cloud dot, by the rank of its replica. */
typedef struct cloud_dot {
  uint64_t counter;
  uint32_t rank;
} cloud_dot;

static int cloud_cmp(const void *a, const void *b, const void *ctx) {
  (void)ctx;
  const cloud_dot *x = a, *y = b;
  if (x->rank != y->rank) return x->rank < y->rank ? -1 : 1;
  return (x->counter > y->counter) - (x->counter < y->counter);
}

/* The replicas a state refers to, in canonical order. Every store dot is in
 * the context, so the context alone decides. */
typedef struct ranking {
  uint32_t *list; /* replica indexes, canonical order */
  uint32_t n;
  uint32_t *rank; /* by replica index; UINT32_MAX when unreferenced */
  uint32_t count; /* table size */
} ranking;

/* Idempotent: ranking_make frees on failure, and its callers free again. */
static void ranking_free(ranking *k, const crdt_allocator *m) {
  crdt__free(m, k->list, k->count * sizeof *k->list);
  crdt__free(m, k->rank, k->count * sizeof *k->rank);
  k->list = k->rank = NULL;
}

static int ranking_make(ranking *k, const crdt__ctx *ctx,
                        const crdt__replicas *reps, const crdt_allocator *m) {
  memset(k, 0, sizeof *k);
  k->count = reps->count;
  if (!k->count) return 0;
  int rc = crdt__replicas_sorted(reps, m, &k->list);
  if (rc) return rc;
  k->rank = crdt__alloc(m, crdt__mul(k->count, sizeof *k->rank));
  if (!k->rank) {
    ranking_free(k, m);
    return CRDT_ENOMEM;
  }
  for (uint32_t i = 0; i < k->count; i++) k->rank[i] = 0; /* 1 = referenced */
  for (uint32_t i = 0; i < k->count; i++)
    if (crdt__vv_get(&ctx->vv, i)) k->rank[i] = 1;
  for (uint32_t i = 0; i < ctx->cloud.cap; i++)
    if (ctx->cloud.slots[i].counter) k->rank[ctx->cloud.slots[i].replica] = 1;
  uint32_t n = 0;
  for (uint32_t i = 0; i < k->count; i++) {
    uint32_t r = k->list[i];
    if (k->rank[r]) k->list[n++] = r;
  }
  k->n = n;
  for (uint32_t i = 0; i < k->count; i++) k->rank[i] = UINT32_MAX;
  for (uint32_t i = 0; i < n; i++) k->rank[k->list[i]] = i;
  return 0;
}

/* The cloud's dots sorted by (rank, counter), into *out (ctx->cloud.count
 * of them, allocated with m; NULL when the cloud is empty). */
static int cloud_sorted(const crdt__ctx *ctx, const ranking *k,
                        const crdt_allocator *m, cloud_dot **out) {
  *out = NULL;
  if (!ctx->cloud.count) return 0;
  cloud_dot *cloud = crdt__alloc(m, crdt__mul(ctx->cloud.count, sizeof *cloud));
  if (!cloud) return CRDT_ENOMEM;
  uint32_t n = 0;
  for (uint32_t i = 0; i < ctx->cloud.cap; i++) {
    crdt__dot d = ctx->cloud.slots[i];
    if (d.counter) cloud[n++] = (cloud_dot){d.counter, k->rank[d.replica]};
  }
  crdt__sort(cloud, n, sizeof *cloud, cloud_cmp, NULL);
  *out = cloud;
  return 0;
}

/* Replica table and context, from the cloud in canonical order. */
static void put_context(sink *o, const crdt__ctx *ctx,
                        const crdt__replicas *reps, const ranking *k,
                        const cloud_dot *cloud) {
  sink_varint(o, k->n);
  for (uint32_t i = 0; i < k->n; i++) {
    size_t len;
    const char *id = crdt__replicas_id(reps, k->list[i], &len);
    sink_varint(o, len);
    sink_bytes(o, id, len);
  }
  uint32_t c = 0;
  for (uint32_t i = 0; i < k->n; i++) {
    uint64_t prefix = crdt__vv_get(&ctx->vv, k->list[i]);
    sink_varint(o, prefix);
    /* The replica's cloud as maximal runs: count them first. */
    uint32_t first = c, runs = 0;
    while (c < ctx->cloud.count && cloud[c].rank == i) {
      if (c == first || cloud[c].counter != cloud[c - 1].counter + 1) runs++;
      c++;
    }
    sink_varint(o, runs);
    uint64_t prev = prefix;
    for (uint32_t j = first; j < c;) {
      uint32_t end = j + 1;
      while (end < c && cloud[end].counter == cloud[end - 1].counter + 1) end++;
      sink_varint(o, cloud[j].counter - prev - 2);
      sink_varint(o, end - j - 1);
      prev = cloud[end - 1].counter;
      j = end;
    }
  }
}

void crdt__wire_put_context(crdt__wbuf *w, const crdt__ctx *ctx,
                            const crdt__replicas *r) {
  ranking k;
  cloud_dot *cloud = NULL;
  int rc = ranking_make(&k, ctx, r, w->mem);
  if (!rc) rc = cloud_sorted(ctx, &k, w->mem, &cloud);
  if (rc) {
    if (!w->err) w->err = rc;
  } else {
    sink o = {NULL, 0};
    put_context(&o, ctx, r, &k, cloud);
    if (crdt__frame_body(w, o.size)) {
      o = (sink){w->data + w->len, 0};
      put_context(&o, ctx, r, &k, cloud);
      w->len += o.size;
    }
  }
  crdt__free(w->mem, cloud, ctx->cloud.count * sizeof *cloud);
  ranking_free(&k, w->mem);
}

/* Reads the replica table (interned in canonical order, so index = rank) and
 * the context. */
int crdt__wire_get_context(crdt__rbuf *r, const crdt_allocator *m,
                           crdt__ctx *ctx, crdt__replicas *reps,
                           size_t input_len) {
  uint64_t n;
  int rc = crdt__r_count(r, 2, &n);
  if (rc) return rc;
  const uint8_t *prev_id = NULL;
  size_t prev_len = 0;
  for (uint64_t i = 0; i < n; i++) {
    uint64_t len;
    const uint8_t *id;
    if ((rc = crdt__r_varint(r, &len))) return rc;
    if (len == 0 || len > CRDT_REPLICA_MAX) return CRDT_EFORMAT;
    if ((rc = crdt__r_bytes(r, (size_t)len, &id))) return rc;
    if (memchr(id, 0, (size_t)len)) return CRDT_EFORMAT;
    if (prev_id && crdt__replica_cmp((const char *)prev_id, prev_len,
                                     (const char *)id, (size_t)len) >= 0)
      return CRDT_EORDER;
    uint32_t index;
    if ((rc = crdt__replicas_intern(reps, m, (const char *)id, (size_t)len,
                                    &index)))
      return rc;
    prev_id = id;
    prev_len = (size_t)len;
  }
  if ((rc = crdt__ctx_reserve(ctx, m, (uint32_t)n, 0))) return rc;
  uint64_t budget =
      (uint64_t)input_len * CRDT__WIRE_CLOUD_PER_BYTE + CRDT__WIRE_CLOUD_SLACK;
  uint64_t cloud_total = 0;
  for (uint32_t i = 0; i < (uint32_t)n; i++) {
    uint64_t prefix, runs;
    if ((rc = crdt__r_varint(r, &prefix)) || (rc = crdt__r_count(r, 2, &runs)))
      return rc;
    if (prefix == 0 && runs == 0) return CRDT_EFORMAT; /* unreferenced id */
    ctx->vv.n[i] = prefix;
    ctx->top.n[i] = prefix;
    uint64_t prev = prefix;
    for (uint64_t j = 0; j < runs; j++) {
      uint64_t gap, extra;
      if ((rc = crdt__r_varint(r, &gap)) || (rc = crdt__r_varint(r, &extra)))
        return rc;
      /* start = prev + 2 + gap, end = start + extra, all within 64 bits.
       * Test prev first: UINT64_MAX - 2 - prev wraps when prev > 2^64 - 3. */
      if (prev > UINT64_MAX - 2 || gap > UINT64_MAX - 2 - prev)
        return CRDT_EOVERFLOW;
      uint64_t start = prev + 2 + gap;
      if (extra > UINT64_MAX - start) return CRDT_EOVERFLOW;
      if (extra + 1 > budget - cloud_total || extra >= UINT32_MAX / 2)
        return CRDT_ETOOMANY;
      cloud_total += extra + 1;
      if ((rc = crdt__ctx_reserve(ctx, m, (uint32_t)n, (uint32_t)(extra + 1))))
        return rc;
      for (uint64_t k = 0; k <= extra; k++)
        crdt__ctx_add(ctx, (crdt__dot){start + k, i});
      prev = start + extra;
    }
  }
  return 0;
}

/* ---- causal states --------------------------------------------------------- */

/* The encoder plans before it writes, so that the body's exact size is
 * known before its first byte: the blob then goes straight into the
 * caller's buffer, or is not written at all when that buffer is too small.
 *
 * One pass over the entries (scan_store) counts each replica's dots and
 * checks whether they come in counter order along the entry array; they do
 * in a state built by adds, or decoded, and then that array is the dot
 * stream. A replica whose dots do not (entries moved by deletions) has its
 * entry numbers sorted by counter (sort_slots). Entries with several dots
 * (concurrent adds, cart amounts) need back references: then every dot is
 * gathered and sorted on its own (gather_dots, put_dots). */

/* One replica's dots, as the scan finds them. */
typedef struct rank_scan {
  size_t count;  /* dots of this replica */
  uint64_t last; /* counter of its latest dot along the entry array */
  bool in_order; /* counters increase along the entry array */
  /* For the stream's order (the array's when in_order, else as sort_slots
   * sets them): bytes of the dot heads, and whether a gap is too large for
   * the format. */
  size_t gaps;
  bool range;
} rank_scan;

/* What one pass over the store's entries tells the encoder. */
typedef struct scan {
  rank_scan *rank;  /* by rank (ranking.n of them) */
  size_t ndots;     /* dots in the store */
  uint32_t markers; /* entries without dots */
  bool multi;       /* an entry has several dots */
  size_t keys;      /* bytes of the keys, their lengths and the values of
                       entries with one dot: the same in any order */
} scan;

static void scan_free(scan *sc, uint32_t nranks, const crdt_allocator *m) {
  crdt__free(m, sc->rank, nranks * sizeof *sc->rank);
  sc->rank = NULL;
}

static int scan_store(scan *sc, const crdt__store *s, const ranking *k,
                      bool values, const crdt_allocator *m) {
  memset(sc, 0, sizeof *sc);
  if (!k->n) { /* no replica, so no dot: only markers */
    sc->markers = s->count;
    return 0;
  }
  rank_scan *rank = crdt__calloc(m, k->n, sizeof *rank);
  if (!rank) return CRDT_ENOMEM;
  for (uint32_t r = 0; r < k->n; r++) rank[r].in_order = true;
  size_t keys = 0, single = 0;
  for (uint32_t n = 0; n < s->count; n++) {
    const crdt__entry *e = &s->entries[n];
    if (e->ndots != 1) {
      if (!e->ndots) {
        sc->markers++;
        continue;
      }
      sc->multi = true;
      crdt__dv one;
      const crdt__dv *d = crdt__entry_view(e, &one);
      for (uint32_t j = 0; j < e->ndots; j++) rank[k->rank[d[j].replica]].count++;
      sc->ndots += e->ndots;
      continue;
    }
    crdt__dv d = crdt__entry_dot(e, 0);
    rank_scan *rs = &rank[k->rank[d.replica]];
    uint64_t gap = d.counter - rs->last - 1;
    if (d.counter <= rs->last) rs->in_order = false;
    if (gap > (UINT64_MAX >> 1)) rs->range = true;
    rs->gaps += varint_len(gap << 1);
    rs->last = d.counter;
    rs->count++;
    single++;
    keys += varint_len(e->keylen) + e->keylen;
    if (values) keys += varint_len(zigzag(d.value));
  }
  sc->rank = rank;
  sc->ndots += single;
  sc->keys = keys;
  return 0;
}

/* An entry number with the counter of its dot (sort_slots, sparse case). */
typedef struct slot_dot {
  uint64_t counter;
  uint32_t slot;
} slot_dot;

static int slot_dot_cmp(const void *a, const void *b, const void *ctx) {
  (void)ctx;
  const slot_dot *x = a, *y = b;
  return (x->counter > y->counter) - (x->counter < y->counter);
}

/* Sorts one replica's entries (numbers in `slots`, one dot each) by the
 * counter of their dot, and recomputes rs->gaps and rs->range for that
 * order: a bucket pass over the counter range when it is dense (a
 * replica's dots are mostly a run of its events), heapsort when sparse.
 * Two entries with the same dot (never in a valid state) set rs->range. */
static int sort_slots(uint32_t *slots, size_t len, const crdt__store *s,
                      rank_scan *rs, const crdt_allocator *m) {
  if (!len) return 0;
  uint64_t min = UINT64_MAX, max = 0;
  for (size_t i = 0; i < len; i++) {
    uint64_t c = crdt__entry_dot(&s->entries[slots[i]], 0).counter;
    if (c < min) min = c;
    if (c > max) max = c;
  }
  uint64_t range = max - min + 1, prev = 0;
  rs->gaps = 0;
  rs->range = min - 1 > (UINT64_MAX >> 1);
  if (range <= 2 * (uint64_t)len + 64 && range <= UINT32_MAX) {
    uint32_t *bucket = crdt__calloc(m, (size_t)range, sizeof *bucket);
    if (!bucket) return CRDT_ENOMEM;
    for (size_t i = 0; i < len; i++) {
      uint32_t *b = &bucket[crdt__entry_dot(&s->entries[slots[i]], 0).counter - min];
      if (*b) rs->range = true;
      *b = slots[i] + 1;
    }
    size_t out = 0;
    for (uint64_t c = 0; c < range; c++) {
      if (!bucket[c]) continue;
      rs->gaps += varint_len((min + c - prev - 1) << 1);
      prev = min + c;
      slots[out++] = bucket[c] - 1;
    }
    crdt__free(m, bucket, (size_t)range * sizeof *bucket);
    return 0;
  }
  slot_dot *pairs = crdt__alloc(m, crdt__mul(len, sizeof *pairs));
  if (!pairs) return CRDT_ENOMEM;
  for (size_t i = 0; i < len; i++)
    pairs[i] = (slot_dot){crdt__entry_dot(&s->entries[slots[i]], 0).counter, slots[i]};
  crdt__sort(pairs, len, sizeof *pairs, slot_dot_cmp, NULL);
  for (size_t i = 0; i < len; i++) {
    uint64_t gap = pairs[i].counter - prev - 1;
    if (gap > (UINT64_MAX >> 1)) rs->range = true;
    rs->gaps += varint_len(gap << 1);
    prev = pairs[i].counter;
    slots[i] = pairs[i].slot;
  }
  crdt__free(m, pairs, len * sizeof *pairs);
  return 0;
}

/* Entries with one dot each: the entry numbers grouped by the rank of
 * their dot (array order within a rank), then sorted by counter for the
 * ranks not already in order. Not needed (NULL) for a single replica in
 * order: the entry array is the stream. */
static int order_slots(const crdt__store *s, const ranking *k, scan *sc,
                       const crdt_allocator *m, uint32_t **out) {
  *out = NULL;
  if (!sc->ndots || (k->n == 1 && sc->rank[0].in_order)) return 0;
  size_t *fill = crdt__alloc(m, crdt__mul(k->n, sizeof *fill));
  uint32_t *order = crdt__alloc(m, crdt__mul(sc->ndots, sizeof *order));
  int rc = fill && order ? 0 : CRDT_ENOMEM;
  if (!rc) {
    size_t at = 0;
    for (uint32_t r = 0; r < k->n; r++) {
      fill[r] = at;
      at += sc->rank[r].count;
    }
    for (uint32_t n = 0; n < s->count; n++) {
      const crdt__entry *e = &s->entries[n];
      if (e->ndots) order[fill[k->rank[crdt__entry_dot(e, 0).replica]]++] = n;
    }
    at = 0;
    for (uint32_t r = 0; r < k->n && !rc; at += sc->rank[r].count, r++)
      if (!sc->rank[r].in_order)
        rc = sort_slots(order + at, sc->rank[r].count, s, &sc->rank[r], m);
  }
  crdt__free(m, fill, k->n * sizeof *fill);
  if (rc) {
    crdt__free(m, order, sc->ndots * sizeof *order);
    return rc;
  }
  *out = order;
  return 0;
}

/* Writes a dot that defines its entry's key (room reserved). */
static inline uint8_t *put_defining(uint8_t *p, uint64_t gap,
                                    const crdt__entry *e, int64_t value,
                                    bool values) {
  p = varint_put(p, gap << 1);
  p = varint_put(p, e->keylen);
  if (e->keylen) memcpy(p, crdt__entry_key(e), e->keylen);
  p += e->keylen;
  if (values) p = varint_put(p, zigzag(value));
  return p;
}

/* The dot stream of entries with one dot each, in the order of
 * order_slots (`order` NULL: the entry array). */
static uint8_t *put_single(uint8_t *p, const crdt__store *s, const ranking *k,
                           const scan *sc, const uint32_t *order,
                           bool values) {
  if (!order) {
    for (uint32_t r = 0; r < k->n; r++) p = varint_put(p, sc->rank[r].count);
    uint64_t prev = 0; /* a single replica, or no dots at all */
    for (uint32_t n = 0; n < s->count; n++) {
      const crdt__entry *e = &s->entries[n];
      if (!e->ndots) continue;
      crdt__dv d = crdt__entry_dot(e, 0);
      p = put_defining(p, d.counter - prev - 1, e, d.value, values);
      prev = d.counter;
    }
    return p;
  }
  size_t at = 0;
  for (uint32_t r = 0; r < k->n; r++) {
    p = varint_put(p, sc->rank[r].count);
    uint64_t prev = 0;
    for (size_t end = at + sc->rank[r].count; at < end; at++) {
      const crdt__entry *e = &s->entries[order[at]];
      crdt__dv d = crdt__entry_dot(e, 0);
      p = put_defining(p, d.counter - prev - 1, e, d.value, values);
      prev = d.counter;
    }
  }
  return p;
}

/* A dot of an entry with several dots, for the stream. */
typedef struct stream_dot {
  uint64_t counter;
  uint32_t slot; /* entry number */
  int64_t value;
} stream_dot;

static int counter_cmp(const void *a, const void *b, const void *ctx) {
  (void)ctx;
  const stream_dot *x = a, *y = b;
  return (x->counter > y->counter) - (x->counter < y->counter);
}

/* Sorts one replica's dots by counter (sort_slots does the same for entry
 * numbers; kept apart because its bucket pass moves 4-byte numbers, not
 * 24-byte dots: measured 14 against 43 ms to encode 10^6 elements after
 * 10% removals): nothing to do when they are in order
 * already; a bucket pass over the counter range when it is dense, heapsort
 * when sparse. CRDT_ENOMEM when the scratch space cannot be had. */
static int sort_run(stream_dot *run, size_t len,
                    const crdt_allocator *m) {
  if (!len) return 0;
  uint64_t min = run[0].counter, max = min;
  bool sorted = true;
  for (size_t i = 1; i < len; i++) {
    if (run[i].counter <= run[i - 1].counter) sorted = false;
    if (run[i].counter < min) min = run[i].counter;
    if (run[i].counter > max) max = run[i].counter;
  }
  if (sorted) return 0;
  uint64_t range = max - min + 1;
  if (range > 2 * (uint64_t)len + 64 || range > UINT32_MAX) {
    crdt__sort(run, len, sizeof *run, counter_cmp, NULL);
    return 0;
  }
  uint32_t *bucket = crdt__calloc(m, (size_t)range, sizeof *bucket);
  stream_dot *tmp = bucket ? crdt__alloc(m, crdt__mul(len, sizeof *tmp)) : NULL;
  if (!tmp) {
    crdt__free(m, bucket, (size_t)range * sizeof *bucket);
    return CRDT_ENOMEM;
  }
  memcpy(tmp, run, len * sizeof *tmp);
  for (size_t i = 0; i < len; i++) bucket[tmp[i].counter - min] = (uint32_t)i + 1;
  size_t out = 0;
  for (uint64_t c = 0; c < range; c++)
    if (bucket[c]) run[out++] = tmp[bucket[c] - 1];
  crdt__free(m, tmp, len * sizeof *tmp);
  crdt__free(m, bucket, (size_t)range * sizeof *bucket);
  return 0;
}

/* Entries with several dots: every dot, grouped by rank (a counting sort,
 * with the counts of the scan) and sorted by counter within a rank; *index
 * gets one UINT32_MAX per entry (entry numbers, filled in by put_dots). */
static int gather_dots(const crdt__store *s, const ranking *k, const scan *sc,
                       const crdt_allocator *m, stream_dot **dots_out,
                       uint32_t **index_out) {
  size_t *fill = crdt__alloc(m, crdt__mul(k->n, sizeof *fill));
  stream_dot *dots = crdt__alloc(m, crdt__mul(sc->ndots, sizeof *dots));
  uint32_t *index = crdt__alloc(m, crdt__mul(s->count, sizeof *index));
  int rc = fill && dots && index ? 0 : CRDT_ENOMEM;
  if (!rc) {
    size_t at = 0;
    for (uint32_t r = 0; r < k->n; r++) {
      fill[r] = at;
      at += sc->rank[r].count;
    }
    for (uint32_t n = 0; n < s->count; n++) {
      const crdt__entry *e = &s->entries[n];
      index[n] = UINT32_MAX;
      crdt__dv one;
      const crdt__dv *d = crdt__entry_view(e, &one);
      for (uint32_t j = 0; j < e->ndots; j++)
        dots[fill[k->rank[d[j].replica]]++] =
            (stream_dot){d[j].counter, n, d[j].value};
    }
    at = 0;
    for (uint32_t r = 0; r < k->n && !rc; at += sc->rank[r].count, r++)
      rc = sort_run(dots + at, sc->rank[r].count, m);
  }
  crdt__free(m, fill, k->n * sizeof *fill);
  if (rc) {
    crdt__free(m, dots, sc->ndots * sizeof *dots);
    crdt__free(m, index, s->count * sizeof *index);
    return rc;
  }
  *dots_out = dots;
  *index_out = index;
  return 0;
}

/* The dot stream from gathered dots: per replica, dots by counter; an
 * entry's key is written at its first dot, later dots refer to it by
 * number. Entry numbers are given out in the sizing pass (index[slot] was
 * UINT32_MAX); in either pass, a dot defines its key when its entry number
 * is the next one to define. CRDT_ERANGE for a gap the format cannot hold
 * (found by the sizing pass, before anything is written). */
static int put_dots(sink *o, const crdt__store *s, const stream_dot *dots,
                    const scan *sc, uint32_t nranks, uint32_t *index,
                    bool values) {
  uint32_t defined = 0;
  size_t at = 0;
  for (uint32_t r = 0; r < nranks; r++) {
    sink_varint(o, sc->rank[r].count);
    uint64_t prev = 0;
    for (size_t end = at + sc->rank[r].count; at < end; at++) {
      const stream_dot *d = &dots[at];
      uint64_t gap = d->counter - prev - 1;
      prev = d->counter;
      if (gap > (UINT64_MAX >> 1)) return CRDT_ERANGE; /* counters past 2^63 */
      if (index[d->slot] == UINT32_MAX) index[d->slot] = defined;
      if (index[d->slot] == defined) {
        const crdt__entry *e = &s->entries[d->slot];
        defined++;
        sink_varint(o, gap << 1);
        sink_varint(o, e->keylen);
        sink_bytes(o, crdt__entry_key(e), e->keylen);
      } else {
        sink_varint(o, gap << 1 | 1);
        sink_varint(o, index[d->slot]);
      }
      if (values) sink_varint(o, zigzag(d->value));
    }
  }
  return 0;
}

/* The `n` entries without dots (markers), sorted by key bytes. */
static int sorted_markers(const crdt__store *s, uint32_t n,
                          const crdt_allocator *m, const crdt__entry ***out) {
  const crdt__entry **list = crdt__alloc(m, crdt__mul(n, sizeof *list));
  if (!list) return CRDT_ENOMEM;
  uint32_t at = 0;
  for (uint32_t i = 0; i < s->count; i++)
    if (!s->entries[i].ndots) list[at++] = &s->entries[i];
  crdt__sort(list, n, sizeof *list, crdt__entry_ptr_cmp, NULL);
  *out = list;
  return 0;
}

static void put_markers(sink *o, const crdt__entry **list, uint32_t n) {
  sink_varint(o, n);
  for (uint32_t i = 0; i < n; i++) {
    sink_varint(o, list[i]->keylen);
    sink_bytes(o, crdt__entry_key(list[i]), list[i]->keylen);
  }
}

void crdt__wire_put_causal(crdt__wbuf *w, const crdt__causal *c, bool values) {
  const crdt_allocator *m = w->mem;
  const crdt__store *s = &c->store;
  ranking k;
  scan sc = {0};
  cloud_dot *cloud = NULL;
  stream_dot *dots = NULL;
  uint32_t *order = NULL, *index = NULL;
  const crdt__entry **markers = NULL;
  int rc;
  if ((rc = ranking_make(&k, &c->ctx, &c->replicas, m)) ||
      (rc = cloud_sorted(&c->ctx, &k, m, &cloud)) ||
      (rc = scan_store(&sc, s, &k, values, m)))
    goto done;
  /* Size of the parts: dot stream, context, markers. */
  sink o = {NULL, 0};
  if (!sc.multi) {
    if ((rc = order_slots(s, &k, &sc, m, &order))) goto done;
    for (uint32_t r = 0; r < k.n; r++) {
      if (sc.rank[r].range) {
        rc = CRDT_ERANGE; /* counters past 2^63, or a repeated dot */
        goto done;
      }
      o.size += varint_len(sc.rank[r].count) + sc.rank[r].gaps;
    }
    o.size += sc.keys;
  } else if ((rc = gather_dots(s, &k, &sc, m, &dots, &index)) ||
             (rc = put_dots(&o, s, dots, &sc, k.n, index, values))) {
    goto done;
  }
  if (sc.markers && (rc = sorted_markers(s, sc.markers, m, &markers))) goto done;
  put_context(&o, &c->ctx, &c->replicas, &k, cloud);
  put_markers(&o, markers, sc.markers);
  size_t body = o.size;
  if (!crdt__frame_body(w, body)) goto done;
  /* Then the bytes, in order. */
  uint8_t *start = w->data + w->len;
  o = (sink){start, 0};
  put_context(&o, &c->ctx, &c->replicas, &k, cloud);
  if (!sc.multi)
    o.at = put_single(o.at, s, &k, &sc, order, values);
  else
    (void)put_dots(&o, s, dots, &sc, k.n, index, values);
  put_markers(&o, markers, sc.markers);
  w->len += (size_t)(o.at - start);
  assert((size_t)(o.at - start) == body);
done:
  if (rc && !w->err) w->err = rc;
  crdt__free(m, markers, sc.markers * sizeof *markers);
  crdt__free(m, index, s->count * sizeof *index);
  crdt__free(m, dots, sc.ndots * sizeof *dots);
  crdt__free(m, order, sc.ndots * sizeof *order);
  crdt__free(m, cloud, c->ctx.cloud.count * sizeof *cloud);
  scan_free(&sc, k.n, m);
  ranking_free(&k, m);
}

/* The `n` dots of replica i (see docs/format.md), checked dot by dot in a
 * fixed order: which error a malformed input gets depends on it. */
static int get_dots(crdt__rbuf *r, const crdt_allocator *m, crdt__causal *c,
                    uint32_t i, uint64_t n, bool values) {
  crdt__store *s = &c->store;
  const uint64_t prefix = crdt__vv_get(&c->ctx.vv, i);
  uint64_t prev = 0;
  int rc;
  for (uint64_t j = 0; j < n; j++) {
    uint64_t head;
    if ((rc = crdt__r_varint(r, &head))) return rc;
    uint64_t gap = head >> 1;
    /* counter = prev + gap + 1 <= UINT64_MAX (written so that nothing
     * wraps when prev is already UINT64_MAX) */
    if (gap >= UINT64_MAX - prev) return CRDT_EOVERFLOW;
    crdt__dv dv = {prev + gap + 1, i, 0};
    prev = dv.counter;
    if (dv.counter > prefix && !crdt__ctx_has(&c->ctx, (crdt__dot){dv.counter, i}))
      return CRDT_EDOT;
    crdt__entry *e;
    if (head & 1) {
      uint64_t which;
      if ((rc = crdt__r_varint(r, &which))) return rc;
      if (which >= s->count) return CRDT_EFORMAT;
      e = &s->entries[which];
    } else {
      uint64_t len;
      const uint8_t *key;
      if ((rc = crdt__r_varint(r, &len))) return rc;
      if (len > CRDT__KEY_MAX) return CRDT_ELENGTH;
      if ((rc = crdt__r_bytes(r, (size_t)len, &key))) return rc;
      /* A key defined twice is found when the index is built. */
      uint32_t hash = crdt__key_hash(key, (size_t)len);
      if ((rc = crdt__store_append(s, m, key, (size_t)len, hash, &e)))
        return rc;
    }
    if (values && (rc = crdt__r_zigzag(r, &dv.value))) return rc;
    if ((rc = crdt__entry_add(e, m, dv))) return rc;
  }
  return 0;
}

int crdt__wire_get_causal(crdt__rbuf *r, const crdt_allocator *m,
                          crdt__causal *c, bool values, bool keyed) {
  size_t input_len = crdt__r_left(r);
  int rc = crdt__wire_get_context(r, m, &c->ctx, &c->replicas, input_len);
  if (rc) return rc;
  /* Entries are appended in the order the stream defines them, so an entry
   * number is its position in the store: back references need no lookup. */
  crdt__store *s = &c->store;
  for (uint32_t i = 0; i < c->replicas.count; i++) {
    uint64_t n;
    if ((rc = crdt__r_count(r, 1, &n))) return rc;
    /* Room for this replica's dots as new keys, at most one per 2 bytes
     * left, so a lying count cannot make us allocate past the input. */
    uint64_t room = n < crdt__r_left(r) / 2 ? n : crdt__r_left(r) / 2;
    if (room > UINT32_MAX / 4) room = UINT32_MAX / 4;
    if ((rc = crdt__store_reserve_entries(s, m, (uint32_t)room)) ||
        (rc = get_dots(r, m, c, i, n, values)))
      return rc;
  }
  uint64_t markers;
  if ((rc = crdt__r_count(r, 1, &markers))) return rc;
  if (markers && !keyed) return CRDT_EFORMAT;
  const uint8_t *prev_key = NULL;
  size_t prev_len = 0;
  for (uint64_t i = 0; i < markers; i++) {
    uint64_t len;
    const uint8_t *key;
    if ((rc = crdt__r_varint(r, &len))) return rc;
    if (len > CRDT__KEY_MAX) return CRDT_ELENGTH;
    if ((rc = crdt__r_bytes(r, (size_t)len, &key))) return rc;
    if (prev_key) {
      size_t common = prev_len < len ? prev_len : (size_t)len;
      int cmp = common ? memcmp(prev_key, key, common) : 0;
      if (cmp > 0 || (cmp == 0 && prev_len >= len)) return CRDT_EORDER;
    }
    prev_key = key;
    prev_len = (size_t)len;
    uint32_t hash = crdt__key_hash(key, (size_t)len);
    crdt__entry *e;
    if ((rc = crdt__store_append(s, m, key, (size_t)len, hash, &e))) return rc;
  }
  if (crdt__r_left(r)) return CRDT_ETRAILING;
  /* Entries were appended without lookups; a key defined twice (as two dot
   * keys, two markers, or both) is found here. */
  if ((rc = crdt__store_index(s, m))) return rc;
  c->keyed = keyed;
  return 0;
}
