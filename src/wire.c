/*
 * Codec building blocks and the canonical encoding of causal states (see
 * wire.h and docs/format.md).
 */
#include <string.h>

#include <xxhash.h>

#include "sort.h"
#include "wire.h"

/* ---- writer --------------------------------------------------------------- */

static bool w_room(crdt__wbuf *w, size_t n) {
  if (w->err) return false;
  if (n <= w->cap - w->len) return true;
  size_t cap = w->cap ? w->cap : 256;
  while (cap - w->len < n) {
    if (cap > SIZE_MAX / 2) {
      w->err = CRDT_ENOMEM;
      return false;
    }
    cap *= 2;
  }
  uint8_t *grown = crdt__realloc(w->mem, w->data, w->cap, cap);
  if (!grown) {
    w->err = CRDT_ENOMEM;
    return false;
  }
  w->data = grown;
  w->cap = cap;
  return true;
}

void crdt__w_bytes(crdt__wbuf *w, const void *p, size_t n) {
  if (!n || !w_room(w, n)) return;
  memcpy(w->data + w->len, p, n);
  w->len += n;
}

void crdt__w_u8(crdt__wbuf *w, uint8_t v) { crdt__w_bytes(w, &v, 1); }

static size_t varint_put(uint8_t *out, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    out[n++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  out[n++] = (uint8_t)v;
  return n;
}

void crdt__w_varint(crdt__wbuf *w, uint64_t v) {
  uint8_t tmp[10];
  crdt__w_bytes(w, tmp, varint_put(tmp, v));
}

void crdt__w_zigzag(crdt__wbuf *w, int64_t v) {
  crdt__w_varint(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

void crdt__wbuf_free(crdt__wbuf *w) {
  crdt__free(w->mem, w->data, w->cap);
  w->data = NULL;
  w->len = w->cap = 0;
}

/* ---- reader --------------------------------------------------------------- */

int crdt__r_varint(crdt__rbuf *r, uint64_t *v) {
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

void crdt__frame_end(crdt__wbuf *w) {
  if (w->err) return;
  uint8_t len[10];
  size_t body = w->len - HEADER_FIXED;
  size_t n = varint_put(len, body);
  if (!w_room(w, n + CHECKSUM_LEN)) return;
  memmove(w->data + HEADER_FIXED + n, w->data + HEADER_FIXED, body);
  memcpy(w->data + HEADER_FIXED, len, n);
  w->len += n;
  uint64_t sum = XXH3_64bits(w->data, w->len);
  for (int i = 0; i < CHECKSUM_LEN; i++) w->data[w->len++] = (uint8_t)(sum >> (8 * i));
}

static bool tag_known(uint8_t tag) {
  return (tag >= 1 && tag <= 6) || tag == CRDT__WIRE_TAG_CONTEXT;
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

typedef struct ranked_dot {
  uint64_t counter;
  uint32_t rank;
  uint32_t slot; /* store slot (dot stream) */
  int64_t value;
} ranked_dot;

static int ranked_cmp(const void *a, const void *b, const void *ctx) {
  (void)ctx;
  const ranked_dot *x = a, *y = b;
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

static void put_context(crdt__wbuf *w, const crdt__ctx *ctx,
                        const crdt__replicas *reps, const ranking *k) {
  crdt__w_varint(w, k->n);
  for (uint32_t i = 0; i < k->n; i++) {
    size_t len;
    const char *id = crdt__replicas_id(reps, k->list[i], &len);
    crdt__w_varint(w, len);
    crdt__w_bytes(w, id, len);
  }
  ranked_dot *cloud = NULL;
  if (ctx->cloud.count) {
    cloud = crdt__alloc(w->mem, crdt__mul(ctx->cloud.count, sizeof *cloud));
    if (!cloud) {
      w->err = CRDT_ENOMEM;
      return;
    }
    uint32_t n = 0;
    for (uint32_t i = 0; i < ctx->cloud.cap; i++) {
      crdt__dot d = ctx->cloud.slots[i];
      if (d.counter) cloud[n++] = (ranked_dot){d.counter, k->rank[d.replica], 0, 0};
    }
    crdt__sort(cloud, n, sizeof *cloud, ranked_cmp, NULL);
  }
  uint32_t c = 0;
  for (uint32_t i = 0; i < k->n; i++) {
    uint64_t prefix = crdt__vv_get(&ctx->vv, k->list[i]);
    crdt__w_varint(w, prefix);
    /* The replica's cloud as maximal runs: count them first. */
    uint32_t first = c, runs = 0;
    while (c < ctx->cloud.count && cloud[c].rank == i) {
      if (c == first || cloud[c].counter != cloud[c - 1].counter + 1) runs++;
      c++;
    }
    crdt__w_varint(w, runs);
    uint64_t prev = prefix;
    for (uint32_t j = first; j < c;) {
      uint32_t end = j + 1;
      while (end < c && cloud[end].counter == cloud[end - 1].counter + 1) end++;
      crdt__w_varint(w, cloud[j].counter - prev - 2);
      crdt__w_varint(w, end - j - 1);
      prev = cloud[end - 1].counter;
      j = end;
    }
  }
  crdt__free(w->mem, cloud, ctx->cloud.count * sizeof *cloud);
}

void crdt__wire_put_context(crdt__wbuf *w, const crdt__ctx *ctx,
                            const crdt__replicas *r) {
  ranking k;
  int rc = ranking_make(&k, ctx, r, w->mem);
  if (rc) {
    if (!w->err) w->err = rc;
    return;
  }
  put_context(w, ctx, r, &k);
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

/* Sorts dots by (rank, counter) in linear time in the usual case: a
 * counting sort by replica rank, then per replica a bucket pass over the
 * counter range when it is dense (the dots of a replica are mostly a run of
 * its events); sparse replicas fall back to heapsort. CRDT_ENOMEM when the
 * scratch space cannot be had (dots then unsorted). */
static int sort_dots(ranked_dot *dots, size_t n, uint32_t nranks,
                     const crdt_allocator *m) {
  size_t *start = crdt__calloc(m, (size_t)nranks + 1, sizeof *start);
  ranked_dot *tmp = start ? crdt__alloc(m, crdt__mul(n, sizeof *tmp)) : NULL;
  if (!tmp) {
    crdt__free(m, start, ((size_t)nranks + 1) * sizeof *start);
    return CRDT_ENOMEM;
  }
  for (size_t i = 0; i < n; i++) start[dots[i].rank + 1]++;
  for (uint32_t r = 0; r < nranks; r++) start[r + 1] += start[r];
  size_t *fill = start; /* reused as the fill cursor, restored below */
  for (size_t i = 0; i < n; i++) tmp[fill[dots[i].rank]++] = dots[i];
  for (uint32_t r = nranks; r > 0; r--) start[r] = start[r - 1];
  start[0] = 0;
  for (uint32_t r = 0; r < nranks; r++) {
    size_t lo = start[r], hi = start[r + 1], len = hi - lo;
    if (!len) continue;
    uint64_t min = tmp[lo].counter, max = min;
    for (size_t i = lo; i < hi; i++) {
      if (tmp[i].counter < min) min = tmp[i].counter;
      if (tmp[i].counter > max) max = tmp[i].counter;
    }
    uint64_t range = max - min + 1;
    if (range > 2 * (uint64_t)len + 64 || range > UINT32_MAX) {
      memcpy(dots + lo, tmp + lo, len * sizeof *dots);
      crdt__sort(dots + lo, len, sizeof *dots, ranked_cmp, NULL);
      continue;
    }
    uint32_t *bucket = crdt__calloc(m, (size_t)range, sizeof *bucket);
    if (!bucket) {
      crdt__free(m, tmp, n * sizeof *tmp);
      crdt__free(m, start, ((size_t)nranks + 1) * sizeof *start);
      return CRDT_ENOMEM;
    }
    for (size_t i = lo; i < hi; i++)
      bucket[tmp[i].counter - min] = (uint32_t)(i - lo) + 1;
    size_t out = lo;
    for (uint64_t c = 0; c < range; c++)
      if (bucket[c]) dots[out++] = tmp[lo + bucket[c] - 1];
    crdt__free(m, bucket, (size_t)range * sizeof *bucket);
  }
  crdt__free(m, tmp, n * sizeof *tmp);
  crdt__free(m, start, ((size_t)nranks + 1) * sizeof *start);
  return 0;
}

void crdt__wire_put_causal(crdt__wbuf *w, const crdt__causal *c, bool values) {
  const crdt_allocator *m = w->mem;
  ranking k;
  ranked_dot *dots = NULL;
  uint32_t *index = NULL;
  size_t ndots = 0;
  int rc = ranking_make(&k, &c->ctx, &c->replicas, m);
  if (rc) goto fail;
  put_context(w, &c->ctx, &c->replicas, &k);

  const crdt__store *s = &c->store;
  for (uint32_t n = 0; n < s->count; n++) ndots += s->entries[n].ndots;
  if (ndots) {
    dots = crdt__alloc(m, crdt__mul(ndots, sizeof *dots));
    index = crdt__alloc(m, crdt__mul(s->count, sizeof *index));
    if (!dots || !index) {
      rc = CRDT_ENOMEM;
      goto fail;
    }
    size_t at = 0;
    for (uint32_t n = 0; n < s->count; n++) {
      const crdt__entry *e = &s->entries[n];
      index[n] = UINT32_MAX;
      crdt__dv one;
      const crdt__dv *d = crdt__entry_view(e, &one);
      for (uint32_t j = 0; j < e->ndots; j++)
        dots[at++] = (ranked_dot){d[j].counter, k.rank[d[j].replica], n, d[j].value};
    }
    if ((rc = sort_dots(dots, ndots, k.n, m))) goto fail;
  }
  /* Dot stream: per replica, dots by counter; an entry's key is written at
   * its first dot, later dots refer to it by number. */
  uint32_t defined = 0;
  size_t at = 0;
  for (uint32_t i = 0; i < k.n; i++) {
    size_t first = at;
    while (at < ndots && dots[at].rank == i) at++;
    crdt__w_varint(w, at - first);
    uint64_t prev = 0;
    for (size_t j = first; j < at; j++) {
      uint64_t gap = dots[j].counter - prev - 1;
      prev = dots[j].counter;
      if (gap > (UINT64_MAX >> 1)) {
        rc = CRDT_ERANGE; /* only counters past 2^63 get here */
        goto fail;
      }
      const crdt__entry *e = &s->entries[dots[j].slot];
      if (index[dots[j].slot] == UINT32_MAX) {
        index[dots[j].slot] = defined++;
        crdt__w_varint(w, gap << 1);
        crdt__w_varint(w, e->keylen);
        crdt__w_bytes(w, crdt__entry_key(e), e->keylen);
      } else {
        crdt__w_varint(w, gap << 1 | 1);
        crdt__w_varint(w, index[dots[j].slot]);
      }
      if (values) crdt__w_zigzag(w, dots[j].value);
    }
  }
  /* Markers (keyed deltas only): keys without dots, sorted by bytes. */
  uint32_t markers = 0;
  for (uint32_t n = 0; n < s->count; n++) markers += !s->entries[n].ndots;
  crdt__w_varint(w, markers);
  if (markers) {
    const crdt__entry **sorted;
    if ((rc = crdt__store_sorted(s, m, &sorted))) goto fail;
    for (uint32_t i = 0; i < s->count; i++) {
      if (sorted[i]->ndots) continue;
      crdt__w_varint(w, sorted[i]->keylen);
      crdt__w_bytes(w, crdt__entry_key(sorted[i]), sorted[i]->keylen);
    }
    crdt__free(m, sorted, s->count * sizeof *sorted);
  }
  rc = 0;
fail:
  if (rc && !w->err) w->err = rc;
  if (index) crdt__free(m, index, c->store.count * sizeof *index);
  crdt__free(m, dots, ndots * sizeof *dots);
  ranking_free(&k, m);
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
    uint64_t n, prev = 0;
    if ((rc = crdt__r_count(r, 1, &n))) return rc;
    /* Room for this replica's dots as new keys, at most one per 2 bytes
     * left, so a lying count cannot make us allocate past the input. */
    uint64_t room = n < crdt__r_left(r) / 2 ? n : crdt__r_left(r) / 2;
    if (room > UINT32_MAX / 4) room = UINT32_MAX / 4;
    if ((rc = crdt__store_reserve_entries(s, m, (uint32_t)room))) return rc;
    for (uint64_t j = 0; j < n; j++) {
      uint64_t head;
      if ((rc = crdt__r_varint(r, &head))) return rc;
      uint64_t gap = head >> 1;
      /* counter = prev + gap + 1 <= UINT64_MAX (written so that nothing
       * wraps when prev is already UINT64_MAX) */
      if (gap >= UINT64_MAX - prev) return CRDT_EOVERFLOW;
      crdt__dv dv = {prev + gap + 1, i, 0};
      prev = dv.counter;
      if (!crdt__ctx_has(&c->ctx, (crdt__dot){dv.counter, i})) return CRDT_EDOT;
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
      if ((rc = crdt__entry_reserve(e, m, e->ndots + 1,
                                    e->ndots == 0 && crdt__dv_packable(dv))))
        return rc;
      crdt__entry_push(e, dv);
    }
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
