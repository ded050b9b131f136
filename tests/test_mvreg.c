/*
 * MV-register with read contexts: the DDIA question (seeds/000) with one
 * server, two servers and three leaderless replicas; tokens that travel
 * between replicas; resolve; a reference model checked against random
 * histories (laws, deltas, delta groups, compare); atomicity under OOM.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crdt/crdt.h"
#include "testutil.h"

#define S(x) (x), strlen(x)

/* ---- helpers ---------------------------------------------------------------- */

static crdt_mvreg *reg_at(const char *replica) {
  crdt_mvreg *r = NULL;
  assert_int_equal(crdt_mvreg_new(replica, &r), 0);
  return r;
}

static crdt_context *empty_token(void) {
  crdt_context *c = NULL;
  assert_int_equal(crdt_context_new(&c), 0);
  return c;
}

static crdt_context *token_of(const crdt_mvreg *r) {
  crdt_context *c = NULL;
  assert_int_equal(crdt_mvreg_context(r, &c), 0);
  return c;
}

static void write_at(crdt_mvreg *r, const char *value, const crdt_context *tok) {
  assert_int_equal(crdt_mvreg_write(r, S(value), tok, NULL), 0);
}

static void sync_into(crdt_mvreg *dst, const crdt_mvreg *src) {
  assert_int_equal(crdt_mvreg_merge(dst, src), 0);
}

/* Formats with the *_format buffer contract into a malloc'd string. */
static char *obj_format(const crdt_object *o,
                        int (*fmt)(const crdt_object *, char *, size_t,
                                   size_t *)) {
  size_t need = 0;
  assert_int_equal(fmt(o, NULL, 0, &need), CRDT_ENOSPC);
  char *buf = malloc(need + 1);
  assert_non_null(buf);
  assert_int_equal(fmt(o, buf, need + 1, NULL), 0);
  return buf;
}

static char *ctx_text(const crdt_context *c) {
  size_t need = 0;
  assert_int_equal(crdt_context_format(c, NULL, 0, &need), CRDT_ENOSPC);
  char *buf = malloc(need + 1);
  assert_non_null(buf);
  assert_int_equal(crdt_context_format(c, buf, need + 1, NULL), 0);
  return buf;
}

static void assert_siblings(crdt_mvreg *r, const char *json) {
  char *v = obj_format(crdt_mvreg_object(r), crdt_object_value_json);
  assert_string_equal(v, json);
  free(v);
}

static void assert_ctx(crdt_mvreg *r, const char *text) {
  char *v = obj_format(crdt_mvreg_object(r), crdt_object_context_text);
  assert_string_equal(v, text);
  free(v);
}

static void assert_token(const crdt_context *c, const char *text) {
  char *v = ctx_text(c);
  assert_string_equal(v, text);
  free(v);
}

static void assert_state(crdt_mvreg *r, const char *json, const char *ctx) {
  assert_siblings(r, json);
  assert_ctx(r, ctx);
}

static crdt_order order_of(crdt_mvreg *a, crdt_mvreg *b) {
  crdt_order o;
  assert_int_equal(crdt_mvreg_compare(a, b, &o), 0);
  return o;
}

/* ---- the DDIA question ------------------------------------------------------ */

/* seeds/000: one server S, two clients. A single version number per value
 * would let client 1's write (based on version S:1) overwrite [milk]; with
 * dots and read contexts [milk] survives as a sibling. */
static void test_mvreg_ddia_one_server(void **state) {
  (void)state;
  crdt_mvreg *s = reg_at("S");
  crdt_context *none = empty_token();

  /* client 1 writes [eggs]: dot S1 */
  write_at(s, "eggs", none);
  assert_state(s, "[\"eggs\"]", "{S:1}");
  crdt_context *client1 = token_of(s); /* client 1 read [eggs] at {S:1} */
  assert_token(client1, "{S:1}");

  /* client 2 writes [milk] without having read: dot S2 */
  write_at(s, "milk", none);
  assert_state(s, "[\"eggs\", \"milk\"]", "{S:2}");

  /* client 1 writes [eggs, bacon] based on what it read: dot S3 */
  write_at(s, "eggs, bacon", client1);
  assert_state(s, "[\"eggs, bacon\", \"milk\"]", "{S:3}");
  assert_int_equal(crdt_mvreg_count(s), 2);

  /* a client reads both siblings ({S:3}) and writes the merge: one value */
  crdt_context *both = token_of(s);
  assert_token(both, "{S:3}");
  write_at(s, "eggs, bacon, milk", both);
  assert_state(s, "[\"eggs, bacon, milk\"]", "{S:4}");
  assert_int_equal(crdt_mvreg_count(s), 1);

  crdt_context_free(both);
  crdt_context_free(client1);
  crdt_context_free(none);
  crdt_mvreg_free(s);
}

/* The same story with two servers: client 1 talks to S1, client 2 to S2,
 * the servers exchange full states. */
