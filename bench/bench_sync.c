/*
 * The sync_* cases of shared/BENCH-CASES.md, on an OR-set (`sync`), on a
 * cart (`sync_cart`) and on a map (`sync_map`: item i is an element of the
 * OR-set field "items" of the nested map "user-(i/100)", so N items make
 * N/100 users): two replicas A ("a") and B ("b") of N items, a session
 * pair between them, and one session's worth of exchange, timed (both
 * sides' produce and receive, in lockstep ticks: each tick, each side sends
 * what it has, and receives what the other sent in that tick).
 *
 * Each line reports, besides the times:
 *   ab, ba      bytes A -> B and B -> A
 *   rt          round trips when both sides start at once (ticks / 2)
 *   rt_one      round trips when A starts and B only answers (one extra,
 *               untimed run)
 *   minimal     the encoded size of the exact difference, each side's part
 *               as one keyed delta blob, built by brute force from the two
 *               states (every dot one side has and the other's context
 *               lacks, with its key; every dot one side has seen die that
 *               the other holds, on its key; the rest of the context);
 *               on the map, where B held A's state before the changes, the
 *               delta group of each side's changes (what its mutators
 *               produced, joined), which is that same difference
 *   full        the encoded size of A's whole state (what a full-state
 *               transfer sends each way)
 *   full_s      seconds of that full-state transfer both ways (each state
 *               encoded, decoded and merged into the other; median of 3)
 *   ctx         the encoded size of A's causal context token
 * Messages are capped at 1 MiB.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "dotted.h"
#include "syncops.h"
#include "wire.h"

#define CAP ((size_t)1 << 20)

/* ---- lockstep exchange -------------------------------------------------- */

typedef struct flight {
  uint8_t **msg;
  size_t *len, n, cap;
} flight;

static void flight_push(flight *f, const uint8_t *m, size_t n) {
  if (f->n == f->cap) {
    f->cap = f->cap ? f->cap * 2 : 8;
    f->msg = realloc(f->msg, f->cap * sizeof *f->msg);
    f->len = realloc(f->len, f->cap * sizeof *f->len);
    if (!f->msg || !f->len) die("flight", CRDT_ENOMEM);
  }
  if (!(f->msg[f->n] = malloc(n))) die("flight", CRDT_ENOMEM);
  memcpy(f->msg[f->n], m, n);
  f->len[f->n++] = n;
}

static void flight_free(flight *f) {
  for (size_t i = 0; i < f->n; i++) free(f->msg[i]);
  free(f->msg);
  free(f->len);
  memset(f, 0, sizeof *f);
}

typedef struct exchange {
  uint64_t ab, ba;
  int ticks;
} exchange;

static uint8_t *scratch;

static void speak(crdt_sync *s, flight *f, uint64_t *bytes) {
  for (;;) {
    size_t n;
    CHECK(crdt_sync_produce(s, scratch, CAP, &n));
    if (!n) return;
    flight_push(f, scratch, n);
    *bytes += n;
  }
}

/* Ticks until both sessions are in sync (b silent until it hears from a
 * when b_waits). */
static exchange pump(crdt_sync *a, crdt_sync *b, bool b_waits) {
  exchange x = {0, 0, 0};
  bool b_heard = !b_waits;
  for (int t = 0; t < 1000; t++) {
    flight fa = {0}, fb = {0};
    speak(a, &fa, &x.ab);
    if (b_heard) speak(b, &fb, &x.ba);
    for (size_t i = 0; i < fa.n; i++) CHECK(crdt_sync_receive(b, fa.msg[i], fa.len[i]));
    for (size_t i = 0; i < fb.n; i++) CHECK(crdt_sync_receive(a, fb.msg[i], fb.len[i]));
    if (fa.n) b_heard = true;
    const bool carried = fa.n || fb.n;
    flight_free(&fa);
    flight_free(&fb);
    if (carried) x.ticks++;
    if (crdt_sync_in_sync(a) && crdt_sync_in_sync(b)) return x;
  }
  die("sessions never got in sync", CRDT_EINVAL);
  return x;
}

/* ---- the exact difference, by brute force ------------------------------- */

static const crdt__causal *causal(const crdt_object *o) {
  return &crdt__dotted_cof(o)->c;
}

static bool has(const crdt__causal *c, const crdt__replicas *r, uint32_t i,
                uint64_t counter) {
  uint32_t j = crdt__replicas_find_rid(&c->replicas, r->by_index[i]);
  return j != CRDT__NO_REPLICA &&
         crdt__ctx_has(&c->ctx, (crdt__dot){counter, j});
}

