/*
 * Reference models (see model.h). Deliberately naive: sets are bitmaps over
 * event numbers, values are recomputed from scratch from the set of events
 * seen, sums are exact in 128 bits. Nothing here knows how the library
 * stores dots, contexts or entries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

/* ---- sets -------------------------------------------------------------------- */

void model_set_clear(model_set *s) { memset(s, 0, sizeof *s); }

void model_set_add(model_set *s, unsigned e) {
  s->w[e / 64] |= (uint64_t)1 << (e % 64);
}

bool model_set_has(const model_set *s, unsigned e) {
  return (s->w[e / 64] >> (e % 64)) & 1;
}

void model_set_union(model_set *s, const model_set *t) {
  for (unsigned i = 0; i < MODEL_SET_WORDS; i++) s->w[i] |= t->w[i];
}

bool model_set_subset(const model_set *s, const model_set *t) {
  for (unsigned i = 0; i < MODEL_SET_WORDS; i++)
    if (s->w[i] & ~t->w[i]) return false;
  return true;
}

crdt_order model_set_order(const model_set *a, const model_set *b) {
  bool le = model_set_subset(a, b), ge = model_set_subset(b, a);
  return le && ge ? CRDT_EQUAL : le ? CRDT_BEFORE : ge ? CRDT_AFTER
                                                       : CRDT_CONCURRENT;
}

/* ---- bytes --------------------------------------------------------------------- */

/* The library's canonical byte order: memcmp on the common prefix, the
 * shorter first on a tie. */
int model_bytes_cmp(const void *a, size_t alen, const void *b, size_t blen) {
  size_t n = alen < blen ? alen : blen;
  int c = n ? memcmp(a, b, n) : 0;
  if (c) return c;
  return alen < blen ? -1 : alen > blen;
}

static int key_cmp(const model *m, unsigned a, unsigned b) {
  return model_bytes_cmp(m->key[a].bytes, m->key[a].len, m->key[b].bytes,
                   m->key[b].len);
}

/* Interns a key; keys are compared by bytes. */
static unsigned key_of(model *m, const void *bytes, size_t len) {
  if (len > MODEL_KEY_MAX) abort(); /* unsupported: see model.h */
  for (unsigned k = 0; k < m->nkeys; k++)
    if (model_bytes_cmp(m->key[k].bytes, m->key[k].len, bytes, len) == 0) return k;
  if (m->nkeys == MODEL_MAX_EVENTS) abort();
  model_key *k = &m->key[m->nkeys];
  k->len = len;
  if (len) memcpy(k->bytes, bytes, len);
  return m->nkeys++;
}

/* The key's index when it is known, else -1 (lookups must not intern). */
static int key_find(const model *m, const void *bytes, size_t len) {
  for (unsigned k = 0; k < m->nkeys; k++)
    if (model_bytes_cmp(m->key[k].bytes, m->key[k].len, bytes, len) == 0)
      return (int)k;
  return -1;
}

/* ---- growing strings -------------------------------------------------------- */

typedef model_str str;

void model_str_put(str *t, const char *p, size_t n) {
  if (t->oom) return;
  if (t->len + n + 1 > t->cap) {
    size_t cap = (t->len + n + 1) * 2;
    char *s = realloc(t->s, cap);
    if (!s) {
      t->oom = true;
      return;
    }
    t->s = s;
    t->cap = cap;
  }
  memcpy(t->s + t->len, p, n);
  t->len += n;
  t->s[t->len] = 0;
}

static void put(str *t, const char *p, size_t n) { model_str_put(t, p, n); }

void model_str_puts(str *t, const char *p) { model_str_put(t, p, strlen(p)); }

static void puts_(str *t, const char *p) { model_str_puts(t, p); }

static void put_u128(str *t, u128 v) {
  char d[48];
  size_t n = 0;
  do {
    d[sizeof d - 1 - n++] = (char)('0' + (int)(v % 10));
    v /= 10;
  } while (v);
  put(t, d + sizeof d - n, n);
}

static void put_i128(str *t, i128 v) {
  if (v < 0) {
    put(t, "-", 1);
    put_u128(t, (u128)0 - (u128)v);
  } else {
    put_u128(t, (u128)v);
  }
}