static void test_mvreg_ddia_two_servers(void **state) {
  (void)state;
  crdt_mvreg *s1 = reg_at("S1"), *s2 = reg_at("S2");
  crdt_context *none = empty_token();

  write_at(s1, "eggs", none); /* client 1 at S1: dot S1:1 */
  crdt_context *client1 = token_of(s1);
  assert_token(client1, "{S1:1}");
  write_at(s2, "milk", none); /* client 2 at S2, blind: dot S2:1 */
  assert_state(s1, "[\"eggs\"]", "{S1:1}");
  assert_state(s2, "[\"milk\"]", "{S2:1}");
  assert_int_equal(order_of(s1, s2), CRDT_CONCURRENT);

  sync_into(s1, s2);
  sync_into(s2, s1);
  assert_state(s1, "[\"eggs\", \"milk\"]", "{S1:1, S2:1}");
  assert_true(crdt_mvreg_equal(s1, s2));

  /* client 1 writes [eggs, bacon] at S1 based on its old read {S1:1} */
  write_at(s1, "eggs, bacon", client1);
  assert_state(s1, "[\"eggs, bacon\", \"milk\"]", "{S1:2, S2:1}");
  assert_int_equal(order_of(s1, s2), CRDT_AFTER);
  sync_into(s2, s1);
  assert_state(s2, "[\"eggs, bacon\", \"milk\"]", "{S1:2, S2:1}");

  /* a client reads both at S2 and writes the merge there */
  crdt_context *reader = token_of(s2);
  assert_token(reader, "{S1:2, S2:1}");
  write_at(s2, "eggs, bacon, milk", reader);
  assert_state(s2, "[\"eggs, bacon, milk\"]", "{S1:2, S2:2}");
  assert_int_equal(order_of(s1, s2), CRDT_BEFORE);
  sync_into(s1, s2);
  assert_state(s1, "[\"eggs, bacon, milk\"]", "{S1:2, S2:2}");
  assert_true(crdt_mvreg_equal(s1, s2));

  crdt_context_free(reader);
  crdt_context_free(client1);
  crdt_context_free(none);
  crdt_mvreg_free(s1);
  crdt_mvreg_free(s2);
}

/* Leaderless: three replicas, clients write wherever they like, replicas
 * gossip full states in arbitrary order. Client 1's token is read at A and
 * used at B; the merge is read at A and written at C. */
static void test_mvreg_ddia_leaderless_three_replicas(void **state) {
  (void)state;
  crdt_mvreg *a = reg_at("A"), *b = reg_at("B"), *c = reg_at("C");
  crdt_context *none = empty_token();

  write_at(a, "eggs", none);
  crdt_context *client1 = token_of(a);
  assert_state(a, "[\"eggs\"]", "{A:1}");
  write_at(c, "milk", none);
  assert_state(c, "[\"milk\"]", "{C:1}");

  sync_into(b, a);
  assert_state(b, "[\"eggs\"]", "{A:1}");
  write_at(b, "eggs, bacon", client1);
  assert_state(b, "[\"eggs, bacon\"]", "{A:1, B:1}");

  sync_into(b, c);
  assert_state(b, "[\"eggs, bacon\", \"milk\"]", "{A:1, B:1, C:1}");
  sync_into(a, c);
  assert_state(a, "[\"eggs\", \"milk\"]", "{A:1, C:1}");
  assert_int_equal(order_of(a, b), CRDT_BEFORE);
  sync_into(a, b);
  assert_state(a, "[\"eggs, bacon\", \"milk\"]", "{A:1, B:1, C:1}");

  crdt_context *client3 = token_of(a);
  assert_token(client3, "{A:1, B:1, C:1}");
  write_at(c, "eggs, bacon, milk", client3); /* C itself never saw eggs */
  assert_state(c, "[\"eggs, bacon, milk\"]", "{A:1, B:1, C:2}");
  assert_int_equal(order_of(c, a), CRDT_AFTER);
  sync_into(a, c);
  sync_into(b, c);
  assert_state(a, "[\"eggs, bacon, milk\"]", "{A:1, B:1, C:2}");
  assert_state(b, "[\"eggs, bacon, milk\"]", "{A:1, B:1, C:2}");
  assert_true(crdt_mvreg_equal(a, b) && crdt_mvreg_equal(b, c));

  crdt_context_free(client3);
  crdt_context_free(client1);
  crdt_context_free(none);
  crdt_mvreg_free(a);
  crdt_mvreg_free(b);
  crdt_mvreg_free(c);
}

/* ---- read contexts -------------------------------------------------------- */

static void test_mvreg_old_context_keeps_newer_sibling(void **state) {
  (void)state;
  crdt_mvreg *a = reg_at("A"), *b = reg_at("B");
  write_at(a, "x", NULL);
  crdt_context *old = token_of(a); /* {A:1} */
  write_at(a, "y", NULL);           /* overwrites x: A2 */
  assert_state(a, "[\"y\"]", "{A:2}");
  /* a client that read x (not y) writes z: y was not in its context */
  write_at(a, "z", old);
  assert_state(a, "[\"y\", \"z\"]", "{A:3}");

  /* the same across replicas: B writes w with the old token */
  write_at(b, "w", old);
  assert_state(b, "[\"w\"]", "{A:1, B:1}");
  sync_into(b, a);
  assert_state(b, "[\"w\", \"y\", \"z\"]", "{A:3, B:1}");
  crdt_context_free(old);
  crdt_mvreg_free(a);
  crdt_mvreg_free(b);
}

/* A token read at A and used at B supersedes A's values once they meet,
 * whichever way the states travel. */