static void put(crdt__causal *d, const crdt__replicas *r, uint32_t i,
                uint64_t counter, const crdt__entry *key, int64_t value,
                bool live) {
  const crdt_allocator *m = crdt__mem_default();
  uint32_t ri;
  size_t len;
  const char *id = crdt__replicas_id(r, i, &len);
  CHECK(crdt__causal_replica(d, m, id, len, &ri));
  crdt__ctx_add(&d->ctx, (crdt__dot){counter, ri});
  if (!key) return;
  crdt__entry *e = crdt__store_find(&d->store, crdt__entry_key(key),
                                    key->keylen, key->hash);
  if (!e) CHECK(crdt__store_insert(&d->store, m, crdt__entry_key(key),
                                   key->keylen, key->hash, &e));
  if (live) CHECK(crdt__entry_add(e, m, (crdt__dv){counter, ri, value}));
}

/* Bytes of x's part of the difference: what y needs from x. */
static size_t diff_bytes(const crdt_object *xo, const crdt_object *yo) {
  const crdt__causal *x = causal(xo), *y = causal(yo);
  crdt__causal d = {0};
  d.keyed = true;
  /* x's live dots y has not seen */
  for (uint32_t n = 0; n < x->store.count; n++) {
    const crdt__entry *e = &x->store.entries[n];
    for (uint32_t i = 0; i < e->ndots; i++) {
      crdt__dv dv = crdt__entry_dot(e, i);
      if (!has(y, &x->replicas, dv.replica, dv.counter))
        put(&d, &x->replicas, dv.replica, dv.counter, e, dv.value, true);
    }
  }
  /* y's live dots x has seen die: on their key */
  for (uint32_t n = 0; n < y->store.count; n++) {
    const crdt__entry *e = &y->store.entries[n];
    const crdt__entry *xe = crdt__store_find(&x->store, crdt__entry_key(e),
                                             e->keylen, e->hash);
    for (uint32_t i = 0; i < e->ndots; i++) {
      crdt__dv dv = crdt__entry_dot(e, i);
      if (!has(x, &y->replicas, dv.replica, dv.counter)) continue;
      bool alive = false;
      for (uint32_t k = 0; xe && k < xe->ndots && !alive; k++) {
        crdt__dv xd = crdt__entry_dot(xe, k);
        alive = xd.counter == dv.counter &&
                crdt__replicas_find_rid(&x->replicas, y->replicas.by_index[dv.replica]) ==
                    xd.replica;
      }
      if (!alive) put(&d, &y->replicas, dv.replica, dv.counter, e, 0, false);
    }
  }
  /* the rest of x's context y lacks (removals' own dots and the like) */
  for (uint32_t i = 0; i < x->replicas.count; i++) {
    uint32_t j = crdt__replicas_find_rid(&y->replicas, x->replicas.by_index[i]);
    uint64_t from = j == CRDT__NO_REPLICA ? 0 : crdt__vv_get(&y->ctx.vv, j);
    for (uint64_t c = from + 1; c <= crdt__vv_get(&x->ctx.vv, i); c++)
      if (!has(y, &x->replicas, i, c)) put(&d, &x->replicas, i, c, NULL, 0, false);
  }
  for (uint32_t s = 0; s < x->ctx.cloud.cap; s++) {
    crdt__dot dt = x->ctx.cloud.slots[s];
    if (dt.counter && !has(y, &x->replicas, dt.replica, dt.counter))
      put(&d, &x->replicas, dt.replica, dt.counter, NULL, 0, false);
  }
  if (!d.ctx.vv.len && !d.ctx.cloud.count) return 0; /* nothing to send */
  crdt__wbuf w = crdt__wbuf_into(NULL, 0, crdt__mem_default());
  crdt__frame_begin(&w, (uint8_t)xo->type->tag, CRDT__WIRE_FLAG_KEYED);
  crdt__wire_put_causal(&w, &d, xo->type->tag == CRDT_TYPE_CART);
  crdt__frame_end(&w);
  if (w.err && w.err != CRDT_ENOSPC) die("diff", w.err);
  size_t n = w.len; /* the blob's size: only measured (ENOSPC says it) */
  crdt__wbuf_free(&w);
  crdt__causal_free(&d, crdt__mem_default());
  return n;
}

/* ---- the workloads -------------------------------------------------------- */

typedef struct pair {
  crdt_object *a, *b;
  crdt_sync *sa, *sb;
  crdt_object *da, *db; /* the map's delta groups of A's and B's changes
                         * (NULL: that side made none) */
} pair;