char *model_str_finish(str *t) {
  if (t->oom) {
    free(t->s);
    return NULL;
  }
  if (!t->s) put(t, "", 0);
  return t->s;
}

/* Length of a well-formed UTF-8 sequence at p (Unicode's table 3-7: no
 * overlong forms, no surrogates, nothing past U+10FFFF), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n) {
  unsigned char c = p[0];
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (n < len || p[1] < lo || p[1] > hi) return 0;
  for (size_t i = 2; i < len; i++)
    if (p[i] < 0x80 || p[i] > 0xBF) return 0;
  return len;
}

/* A JSON string: quote and backslash escaped, \n and \t, printable ASCII
 * and well-formed UTF-8 as is, every other byte as \u00XX. */
void model_str_json(str *t, const unsigned char *p, size_t n) {
  put(t, "\"", 1);
  for (size_t i = 0; i < n;) {
    unsigned char c = p[i];
    size_t seq;
    if (c == '"') {
      put(t, "\\\"", 2);
      i++;
    } else if (c == '\\') {
      put(t, "\\\\", 2);
      i++;
    } else if (c == '\n') {
      put(t, "\\n", 2);
      i++;
    } else if (c == '\t') {
      put(t, "\\t", 2);
      i++;
    } else if (c >= 0x20 && c <= 0x7E) {
      put(t, (const char *)p + i, 1);
      i++;
    } else if (c >= 0x80 && (seq = utf8_seq(p + i, n - i)) > 0) {
      put(t, (const char *)p + i, seq);
      i += seq;
    } else {
      char esc[7];
      snprintf(esc, sizeof esc, "\\u%04x", c);
      put(t, esc, 6);
      i++;
    }
  }
  put(t, "\"", 1);
}

static unsigned sorted_keys(const model *m, const model_set *l,
                            unsigned *keys);

/* ---- the model --------------------------------------------------------------- */

void model_init(model *m, crdt_type type, unsigned n, const char *const *ids) {
  if (n < 1 || n > MODEL_MAX_REPLICAS) abort();
  memset(m, 0, sizeof *m);
  m->type = type;
  m->nreplicas = n;
  for (unsigned r = 0; r < n; r++) {
    size_t len = strlen(ids[r]);
    if (len < 1 || len > CRDT_REPLICA_MAX) abort();
    memcpy(m->id[r], ids[r], len + 1);
  }
}

void model_save(const model *m, model_mark *mark) {
  mark->nevents = m->nevents;
  mark->nkeys = m->nkeys;
  memcpy(mark->made, m->made, sizeof mark->made);
  memcpy(mark->seen, m->seen, sizeof mark->seen);
}

void model_restore(model *m, const model_mark *mark) {
  m->nevents = mark->nevents;
  m->nkeys = mark->nkeys;
  memcpy(m->made, mark->made, sizeof m->made);
  memcpy(m->seen, mark->seen, sizeof m->seen);
}

bool model_full(const model *m) { return m->nevents >= MODEL_MAX_EVENTS; }

const model_set *model_seen(const model *m, unsigned r) { return &m->seen[r]; }

const model_set *model_delta(const model *m, unsigned e) {
  return &m->ev[e].rset;
}

void model_known(const model *m, const model_set *s, model_set *out) {
  model_set_clear(out);
  for (unsigned e = 0; e < m->nevents; e++)
    if (model_set_has(s, e)) model_set_union(out, &m->ev[e].delta);
}

crdt_order model_order(const model *m, const model_set *a,
                       const model_set *b) {
  model_set ka, kb;
  model_known(m, a, &ka);
  model_known(m, b, &kb);
  return model_set_order(&ka, &kb);
}

void model_receive(model *m, unsigned r, const model_set *s) {
  model_set_union(&m->seen[r], s);
}

static bool carries_payload(const model_event *x) {
  return x->kind != MODEL_REMOVE;
}