static void test_mvreg_token_from_other_replica_supersedes(void **state) {
  (void)state;
  for (int way = 0; way < 2; way++) {
    crdt_mvreg *a = reg_at("A"), *b = reg_at("B");
    write_at(a, "x", NULL);
    write_at(a, "x2", NULL);
    crdt_context *tok = token_of(a); /* read at A: {A:2} */
    write_at(a, "later", tok);       /* A3, after the read: must survive */
    write_at(b, "mine", tok);        /* B has seen nothing of A */
    assert_state(b, "[\"mine\"]", "{A:2, B:1}");
    if (way == 0) {
      sync_into(b, a);
      sync_into(a, b);
    } else {
      sync_into(a, b);
      sync_into(b, a);
    }
    assert_state(a, "[\"later\", \"mine\"]", "{A:3, B:1}");
    assert_true(crdt_mvreg_equal(a, b));
    crdt_context_free(tok);
    crdt_mvreg_free(a);
    crdt_mvreg_free(b);
  }
}

/* Tokens carry replica ids: a token whose table is ordered differently
 * from the writer's still names the right dots. */
static void test_mvreg_token_maps_replica_ids(void **state) {
  (void)state;
  crdt_mvreg *a = reg_at("A"), *b = reg_at("B"), *c = reg_at("C");
  write_at(b, "from-b", NULL);
  write_at(a, "from-a", NULL);
  sync_into(a, b); /* A's table: A, B */
  crdt_context *tok = token_of(a);
  assert_token(tok, "{A:1, B:1}");
  sync_into(c, b); /* C's table: C, B; A unknown to C */
  write_at(c, "from-c", NULL);
  assert_state(c, "[\"from-c\"]", "{B:1, C:1}");
  write_at(b, "b-later", NULL); /* B2 supersedes from-b, unseen by tok */
  sync_into(c, b);
  assert_state(c, "[\"b-later\", \"from-c\"]", "{B:2, C:1}");
  /* tok has seen A1 and B1 only: b-later (B2) and from-c (C1) stay */
  write_at(c, "merged", tok);
  assert_state(c, "[\"b-later\", \"from-c\", \"merged\"]", "{A:1, B:2, C:2}");
  sync_into(c, a); /* from-a arrives and is already superseded */
  assert_state(c, "[\"b-later\", \"from-c\", \"merged\"]", "{A:1, B:2, C:2}");
  crdt_context_free(tok);
  crdt_mvreg_free(a);
  crdt_mvreg_free(b);
  crdt_mvreg_free(c);
}

/* Identical concurrent writes collapse into one sibling that keeps both
 * dots; a write supersedes the sibling only when its token holds every one
 * of those dots. */
static void test_mvreg_identical_concurrent_values_collapse(void **state) {
  (void)state;
  crdt_mvreg *a = reg_at("A"), *b = reg_at("B");
  crdt_context *tok_b;
  write_at(a, "same", NULL);
  write_at(b, "same", NULL);
  tok_b = token_of(b); /* {B:1}: has seen only B's write of "same" */
  sync_into(a, b);
  assert_state(a, "[\"same\"]", "{A:1, B:1}");
  assert_int_equal(crdt_mvreg_count(a), 1);
  write_at(a, "other", tok_b); /* drops B's dot only: A's "same" survives */
  assert_state(a, "[\"other\", \"same\"]", "{A:2, B:1}");
  write_at(a, "final", NULL);
  assert_state(a, "[\"final\"]", "{A:3, B:1}");
  crdt_context_free(tok_b);
  crdt_mvreg_free(a);
  crdt_mvreg_free(b);
}

/* Writing a value that is already a sibling: with an empty token it joins
 * the sibling's dots; with the full context it replaces them. */
static void test_mvreg_rewrite_existing_value(void **state) {
  (void)state;
  crdt_mvreg *a = reg_at("A"), *b = reg_at("B");
  crdt_context *none = empty_token();
  write_at(a, "v", none);
  write_at(a, "w", none);
  write_at(a, "v", none); /* v holds A1 and A3 */
  assert_state(a, "[\"v\", \"w\"]", "{A:3}");
  crdt_context *only_a1 = empty_token();
  assert_int_equal(crdt_context_add(only_a1, "A", 1), 0);
  write_at(b, "x", only_a1); /* B: supersedes A1 only, wherever it is */
  sync_into(a, b);
  assert_state(a, "[\"v\", \"w\", \"x\"]", "{A:3, B:1}"); /* v keeps A3 */
  write_at(a, "v", NULL);
  assert_state(a, "[\"v\"]", "{A:4, B:1}");
  crdt_context_free(only_a1);
  crdt_context_free(none);
  crdt_mvreg_free(a);
  crdt_mvreg_free(b);
}

/* A read context with a cloud (deltas received out of order) works as a
 * token, and binary values (empty, NUL bytes) are siblings like any. */