static crdt_type kind;

/* `delta`: the map's delta group of the changes (NULL: none kept). */
static void change(crdt_object *o, size_t i, bool add, crdt_object *delta) {
  const char *k = item(i);
  if (kind == CRDT_TYPE_MAP) {
    char user[32];
    snprintf(user, sizeof user, "user-%zu", i / 100);
    crdt_map *d = delta ? crdt_object_map(delta) : NULL;
    if (add)
      CHECK(crdt_map_orset_add(crdt_object_map(o), CRDT_PATH(user, "items"), k,
                               strlen(k), d));
    else
      CHECK(crdt_map_orset_remove(crdt_object_map(o), CRDT_PATH(user, "items"),
                                  k, strlen(k), d));
  } else if (kind == CRDT_TYPE_CART) {
    if (add)
      CHECK(crdt_cart_add(crdt_object_cart(o), k, strlen(k), 1 + i % 5, NULL));
    else
      CHECK(crdt_cart_remove(crdt_object_cart(o), k, strlen(k), NULL));
  } else if (add) {
    CHECK(crdt_orset_add(crdt_object_orset(o), k, strlen(k), NULL));
  } else {
    CHECK(crdt_orset_remove(crdt_object_orset(o), k, strlen(k), NULL));
  }
}

static crdt_object *base; /* A's N items, built once */

static void make_base(size_t n) {
  CHECK(crdt_object_new(kind, "a", &base));
  for (size_t i = 0; i < n; i++) change(base, i, true, NULL);
}

/* A = base, B = a replica that merged A, and a session pair that has
 * synced once (warm). */
static pair setup(void) {
  pair p = {0};
  CHECK(crdt_object_copy(base, &p.a));
  CHECK(crdt_object_new(kind, "b", &p.b));
  CHECK(crdt_object_merge(p.b, p.a));
  CHECK(crdt_sync_new(p.a, &p.sa));
  CHECK(crdt_sync_new(p.b, &p.sb));
  (void)pump(p.sa, p.sb, false);
  return p;
}

static void teardown(pair *p) {
  crdt_sync_free(p->sa);
  crdt_sync_free(p->sb);
  crdt_object_free(p->a);
  crdt_object_free(p->b);
  crdt_object_free(p->da);
  crdt_object_free(p->db);
}

enum { IDLE, IDLE_FRESH, IDLE_LOADED, ADDS, REMOVES, BOTH, COLD };

/* The changes of a case, made after the setup (untimed). */
static void prepare(pair *p, int what, size_t n) {
  const size_t k = n / 1000 ? n / 1000 : 1;
  if (what == IDLE) {
    CHECK(crdt_sync_restart(p->sa)); /* a new round: contexts only */
    CHECK(crdt_sync_restart(p->sb));
  } else if (what == IDLE_FRESH || what == IDLE_LOADED) {
    /* sessions that never met; for IDLE_LOADED on objects that never had
     * one either (as if just loaded: copies, without a journal) */
    crdt_sync_free(p->sa);
    crdt_sync_free(p->sb);
    if (what == IDLE_LOADED) {
      crdt_object *a, *b;
      CHECK(crdt_object_copy(p->a, &a));
      CHECK(crdt_object_copy(p->b, &b));
      crdt_object_free(p->a);
      crdt_object_free(p->b);
      p->a = a;
      p->b = b;
    }
    CHECK(crdt_sync_new(p->a, &p->sa));
    CHECK(crdt_sync_new(p->b, &p->sb));
  }
  const bool a_changes = what >= ADDS, b_changes = what >= BOTH; /* enum order */
  if (kind == CRDT_TYPE_MAP && a_changes) CHECK(crdt_object_new(kind, NULL, &p->da));
  if (kind == CRDT_TYPE_MAP && b_changes) CHECK(crdt_object_new(kind, NULL, &p->db));
  crdt_object *da = p->da, *db = p->db;
  if (what == ADDS || what == BOTH || what == COLD)
    for (size_t i = 0; i < k; i++) change(p->a, n + i, true, da);
  if (what == REMOVES || what == BOTH || what == COLD)
    for (size_t i = 0; i < k; i++) change(p->a, i * 1000, false, da);
  if (what == BOTH || what == COLD) {
    for (size_t i = 0; i < k; i++) change(p->b, 2 * n + i, true, db);
    for (size_t i = 0; i < k; i++) change(p->b, i * 1000 + 500, false, db);
  }

  if (what == COLD) { /* B's session state is lost */
    crdt_sync_free(p->sb);
    CHECK(crdt_sync_new(p->b, &p->sb));
  }
}