/* live(S): the events of S with a payload that no event of S kills. */
static model_set live(const model *m, const model_set *s) {
  model_set killed, out;
  model_set_clear(&killed);
  model_set_clear(&out);
  for (unsigned e = 0; e < m->nevents; e++)
    if (model_set_has(s, e)) model_set_union(&killed, &m->ev[e].kill);
  for (unsigned e = 0; e < m->nevents; e++)
    if (model_set_has(s, e) && !model_set_has(&killed, e) &&
        carries_payload(&m->ev[e]))
      model_set_add(&out, e);
  return out;
}

/* The live events of S about key k. */
static model_set live_key(const model *m, const model_set *s, unsigned k) {
  model_set l = live(m, s), out;
  model_set_clear(&out);
  for (unsigned e = 0; e < m->nevents; e++)
    if (model_set_has(&l, e) && m->ev[e].key == k) model_set_add(&out, e);
  return out;
}

static bool set_empty(const model_set *s) {
  for (unsigned i = 0; i < MODEL_SET_WORDS; i++)
    if (s->w[i]) return false;
  return true;
}

/* Appends an event at replica r with the given kill set; its past is r's
 * seen set; delta_extra is what its delta's context names beyond itself,
 * rset_extra the events whose effects its delta carries beyond its own.
 * r then has seen it. */
static unsigned record(model *m, unsigned r, model_kind kind, unsigned key,
                       uint64_t n, const model_set *kill,
                       const model_set *delta_extra,
                       const model_set *rset_extra) {
  if (model_full(m)) abort();
  unsigned e = m->nevents++;
  model_event *x = &m->ev[e];
  memset(x, 0, sizeof *x);
  x->replica = r;
  x->counter = ++m->made[r];
  x->kind = kind;
  x->key = key;
  x->n = n;
  x->past = m->seen[r];
  if (kill) x->kill = *kill;
  if (delta_extra) x->delta = *delta_extra;
  model_set_add(&x->delta, e);
  if (rset_extra) x->rset = *rset_extra;
  model_set_add(&x->rset, e);
  model_set_add(&m->seen[r], e);
  return e;
}

/* ---- counters ------------------------------------------------------------------ */

/* Sums of increments and decrements in S, overall and of replica r. */
static void counter_sums(const model *m, const model_set *s, int r, u128 *inc,
                         u128 *dec) {
  *inc = *dec = 0;
  for (unsigned e = 0; e < m->nevents; e++) {
    const model_event *x = &m->ev[e];
    if (!model_set_has(s, e) || (r >= 0 && x->replica != (unsigned)r))
      continue;
    if (x->kind == MODEL_INC)
      *inc += x->n;
    else
      *dec += x->n;
  }
}

/* The delta of a counter update is the replica's whole entry: it makes
 * every earlier event of the replica known. */
static unsigned counter_record(model *m, unsigned r, model_kind kind,
                               uint64_t n) {
  model_set prefix;
  model_set_clear(&prefix);
  for (unsigned e = 0; e < m->nevents; e++)
    if (m->ev[e].replica == r) model_set_add(&prefix, e);
  return record(m, r, kind, 0, n, NULL, &prefix, &prefix);
}

int model_counter_inc(model *m, unsigned r, uint64_t n, unsigned *ev) {
  u128 inc, dec, own_inc, own_dec;
  counter_sums(m, &m->seen[r], -1, &inc, &dec);
  counter_sums(m, &m->seen[r], (int)r, &own_inc, &own_dec);
  if (own_inc + n > UINT64_MAX) return CRDT_ERANGE;
  if (m->type == CRDT_TYPE_GCOUNTER) {
    if (inc + n > UINT64_MAX) return CRDT_ERANGE;
  } else if ((i128)inc - (i128)dec + (i128)n > INT64_MAX) {
    return CRDT_ERANGE;
  }
  unsigned e = counter_record(m, r, MODEL_INC, n);
  if (ev) *ev = e;
  return 0;
}

int model_counter_dec(model *m, unsigned r, uint64_t n, unsigned *ev) {
  u128 inc, dec, own_inc, own_dec;
  counter_sums(m, &m->seen[r], -1, &inc, &dec);
  counter_sums(m, &m->seen[r], (int)r, &own_inc, &own_dec);
  if (own_dec + n > UINT64_MAX) return CRDT_ERANGE;
  if ((i128)inc - (i128)dec - (i128)n < INT64_MIN) return CRDT_ERANGE;
  unsigned e = counter_record(m, r, MODEL_DEC, n);
  if (ev) *ev = e;
  return 0;
}