static void test_mvreg_token_with_cloud_and_binary_values(void **state) {
  (void)state;
  crdt_mvreg *a = reg_at("A"), *b = reg_at("B");
  crdt_mvreg *d1 = reg_at(NULL), *d2 = reg_at(NULL);
  crdt_context *none = empty_token();
  assert_int_equal(crdt_mvreg_write(a, "", 0, none, d1), 0);
  assert_int_equal(crdt_mvreg_write(a, "\0z", 2, none, d2), 0);
  assert_state(a, "[\"\", \"\\u0000z\"]", "{A:2}");
  sync_into(b, d2); /* only A2 arrives */
  assert_state(b, "[\"\\u0000z\"]", "{} + {A:2}");
  crdt_context *tok = token_of(b);
  assert_token(tok, "{} + {A:2}");
  write_at(a, "a3", NULL); /* supersedes A1 and A2 at A */
  write_at(b, "b1", none);
  sync_into(b, d1); /* A1 completes the prefix */
  assert_state(b, "[\"\", \"\\u0000z\", \"b1\"]", "{A:2, B:1}");
  write_at(b, "b2", tok); /* supersedes A2 only */
  assert_state(b, "[\"\", \"b1\", \"b2\"]", "{A:2, B:2}");
  sync_into(b, a);
  assert_state(b, "[\"a3\", \"b1\", \"b2\"]", "{A:3, B:2}");
  crdt_context_free(none);
  crdt_context_free(tok);
  crdt_mvreg_free(a);
  crdt_mvreg_free(b);
  crdt_mvreg_free(d1);
  crdt_mvreg_free(d2);
}

/* ---- resolve ---------------------------------------------------------------- */

typedef struct pick {
  size_t n_seen;
  char seen[4][16];
  int choose; /* index, or -1: the caller's own bytes, or -2: fail */
  const char *own;
} pick;

static int resolver(const crdt_bytes *siblings, size_t n, crdt_bytes *chosen,
                    void *user) {
  pick *p = user;
  p->n_seen = n;
  for (size_t i = 0; i < n && i < 4; i++) {
    size_t len = siblings[i].size < 15 ? siblings[i].size : 15;
    memcpy(p->seen[i], siblings[i].data, len);
    p->seen[i][len] = 0;
  }
  if (p->choose == -2) return CRDT_EFORMAT;
  if (p->choose == -1) {
    *chosen = (crdt_bytes){p->own, strlen(p->own)};
  } else {
    *chosen = siblings[p->choose];
  }
  return 0;
}

static void test_mvreg_resolve_picks_one_sibling(void **state) {
  (void)state;
  crdt_mvreg *a = reg_at("A"), *b = reg_at("B"), *delta = reg_at(NULL);
  write_at(a, "pear", NULL);
  write_at(b, "apple", NULL);
  write_at(b, "apple", NULL);
  sync_into(a, b);
  assert_state(a, "[\"apple\", \"pear\"]", "{A:1, B:2}");

  pick p = {0};
  p.choose = -2; /* the callback's error passes through, nothing changes */
  char *before = tu_object_text(crdt_mvreg_object(a));
  assert_int_equal(crdt_mvreg_resolve(a, resolver, &p, delta), CRDT_EFORMAT);
  char *after = tu_object_text(crdt_mvreg_object(a));
  assert_string_equal(before, after);
  free(before);
  free(after);
  assert_int_equal(p.n_seen, 2);
  assert_string_equal(p.seen[0], "apple"); /* canonical order */
  assert_string_equal(p.seen[1], "pear");

  p.choose = 1; /* points into the register's own key */
  assert_int_equal(crdt_mvreg_resolve(a, resolver, &p, delta), 0);
  assert_state(a, "[\"pear\"]", "{A:2, B:2}");
  /* the delta alone brings B to the same state */
  sync_into(b, delta);
  assert_true(crdt_mvreg_equal(a, b));

  p.choose = -1;
  p.own = "mine";
  assert_int_equal(crdt_mvreg_resolve(b, resolver, &p, NULL), 0);
  assert_int_equal(p.n_seen, 1); /* called even with one sibling */
  assert_state(b, "[\"mine\"]", "{A:2, B:3}");

  crdt_mvreg *empty = reg_at("E");
  assert_int_equal(crdt_mvreg_resolve(empty, resolver, &p, NULL), CRDT_ENOENT);
  assert_state(empty, "[]", "{}");
  crdt_mvreg_free(empty);
  crdt_mvreg_free(a);
  crdt_mvreg_free(b);
  crdt_mvreg_free(delta);
}

/* ---- errors and readers ------------------------------------------------------ */

static int collect(crdt_bytes v, void *user) {
  char *out = user;
  strncat(out, v.data, v.size);
  strcat(out, "|");
  return strlen(out) > 4 ? 7 : 0;
}

