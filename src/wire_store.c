/*
 * Causal states on the wire: replica table, context, and the dot store as
 * one dot stream per replica (docs/format.md, "Dot store").
 */
#include <assert.h>
#include <string.h>

#include "sort.h"
#include "wire_priv.h"

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
  if ((rc = crdt__ranking_make(&k, &c->ctx, &c->replicas, m)) ||
      (rc = crdt__cloud_sorted(&c->ctx, &k, m, &cloud)) ||
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
  crdt__put_context(&o, &c->ctx, &c->replicas, &k, cloud);
  put_markers(&o, markers, sc.markers);
  size_t body = o.size;
  if (!crdt__frame_body(w, body)) goto done;
  /* Then the bytes, in order. */
  uint8_t *start = w->data + w->len;
  o = (sink){start, 0};
  crdt__put_context(&o, &c->ctx, &c->replicas, &k, cloud);
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
  crdt__ranking_free(&k, m);
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