/* ---- OR-set ---------------------------------------------------------------------- */

int model_orset_add(model *m, unsigned r, const void *elem, size_t len,
                    unsigned *ev) {
  unsigned k = key_of(m, elem, len);
  model_set kill = live_key(m, &m->seen[r], k);
  unsigned e = record(m, r, MODEL_ADD, k, 0, &kill, &kill, NULL);
  if (ev) *ev = e;
  return 0;
}

int model_orset_remove(model *m, unsigned r, const void *elem, size_t len,
                       unsigned *ev) {
  int k = key_find(m, elem, len);
  if (k < 0) return CRDT_ENOENT;
  model_set kill = live_key(m, &m->seen[r], (unsigned)k);
  if (set_empty(&kill)) return CRDT_ENOENT;
  unsigned e = record(m, r, MODEL_REMOVE, (unsigned)k, 0, &kill, &kill, NULL);
  if (ev) *ev = e;
  return 0;
}

bool model_orset_contains(const model *m, const model_set *s,
                          const void *elem, size_t len) {
  int k = key_find(m, elem, len);
  if (k < 0) return false;
  model_set l = live_key(m, s, (unsigned)k);
  return !set_empty(&l);
}

/* ---- flag -------------------------------------------------------------------------- */

/* The OR-set's rules on one element, the empty key: enable is add, disable
 * is remove. */
int model_flag_enable(model *m, unsigned r, unsigned *ev) {
  return model_orset_add(m, r, "", 0, ev);
}

int model_flag_disable(model *m, unsigned r, unsigned *ev) {
  return model_orset_remove(m, r, "", 0, ev);
}

bool model_flag_enabled(const model *m, const model_set *s) {
  return model_orset_contains(m, s, "", 0);
}

bool model_replaces_on_readd(crdt_type type) {
  return type == CRDT_TYPE_ORSET || type == CRDT_TYPE_FLAG;
}

/* ---- MV-register ---------------------------------------------------------------- */

int model_mvreg_write(model *m, unsigned r, const void *value, size_t len,
                      const model_set *read, unsigned *ev) {
  unsigned k = key_of(m, value, len);
  model_set token;
  if (read)
    token = *read;
  else
    model_known(m, &m->seen[r], &token);
  unsigned e = record(m, r, MODEL_WRITE, k, 0, &token, &token, NULL);
  if (ev) *ev = e;
  return 0;
}

size_t model_mvreg_count(const model *m, const model_set *s) {
  model_set l = live(m, s);
  bool shown[MODEL_MAX_EVENTS] = {0};
  size_t n = 0;
  for (unsigned e = 0; e < m->nevents; e++)
    if (model_set_has(&l, e) && !shown[m->ev[e].key]) {
      shown[m->ev[e].key] = true;
      n++;
    }
  return n;
}

const model_key *model_mvreg_sibling(const model *m, const model_set *s,
                                     uint64_t n) {
  model_set l = live(m, s);
  unsigned keys[MODEL_MAX_EVENTS];
  unsigned count = sorted_keys(m, &l, keys);
  return count ? &m->key[keys[n % count]] : NULL;
}

/* ---- cart -------------------------------------------------------------------------- */

static i128 signed_amount(const model_event *x) {
  return x->kind == MODEL_DEC ? -(i128)x->n : (i128)x->n;
}

static int64_t clamp64(i128 v) {
  if (v > INT64_MAX) return INT64_MAX;
  if (v < INT64_MIN) return INT64_MIN;
  return (int64_t)v;
}

/* Exact sum of the amounts of a set of changes. */
static i128 sum_of(const model *m, const model_set *s) {
  i128 q = 0;
  for (unsigned e = 0; e < m->nevents; e++)
    if (model_set_has(s, e)) q += signed_amount(&m->ev[e]);
  return q;
}