static void test_mvreg_errors_and_readers(void **state) {
  (void)state;
  crdt_mvreg *a = reg_at("A"), *none = reg_at(NULL);
  crdt_orset *set = NULL;
  assert_int_equal(crdt_orset_new(NULL, &set), 0);
  assert_int_equal(crdt_mvreg_write(a, NULL, 1, NULL, NULL), CRDT_EINVAL);
  assert_int_equal(crdt_mvreg_write(NULL, "x", 1, NULL, NULL), CRDT_EINVAL);
  assert_int_equal(crdt_mvreg_write(a, "x", 1, NULL, a), CRDT_EINVAL);
  assert_int_equal(crdt_mvreg_write(a, "x", 1, NULL, (crdt_mvreg *)set),
                   CRDT_ETYPE);
  assert_int_equal(crdt_mvreg_write(none, "x", 1, NULL, NULL), CRDT_ENOREPLICA);
  assert_int_equal(crdt_mvreg_resolve(none, resolver, NULL, NULL),
                   CRDT_ENOREPLICA);
  assert_int_equal(crdt_mvreg_context(a, NULL), CRDT_EINVAL);
  assert_int_equal(crdt_mvreg_foreach(a, NULL, NULL), CRDT_EINVAL);
  assert_state(a, "[]", "{}");
  assert_int_equal(crdt_mvreg_count(a), 0);
  assert_null(crdt_object_mvreg(crdt_orset_object(set)));
  assert_ptr_equal(crdt_object_mvreg(crdt_mvreg_object(a)), a);

  write_at(a, "bb", NULL);
  crdt_context *nil = empty_token();
  write_at(a, "a", nil);
  write_at(a, "cc", nil);
  char out[64] = "";
  assert_int_equal(crdt_mvreg_foreach(a, collect, out), 7); /* stops early */
  assert_string_equal(out, "a|bb|");
  assert_int_equal(crdt_mvreg_count(a), 3);
  assert_string_equal(crdt_object_replica(crdt_mvreg_object(a)), "A");
  assert_null(crdt_object_replica(crdt_mvreg_object(none)));
  crdt_context_free(nil);
  crdt_orset_free(set);
  crdt_mvreg_free(a);
  crdt_mvreg_free(none);
}

/* ---- reference model and random histories ---------------------------------- */

#define NR 4
#define MAXK 60
static const char *const RID[NR] = {"A", "B", "C", "D"};
/* In byte order, so the model's JSON comes out sorted. */
static const char *const VAL[] = {"", "eggs", "milk", "x", "xy"};
#define NV (sizeof VAL / sizeof *VAL)

typedef struct dotset {
  uint64_t bits[NR]; /* bit k-1: dot (RID[r], k) */
} dotset;

static void ds_add(dotset *s, int r, unsigned k) { s->bits[r] |= 1ull << (k - 1); }
static bool ds_has(const dotset *s, int r, unsigned k) {
  return (s->bits[r] >> (k - 1)) & 1;
}
static void ds_union(dotset *s, const dotset *t) {
  for (int r = 0; r < NR; r++) s->bits[r] |= t->bits[r];
}
static bool ds_subset(const dotset *s, const dotset *t) {
  for (int r = 0; r < NR; r++)
    if (s->bits[r] & ~t->bits[r]) return false;
  return true;
}

/* The canonical text of a set of dots, through the public context. */
static char *ds_text(const dotset *s) {
  crdt_context *c = empty_token();
  for (int r = 0; r < NR; r++)
    for (unsigned k = 1; k <= 64; k++)
      if (ds_has(s, r, k)) assert_int_equal(crdt_context_add(c, RID[r], k), 0);
  char *t = ctx_text(c);
  crdt_context_free(c);
  return t;
}

typedef struct wop {
  int value;
  dotset read;  /* the write's read context */
  dotset delta; /* read ∪ {its dot}: what its delta makes known */
  crdt_mvreg *d;
} wop;

typedef struct world {
  crdt_mvreg *reg[NR];
  dotset seen[NR];
  unsigned next[NR];          /* dots created by each replica so far */
  wop op[NR][MAXK + 1];       /* op[r][k]: the write with dot (r, k) */
  crdt_context *tok[8];
  dotset tokset[8];
  unsigned ntok;
  tu_rng rng;
} world;

/* Siblings the model predicts for a set of dots seen: the writes seen that
 * no seen write's read context holds. */
static char *model_json(const world *w, const dotset *seen) {
  bool present[NV] = {0};
  for (int r = 0; r < NR; r++)
    for (unsigned k = 1; k <= w->next[r]; k++) {
      if (!ds_has(seen, r, k)) continue;
      bool superseded = false;
      for (int r2 = 0; r2 < NR && !superseded; r2++)
        for (unsigned k2 = 1; k2 <= w->next[r2] && !superseded; k2++)
          superseded = ds_has(seen, r2, k2) && ds_has(&w->op[r2][k2].read, r, k);
      if (!superseded) present[w->op[r][k].value] = true;
    }
  char buf[256] = "[";
  bool first = true;
  for (size_t v = 0; v < NV; v++) {
    if (!present[v]) continue;
    if (!first) strcat(buf, ", ");
    first = false;
    strcat(buf, "\"");
    strcat(buf, VAL[v]);
    strcat(buf, "\"");
  }
  strcat(buf, "]");
  char *out = malloc(strlen(buf) + 1);
  assert_non_null(out);
  strcpy(out, buf);
  return out;
}

static void check_against_model(const world *w, crdt_mvreg *reg,
                                const dotset *seen) {
  char *want = model_json(w, seen);
  char *got = obj_format(crdt_mvreg_object(reg), crdt_object_value_json);
  char *want_ctx = ds_text(seen);
  char *got_ctx = obj_format(crdt_mvreg_object(reg), crdt_object_context_text);
  if (strcmp(want, got) || strcmp(want_ctx, got_ctx))
    fail_msg("model: %s %s\nstate: %s %s", want, want_ctx, got, got_ctx);
  free(want);
  free(got);
  free(want_ctx);
  free(got_ctx);
}