static size_t blob_size(const crdt_object *o) {
  size_t n = 0;
  int rc = crdt_encode(o, NULL, 0, &n);
  if (rc != CRDT_ENOSPC) die("encode", rc);
  return n;
}

static size_t context_size(const crdt_object *o) {
  crdt_context *c;
  size_t n = 0;
  CHECK(crdt_object_context(o, &c));
  int rc = crdt_context_encode(c, NULL, 0, &n);
  if (rc != CRDT_ENOSPC) die("context", rc);
  crdt_context_free(c);
  return n;
}

/* Seconds of a full-state transfer both ways, the comparison point: each
 * side's state encoded, decoded and merged into (a copy of) the other. */
static double full_transfer(const crdt_object *a, const crdt_object *b) {
  crdt_object *x, *y;
  CHECK(crdt_object_copy(a, &x));
  CHECK(crdt_object_copy(b, &y));
  const double t0 = now();
  for (int dir = 0; dir < 2; dir++) {
    const crdt_object *from = dir ? b : a;
    crdt_object *into = dir ? x : y, *got;
    size_t len = blob_size(from);
    uint8_t *blob = malloc(len);
    if (!blob) die("full", CRDT_ENOMEM);
    CHECK(crdt_encode(from, blob, len, &len));
    CHECK(crdt_decode(blob, len, NULL, &got));
    CHECK(crdt_object_merge(into, got));
    crdt_object_free(got);
    free(blob);
  }
  const double t = now() - t0;
  crdt_object_free(x);
  crdt_object_free(y);
  return t;
}

static void run_case(const char *name, int what, size_t n) {
  double t[RUNS];
  exchange x = {0, 0, 0};
  size_t minimal = 0, full = 0, ctx = 0;
  double full_s = 0;
  for (int r = 0; r < RUNS; r++) {
    pair p = setup();
    prepare(&p, what, n);
    if (r == 0) {
      if (kind == CRDT_TYPE_MAP) /* B held A's state before the changes */
        minimal = (p.da ? blob_size(p.da) : 0) + (p.db ? blob_size(p.db) : 0);
      else
        minimal = diff_bytes(p.a, p.b) + diff_bytes(p.b, p.a);
      full = blob_size(p.a);
      ctx = context_size(p.a);
      double f[3];
      for (int i = 0; i < 3; i++) f[i] = full_transfer(p.a, p.b);
      full_s = summarize(f, 3).median;
    }
    double t0 = now();
    x = pump(p.sa, p.sb, false);
    t[r] = now() - t0;
    if (!crdt_object_equal(p.a, p.b)) die(name, CRDT_EINVAL);
    teardown(&p);
  }
  pair p = setup(); /* one side starts */
  prepare(&p, what, n);
  if (what >= ADDS) CHECK(crdt_sync_restart(p.sa)); /* enum order */
  exchange one = pump(p.sa, p.sb, true);
  if (!crdt_object_equal(p.a, p.b)) die(name, CRDT_EINVAL);
  teardown(&p);
  char extra[256];
  snprintf(extra, sizeof extra,
           "ab=%llu ba=%llu rt=%.1f rt_one=%.1f minimal=%zu full=%zu "
           "full_s=%.6f ctx=%zu",
           (unsigned long long)x.ab, (unsigned long long)x.ba, x.ticks / 2.0,
           one.ticks / 2.0, minimal, full, full_s, ctx);
  report(name, n, summarize(t, RUNS), extra);
}

static void run_all(size_t n, const char *suffix) {
  static const struct {
    const char *name;
    int what;
  } cases[] = {{"sync_idle", IDLE},           {"sync_idle_fresh", IDLE_FRESH},
               {"sync_idle_loaded", IDLE_LOADED}, {"sync_adds", ADDS},
               {"sync_removes", REMOVES},     {"sync_both", BOTH},
               {"sync_cold", COLD}};
  if (!(scratch = malloc(CAP))) die("scratch", CRDT_ENOMEM);
  make_base(n);
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char name[64];
    snprintf(name, sizeof name, "%s%s", cases[i].name, suffix);
    run_case(name, cases[i].what, n);
  }
  crdt_object_free(base);
  free(scratch);
}

void case_sync_orset(size_t n) {
  kind = CRDT_TYPE_ORSET;
  run_all(n, "");
}

void case_sync_cart(size_t n) {
  kind = CRDT_TYPE_CART;
  run_all(n, "_cart");
}

void case_sync_map(size_t n) {
  kind = CRDT_TYPE_MAP;
  run_all(n, "_map");
}