int64_t model_cart_quantity(const model *m, const model_set *s,
                            const void *item, size_t len) {
  int k = key_find(m, item, len);
  if (k < 0) return 0;
  model_set l = live_key(m, s, (unsigned)k);
  return clamp64(sum_of(m, &l));
}

int model_cart_add(model *m, unsigned r, const void *item, size_t len,
                   uint64_t n, unsigned *ev) {
  if (n > INT64_MAX) return CRDT_ERANGE;
  int64_t q = model_cart_quantity(m, &m->seen[r], item, len);
  if ((i128)q + (i128)n > INT64_MAX) return CRDT_ERANGE;
  unsigned k = key_of(m, item, len);
  unsigned e = record(m, r, MODEL_ADD, k, n, NULL, NULL, NULL);
  if (ev) *ev = e;
  return 0;
}

int model_cart_dec(model *m, unsigned r, const void *item, size_t len,
                   uint64_t n, uint64_t *taken, unsigned *ev) {
  int64_t q = model_cart_quantity(m, &m->seen[r], item, len);
  if (q <= 0) return CRDT_ENOENT;
  uint64_t take = n < (uint64_t)q ? n : (uint64_t)q;
  unsigned e =
      record(m, r, MODEL_DEC, key_of(m, item, len), take, NULL, NULL, NULL);
  if (taken) *taken = take;
  if (ev) *ev = e;
  return 0;
}

int model_cart_remove(model *m, unsigned r, const void *item, size_t len,
                      unsigned *ev) {
  int k = key_find(m, item, len);
  if (k < 0) return CRDT_ENOENT;
  model_set kill = live_key(m, &m->seen[r], (unsigned)k);
  if (set_empty(&kill)) return CRDT_ENOENT;
  unsigned e = record(m, r, MODEL_REMOVE, (unsigned)k, 0, &kill, &kill, NULL);
  if (ev) *ev = e;
  return 0;
}

/* ---- LWW-register ---------------------------------------------------------------- */

/* Orders writes by (timestamp, writer id bytes, value bytes). */
static int lww_cmp(const model *m, uint64_t ts_a, unsigned r_a, unsigned k_a,
                   uint64_t ts_b, unsigned r_b, unsigned k_b) {
  if (ts_a != ts_b) return ts_a < ts_b ? -1 : 1;
  int c = model_bytes_cmp(m->id[r_a], strlen(m->id[r_a]), m->id[r_b],
                    strlen(m->id[r_b]));
  if (c) return c;
  return key_cmp(m, k_a, k_b);
}

/* The greatest write of S, or -1. */
static int lww_max(const model *m, const model_set *s) {
  int best = -1;
  for (unsigned e = 0; e < m->nevents; e++) {
    if (!model_set_has(s, e)) continue;
    const model_event *x = &m->ev[e];
    if (best < 0) {
      best = (int)e;
      continue;
    }
    const model_event *b = &m->ev[best];
    if (lww_cmp(m, x->timestamp, x->replica, x->key, b->timestamp, b->replica,
                b->key) > 0)
      best = (int)e;
  }
  return best;
}

int model_lwwreg_write(model *m, unsigned r, const void *value, size_t len,
                       uint64_t timestamp, unsigned *ev) {
  unsigned k = key_of(m, value, len);
  int cur = lww_max(m, &m->seen[r]);
  if (cur >= 0) {
    const model_event *c = &m->ev[cur];
    if (lww_cmp(m, timestamp, r, k, c->timestamp, c->replica, c->key) <= 0)
      return CRDT_ESTALE;
  }
  unsigned e = record(m, r, MODEL_WRITE, k, 0, NULL, NULL, NULL);
  m->ev[e].timestamp = timestamp;
  if (ev) *ev = e;
  return 0;
}

/* ---- rendering ------------------------------------------------------------------- */

/* Keys of the events of `l`, distinct, in canonical order. Returns the
 * count; keys[] receives key indexes. */