typedef struct chooser {
  tu_rng *rng;
  int value; /* which VAL was chosen */
} chooser;

static int choose_random(const crdt_bytes *siblings, size_t n,
                         crdt_bytes *chosen, void *user) {
  chooser *c = user;
  *chosen = siblings[tu_below(c->rng, (unsigned)n)];
  c->value = -1;
  for (size_t v = 0; v < NV; v++)
    if (strlen(VAL[v]) == chosen->size &&
        (chosen->size == 0 || memcmp(VAL[v], chosen->data, chosen->size) == 0))
      c->value = (int)v;
  return 0;
}

/* One random write (or resolve) at replica r. */
static void random_write(world *w, int r) {
  crdt_mvreg *reg = w->reg[r];
  unsigned k = w->next[r] + 1;
  wop *op = &w->op[r][k];
  memset(op, 0, sizeof *op);
  op->d = reg_at(NULL);
  unsigned how = tu_below(&w->rng, 10);
  if (how == 0 && crdt_mvreg_count(reg) > 0) {
    chooser c = {&w->rng, -1};
    assert_int_equal(crdt_mvreg_resolve(reg, choose_random, &c, op->d), 0);
    assert_true(c.value >= 0);
    op->value = c.value;
    op->read = w->seen[r];
  } else {
    op->value = (int)tu_below(&w->rng, NV);
    const crdt_context *tok = NULL;
    crdt_context *none = NULL;
    if (how <= 3) {
      op->read = w->seen[r];
    } else if (how <= 5) {
      none = empty_token();
      tok = none;
    } else if (w->ntok) {
      unsigned t = tu_below(&w->rng, w->ntok);
      tok = w->tok[t];
      op->read = w->tokset[t];
    } else {
      op->read = w->seen[r];
    }
    assert_int_equal(crdt_mvreg_write(reg, VAL[op->value], strlen(VAL[op->value]),
                                      tok, op->d),
                     0);
    crdt_context_free(none);
  }
  op->delta = op->read;
  ds_add(&op->delta, r, k);
  ds_union(&w->seen[r], &op->delta);
  w->next[r] = k;
}

static void take_token(world *w, int r) {
  unsigned t = w->ntok < 8 ? w->ntok++ : tu_below(&w->rng, 8);
  crdt_context_free(w->tok[t]);
  w->tok[t] = token_of(w->reg[r]);
  w->tokset[t] = w->seen[r];
  if (w->ntok > 1 && tu_below(&w->rng, 3) == 0) { /* a client that read twice */
    unsigned u = tu_below(&w->rng, w->ntok);
    assert_int_equal(crdt_context_join(w->tok[t], w->tok[u]), 0);
    ds_union(&w->tokset[t], &w->tokset[u]);
  }
}

static unsigned ops_total(const world *w) {
  unsigned n = 0;
  for (int r = 0; r < NR; r++) n += w->next[r];
  return n;
}

/* Pointer to the i-th write overall (in (replica, counter) order). */
static wop *nth_op(world *w, unsigned i, int *rep) {
  for (int r = 0; r < NR; r++) {
    if (i < w->next[r]) {
      if (rep) *rep = r;
      return &w->op[r][i + 1];
    }
    i -= w->next[r];
  }
  return NULL;
}

static void shuffle(tu_rng *rng, crdt_mvreg **v, unsigned n) {
  for (unsigned i = n; i > 1; i--) {
    unsigned j = tu_below(rng, i);
    crdt_mvreg *t = v[i - 1];
    v[i - 1] = v[j];
    v[j] = t;
  }
}

static void assert_equal_states(crdt_mvreg *x, crdt_mvreg *y, const char *what) {
  if (!crdt_mvreg_equal(x, y)) {
    char *tx = tu_object_text(crdt_mvreg_object(x));
    char *ty = tu_object_text(crdt_mvreg_object(y));
    fail_msg("%s:\n  %s\n  %s", what, tx, ty);
  }
}

static void check_compare(crdt_mvreg *x, const dotset *sx, crdt_mvreg *y,
                          const dotset *sy) {
  bool le = ds_subset(sx, sy), ge = ds_subset(sy, sx);
  crdt_order want = le && ge ? CRDT_EQUAL
                    : le     ? CRDT_BEFORE
                    : ge     ? CRDT_AFTER
                             : CRDT_CONCURRENT;
  crdt_order got = order_of(x, y);
  if (got != want) {
    char *tx = obj_format(crdt_mvreg_object(x), crdt_object_context_text);
    char *ty = obj_format(crdt_mvreg_object(y), crdt_object_context_text);
    fail_msg("compare %s vs %s: %s, expected %s", tx, ty, crdt_order_name(got),
             crdt_order_name(want));
  }
}