static unsigned sorted_keys(const model *m, const model_set *l,
                            unsigned *keys) {
  bool in[MODEL_MAX_EVENTS] = {0};
  unsigned n = 0;
  for (unsigned e = 0; e < m->nevents; e++)
    if (model_set_has(l, e) && !in[m->ev[e].key]) {
      in[m->ev[e].key] = true;
      keys[n++] = m->ev[e].key;
    }
  for (unsigned i = 1; i < n; i++) /* insertion sort: few keys */
    for (unsigned j = i; j > 0 && key_cmp(m, keys[j - 1], keys[j]) > 0; j--) {
      unsigned t = keys[j];
      keys[j] = keys[j - 1];
      keys[j - 1] = t;
    }
  return n;
}

static void put_key_list(str *t, const model *m, const model_set *l) {
  unsigned keys[MODEL_MAX_EVENTS];
  unsigned n = sorted_keys(m, l, keys);
  puts_(t, "[");
  for (unsigned i = 0; i < n; i++) {
    if (i) puts_(t, ", ");
    model_str_json(t, m->key[keys[i]].bytes, m->key[keys[i]].len);
  }
  puts_(t, "]");
}

/* The cart's items -> quantities, given the live changes l. */
static void put_cart(str *t, const model *m, const model_set *l) {
  unsigned keys[MODEL_MAX_EVENTS];
  unsigned n = sorted_keys(m, l, keys);
  bool first = true;
  puts_(t, "{");
  for (unsigned i = 0; i < n; i++) {
    i128 q = 0;
    for (unsigned e = 0; e < m->nevents; e++)
      if (model_set_has(l, e) && m->ev[e].key == keys[i])
        q += signed_amount(&m->ev[e]);
    int64_t shown = clamp64(q);
    if (shown <= 0) continue;
    if (!first) puts_(t, ", ");
    first = false;
    model_str_json(t, m->key[keys[i]].bytes, m->key[keys[i]].len);
    puts_(t, ": ");
    put_i128(t, shown);
  }
  puts_(t, "}");
}

static char *render(const model *m, const model_set *s, const model_set *l) {
  str t = {0};
  u128 inc, dec;
  switch (m->type) {
  case CRDT_TYPE_GCOUNTER:
    counter_sums(m, s, -1, &inc, &dec);
    put_u128(&t, inc);
    break;
  case CRDT_TYPE_PNCOUNTER:
    counter_sums(m, s, -1, &inc, &dec);
    put_i128(&t, (i128)inc - (i128)dec);
    break;
  case CRDT_TYPE_ORSET:
  case CRDT_TYPE_MVREG:
    put_key_list(&t, m, l);
    break;
  case CRDT_TYPE_CART:
    put_cart(&t, m, l);
    break;
  case CRDT_TYPE_FLAG: /* the one key has a live enable */
    puts_(&t, set_empty(l) ? "false" : "true");
    break;
  case CRDT_TYPE_LWWREG: {
    int w = lww_max(m, s);
    if (w < 0)
      puts_(&t, "null");
    else
      model_str_json(&t, m->key[m->ev[w].key].bytes, m->key[m->ev[w].key].len);
    break;
  }
  case CRDT_TYPE_MAP: /* modelled apart: tests/support/map_model.c */
    break;
  }
  return model_str_finish(&t);
}

char *model_value_json(const model *m, const model_set *s) {
  model_set l = live(m, s);
  return render(m, s, &l);
}

/* The happens-before reading. OR-set (and flag, an OR-set of one key): an
 * add of e is in unless some add or remove of e in S has it in its past.
 * Cart: a change of i counts unless some remove of i in S has it in its
 * past. */
char *model_value_json_hb(const model *m, const model_set *s) {
  bool readd = model_replaces_on_readd(m->type);
  if (!readd && m->type != CRDT_TYPE_CART) return model_value_json(m, s);
  /* dominated[k]: the events in the past of an event of S that overrides
   * key k (any OR-set event; a cart remove) */
  model_set dominated[MODEL_MAX_EVENTS];
  for (unsigned k = 0; k < m->nkeys; k++) model_set_clear(&dominated[k]);
  for (unsigned b = 0; b < m->nevents; b++) {
    const model_event *y = &m->ev[b];
    if (model_set_has(s, b) && (y->kind == MODEL_REMOVE || readd))
      model_set_union(&dominated[y->key], &y->past);
  }
  model_set l;
  model_set_clear(&l);
  for (unsigned a = 0; a < m->nevents; a++) {
    const model_event *x = &m->ev[a];
    if (model_set_has(s, a) && x->kind != MODEL_REMOVE &&
        !model_set_has(&dominated[x->key], a))
      model_set_add(&l, a);
  }
  return render(m, s, &l);
}