static void run_history(unsigned long long seed, unsigned steps) {
  world *w = calloc(1, sizeof *w);
  assert_non_null(w);
  w->rng.s = seed;
  for (int r = 0; r < NR; r++) w->reg[r] = reg_at(RID[r]);

  for (unsigned step = 0; step < steps; step++) {
    int r = (int)tu_below(&w->rng, NR);
    unsigned what = tu_below(&w->rng, 20);
    if (what < 8) {
      if (w->next[r] >= MAXK) continue;
      random_write(w, r);
    } else if (what < 11) {
      take_token(w, r);
    } else if (what < 15) {
      int src = (int)tu_below(&w->rng, NR);
      sync_into(w->reg[r], w->reg[src]);
      ds_union(&w->seen[r], &w->seen[src]);
    } else if (ops_total(w)) {
      wop *op = nth_op(w, tu_below(&w->rng, ops_total(w)), NULL);
      sync_into(w->reg[r], op->d);
      ds_union(&w->seen[r], &op->delta);
    }
    check_against_model(w, w->reg[r], &w->seen[r]);
  }

  /* Full-state merge of every replica, and what the model says of it. */
  crdt_mvreg *all = reg_at(NULL);
  dotset everything = {{0}};
  for (int r = 0; r < NR; r++) {
    sync_into(all, w->reg[r]);
    ds_union(&everything, &w->seen[r]);
    check_against_model(w, w->reg[r], &w->seen[r]);
  }
  check_against_model(w, all, &everything);

  /* (2) every delta, shuffled, some twice, into an empty object and then
   * into a fresh replica. */
  unsigned n = ops_total(w), nlist = 0;
  crdt_mvreg **list = calloc(2 * n + 1, sizeof *list);
  assert_non_null(list);
  for (unsigned i = 0; i < n; i++) {
    list[nlist++] = nth_op(w, i, NULL)->d;
    if (tu_below(&w->rng, 4) == 0) list[nlist++] = nth_op(w, i, NULL)->d;
  }
  shuffle(&w->rng, list, nlist);
  crdt_mvreg *collected = reg_at(NULL), *fresh = reg_at("Z");
  for (unsigned i = 0; i < nlist; i++) sync_into(collected, list[i]);
  assert_equal_states(collected, all, "all deltas vs full merge");
  sync_into(fresh, collected);
  assert_equal_states(fresh, all, "deltas into a fresh replica vs full merge");

  /* (3) delta groups: joined together first, groups joined in any order. */
  shuffle(&w->rng, list, nlist);
  crdt_mvreg *groups[5];
  for (int g = 0; g < 5; g++) groups[g] = reg_at(NULL);
  for (unsigned i = 0; i < nlist; i++)
    sync_into(groups[tu_below(&w->rng, 5)], list[i]);
  crdt_mvreg *regrouped = reg_at("Y");
  for (int g = 4; g >= 0; g--) sync_into(regrouped, groups[g]);
  assert_equal_states(regrouped, all, "delta groups vs full merge");

  /* (1) laws over replicas, a delta group and a single delta. */
  crdt_object *states[6];
  for (int r = 0; r < NR; r++) states[r] = crdt_mvreg_object(w->reg[r]);
  states[4] = crdt_mvreg_object(groups[0]);
  states[5] = crdt_mvreg_object(n ? list[0] : all);
  tu_check_laws(states, 6);

  /* (4) compare agrees with inclusion of the sets of dots seen. */
  for (int x = 0; x < NR; x++) {
    for (int y = 0; y < NR; y++)
      check_compare(w->reg[x], &w->seen[x], w->reg[y], &w->seen[y]);
    check_compare(w->reg[x], &w->seen[x], all, &everything);
  }

  for (int g = 0; g < 5; g++) crdt_mvreg_free(groups[g]);
  crdt_mvreg_free(regrouped);
  crdt_mvreg_free(collected);
  crdt_mvreg_free(fresh);
  crdt_mvreg_free(all);
  free(list);
  for (int r = 0; r < NR; r++) {
    for (unsigned k = 1; k <= w->next[r]; k++) crdt_mvreg_free(w->op[r][k].d);
    crdt_mvreg_free(w->reg[r]);
  }
  for (unsigned t = 0; t < w->ntok; t++) crdt_context_free(w->tok[t]);
  free(w);
}

static void test_mvreg_random_histories_match_model(void **state) {
  (void)state;
  for (unsigned long long seed = 1; seed <= 40; seed++)
    run_history(seed * 0x9E3779B97F4A7C15ull, 150);
}

/* ---- atomicity under allocation failure ------------------------------------ */

typedef struct fx {
  crdt_mvreg *a, *b, *delta, *out;
  crdt_context *tok, *none, *tok_out;
} fx;

/* A: siblings eggs (two dots) and x (from C); B knows B and C; the token is
 * B's context, naming B, which A has never heard of. */
static void *fx_setup(void) {
  fx *f = calloc(1, sizeof *f);
  assert_non_null(f);
  crdt_mvreg *c = reg_at("C");
  f->a = reg_at("A");
  f->b = reg_at("B");
  f->delta = reg_at(NULL);
  f->none = empty_token();
  write_at(c, "x", NULL);
  write_at(f->a, "eggs", f->none);
  assert_int_equal(crdt_mvreg_write(f->a, S("eggs"), f->none, f->delta), 0);
  sync_into(f->a, c);
  sync_into(f->b, c);
  assert_int_equal(crdt_mvreg_write(f->b, S("milk"), f->none, f->delta), 0);
  f->tok = token_of(f->b);
  crdt_mvreg_free(c);
  return f;
}

static char *fx_snapshot(void *p) {
  fx *f = p;
  char *parts[5] = {tu_object_text(crdt_mvreg_object(f->a)),
                    tu_object_text(crdt_mvreg_object(f->b)),
                    tu_object_text(crdt_mvreg_object(f->delta)), ctx_text(f->tok),
                    f->out ? tu_object_text(crdt_mvreg_object(f->out)) : NULL};
  size_t len = 8; /* "token" and the NUL */
  for (int i = 0; i < 5; i++) len += (parts[i] ? strlen(parts[i]) : 1) + 3;
  char *s = malloc(len);
  assert_non_null(s);
  s[0] = 0;
  for (int i = 0; i < 5; i++) {
    strcat(s, parts[i] ? parts[i] : "-");
    strcat(s, " | ");
    free(parts[i]);
  }
  strcat(s, f->tok_out ? "token" : "-");
  return s;
}

static void fx_teardown(void *p) {
  fx *f = p;
  crdt_mvreg_free(f->a);
  crdt_mvreg_free(f->b);
  crdt_mvreg_free(f->delta);
  crdt_mvreg_free(f->out);
  crdt_context_free(f->tok);
  crdt_context_free(f->none);
  crdt_context_free(f->tok_out);
  free(f);
}

static int run_write_token(void *p) {
  fx *f = p;
  return crdt_mvreg_write(f->a, S("bacon"), f->tok, NULL);
}
static int run_write_token_delta(void *p) {
  fx *f = p;
  return crdt_mvreg_write(f->a, S("bacon"), f->tok, f->delta);
}
static int run_write_own_context_delta(void *p) {
  fx *f = p;
  return crdt_mvreg_write(f->a, S("bacon"), NULL, f->delta);
}
static int run_write_existing_blind_delta(void *p) {
  fx *f = p;
  return crdt_mvreg_write(f->a, S("eggs"), f->none, f->delta);
}
static int run_write_existing_token(void *p) {
  fx *f = p;
  return crdt_mvreg_write(f->a, S("x"), f->tok, NULL);
}
static int pick_last(const crdt_bytes *siblings, size_t n, crdt_bytes *chosen,
                     void *user) {
  (void)user;
  *chosen = siblings[n - 1];
  return 0;
}
static int run_resolve(void *p) {
  fx *f = p;
  return crdt_mvreg_resolve(f->a, pick_last, NULL, NULL);
}
static int run_resolve_delta(void *p) {
  fx *f = p;
  return crdt_mvreg_resolve(f->a, pick_last, NULL, f->delta);
}
static int run_merge_full(void *p) {
  fx *f = p;
  return crdt_mvreg_merge(f->a, f->b);
}
static int run_merge_delta(void *p) {
  fx *f = p;
  return crdt_mvreg_merge(f->a, f->delta);
}
static int run_merge_into_delta(void *p) {
  fx *f = p;
  return crdt_mvreg_merge(f->delta, f->a);
}
static int run_copy(void *p) {
  fx *f = p;
  return crdt_mvreg_copy(f->a, &f->out);
}
static int run_context(void *p) {
  fx *f = p;
  return crdt_mvreg_context(f->a, &f->tok_out);
}

static void test_mvreg_oom_leaves_everything_unchanged(void **state) {
  (void)state;
  static const struct {
    const char *name;
    int (*run)(void *);
    bool allocates; /* whether the run needs memory at all */
  } cases[] = {
      {"write with a foreign token", run_write_token, true},
      {"write with a foreign token and delta", run_write_token_delta, true},
      {"write with own context and delta", run_write_own_context_delta, true},
      {"blind rewrite of a sibling with delta", run_write_existing_blind_delta, true},
      {"rewrite of a sibling with a token", run_write_existing_token, true},
      {"resolve", run_resolve, true},
      {"resolve with delta", run_resolve_delta, true},
      /* Both replicas and their keys are known to the destination, which
       * has room: these joins run on stack scratch. */
      {"merge full state", run_merge_full, false},
      {"merge delta", run_merge_delta, false},
      {"merge state into delta", run_merge_into_delta, true},
      {"copy", run_copy, true},
      {"context token", run_context, true},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    tu_oom_case c = {cases[i].name, fx_setup, cases[i].run, fx_snapshot,
                     fx_teardown};
    unsigned points = tu_check_oom(&c);
    if (cases[i].allocates && points == 0)
      fail_msg("%s: no allocation was exercised", cases[i].name);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_mvreg_ddia_one_server),
      cmocka_unit_test(test_mvreg_ddia_two_servers),
      cmocka_unit_test(test_mvreg_ddia_leaderless_three_replicas),
      cmocka_unit_test(test_mvreg_old_context_keeps_newer_sibling),
      cmocka_unit_test(test_mvreg_token_from_other_replica_supersedes),
      cmocka_unit_test(test_mvreg_token_maps_replica_ids),
      cmocka_unit_test(test_mvreg_identical_concurrent_values_collapse),
      cmocka_unit_test(test_mvreg_rewrite_existing_value),
      cmocka_unit_test(test_mvreg_token_with_cloud_and_binary_values),
      cmocka_unit_test(test_mvreg_resolve_picks_one_sibling),
      cmocka_unit_test(test_mvreg_errors_and_readers),
      cmocka_unit_test(test_mvreg_random_histories_match_model),
      cmocka_unit_test(test_mvreg_oom_leaves_everything_unchanged),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