bool model_determined(const model *m, const model_set *s) {
  model_set known;
  model_known(m, s, &known);
  char *a = model_value_json(m, s), *b = model_value_json(m, &known);
  bool same = a && b && strcmp(a, b) == 0;
  free(a);
  free(b);
  return same;
}

bool model_closed(const model *m, const model_set *s) {
  for (unsigned e = 0; e < m->nevents; e++)
    if (model_set_has(s, e) && !model_set_subset(&m->ev[e].past, s))
      return false;
  return true;
}

/* Replica indexes sorted by id bytes. */
static void sorted_replicas(unsigned n, const char (*id)[CRDT_REPLICA_MAX + 1],
                            unsigned *order) {
  for (unsigned r = 0; r < n; r++) order[r] = r;
  for (unsigned i = 1; i < n; i++)
    for (unsigned j = i; j > 0; j--) {
      const char *a = id[order[j - 1]], *b = id[order[j]];
      if (model_bytes_cmp(a, strlen(a), b, strlen(b)) <= 0) break;
      unsigned t = order[j];
      order[j] = order[j - 1];
      order[j - 1] = t;
    }
}

char *model_dots_text(unsigned nreplicas,
                      const char (*id)[CRDT_REPLICA_MAX + 1],
                      const uint64_t *made,
                      bool (*has)(const void *ctx, unsigned r, uint64_t k),
                      const void *ctx) {
  unsigned order[MODEL_MAX_REPLICAS];
  sorted_replicas(nreplicas, id, order);
  uint64_t prefix[MODEL_MAX_REPLICAS] = {0};
  str t = {0};
  bool first = true, cloud = false;
  puts_(&t, "{");
  for (unsigned i = 0; i < nreplicas; i++) {
    unsigned r = order[i];
    uint64_t p = 0;
    while (p < made[r] && has(ctx, r, p + 1)) p++;
    prefix[r] = p;
    for (uint64_t k = p; k < made[r]; k++)
      if (has(ctx, r, k + 1)) cloud = true;
    if (!p) continue;
    if (!first) puts_(&t, ", ");
    first = false;
    puts_(&t, id[r]);
    puts_(&t, ":");
    put_u128(&t, p);
  }
  puts_(&t, "}");
  if (cloud) {
    puts_(&t, " + {");
    first = true;
    for (unsigned i = 0; i < nreplicas; i++) {
      unsigned r = order[i];
      for (uint64_t k = prefix[r]; k < made[r]; k++) {
        if (!has(ctx, r, k + 1)) continue;
        if (!first) puts_(&t, ", ");
        first = false;
        puts_(&t, id[r]);
        puts_(&t, ":");
        put_u128(&t, k + 1);
      }
    }
    puts_(&t, "}");
  }
  return model_str_finish(&t);
}

/* For model_dots_text: the set, and the event of each dot. */
typedef struct dots_of {
  const model_set *s;
  unsigned byrep[MODEL_MAX_REPLICAS][MODEL_MAX_EVENTS];
} dots_of;

static bool dot_in(const void *ctx, unsigned r, uint64_t k) {
  const dots_of *d = ctx;
  return model_set_has(d->s, d->byrep[r][k - 1]);
}

/* known(S) as a causal context: for each replica (by id) the longest run
 * of counters 1..p all in it, then the remaining dots. */
char *model_context_text(const model *m, const model_set *seen) {
  if (m->type == CRDT_TYPE_LWWREG) return NULL;
  model_set known;
  model_known(m, seen, &known);
  static dots_of d; /* large: not on the stack */
  d.s = &known;
  for (unsigned e = 0; e < m->nevents; e++)
    d.byrep[m->ev[e].replica][m->ev[e].counter - 1] = e;
  return model_dots_text(m->nreplicas, m->id, m->made, dot_in, &d);
}
