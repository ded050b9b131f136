/*
 * Test support (see testutil.h).
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

/* ---- counting, failing allocator ---------------------------------------- */

static size_t live;
static unsigned long count;
static long fail_at = -1;
static bool fired;

static bool should_fail(void) {
  count++;
  if (fail_at < 0) return false;
  if (fail_at-- == 0) {
    fired = true;
    return true;
  }
  return false;
}

static void *tu_alloc(void *user, size_t size) {
  (void)user;
  if (should_fail()) return NULL;
  void *p = malloc(size);
  if (p) live += size;
  return p;
}

static void *tu_realloc(void *user, void *ptr, size_t old_size,
                        size_t new_size) {
  (void)user;
  if (new_size > old_size && should_fail()) return NULL;
  void *p = realloc(ptr, new_size);
  if (p) live = live - old_size + new_size;
  return p;
}

static void tu_free(void *user, void *ptr, size_t size) {
  (void)user;
  assert_true(live >= size);
  live -= size;
  free(ptr);
}

void tu_alloc_install(void) {
  crdt_allocator a = {tu_alloc, tu_realloc, tu_free, NULL};
  assert_int_equal(crdt_set_allocator(&a), 0);
}

size_t tu_alloc_live(void) { return live; }
unsigned long tu_alloc_count(void) { return count; }

void tu_alloc_fail_at(long k) {
  fail_at = k;
  fired = false;
}

bool tu_alloc_fired(void) { return fired; }

static unsigned paused;
static long paused_fail_at;
static bool paused_fired;

void tu_alloc_pause(void) {
  if (paused++ == 0) {
    paused_fail_at = fail_at;
    paused_fired = fired;
    fail_at = -1;
  }
}

void tu_alloc_resume(void) {
  assert_true(paused > 0);
  if (--paused == 0) {
    fail_at = paused_fail_at;
    fired = paused_fired;
  }
}

/* ---- out-of-memory atomicity --------------------------------------------- */

unsigned tu_check_oom(const tu_oom_case *c) {
  tu_alloc_install();
  for (long k = 0;; k++) {
    size_t baseline = tu_alloc_live();
    void *fx = c->setup();
    char *before = c->snapshot(fx);
    tu_alloc_fail_at(k);
    int rc = c->run(fx);
    bool failed = tu_alloc_fired();
    tu_alloc_fail_at(-1);
    char *after = c->snapshot(fx);
    if (failed) {
      if (rc != CRDT_ENOMEM)
        fail_msg("%s: allocation %ld failed but run returned %d (%s)",
                 c->name, k, rc, crdt_err_name(rc));
      if (strcmp(before, after) != 0)
        fail_msg("%s: allocation %ld failed and the state changed:\n"
                 "before: %s\nafter:  %s",
                 c->name, k, before, after);
    } else {
      if (rc != 0)
        fail_msg("%s: run without failure returned %d (%s)", c->name, rc,
                 crdt_err_name(rc));
    }
    free(before);
    free(after);
    c->teardown(fx);
    if (tu_alloc_live() != baseline)
      fail_msg("%s: %zu bytes leaked with allocation %ld failing", c->name,
               tu_alloc_live() - baseline, k);
    if (!failed) return (unsigned)k;
  }
}

static void append(char **buf, size_t *len, const char *s) {
  size_t n = strlen(s);
  *buf = realloc(*buf, *len + n + 1);
  assert_non_null(*buf);
  memcpy(*buf + *len, s, n + 1);
  *len += n;
}

/* Formats with the crdt_*_format buffer contract into a malloc'd string. */
static char *formatted(const crdt_object *o,
                       int (*fmt)(const crdt_object *, char *, size_t,
                                  size_t *)) {
  size_t need = 0;
  int rc = fmt(o, NULL, 0, &need);
  if (rc == CRDT_ENOTSUP) {
    char *dash = malloc(2);
    assert_non_null(dash);
    memcpy(dash, "-", 2);
    return dash;
  }
  assert_int_equal(rc, CRDT_ENOSPC);
  char *s = malloc(need + 1);
  assert_non_null(s);
  assert_int_equal(fmt(o, s, need + 1, NULL), 0);
  return s;
}

/* The snapshot's own formatting must not be disturbed by armed failures. */
char *tu_object_text(const crdt_object *o) {
  long saved = fail_at;
  bool saved_fired = fired;
  fail_at = -1;
  char *out = NULL;
  size_t len = 0;
  append(&out, &len, crdt_type_name(crdt_object_type(o)));
  append(&out, &len, " ");
  char *v = formatted(o, crdt_object_value_json);
  append(&out, &len, v);
  free(v);
  append(&out, &len, " ");
  char *c = formatted(o, crdt_object_context_text);
  append(&out, &len, c);
  free(c);
  fail_at = saved;
  fired = saved_fired;
  return out;
}

/* ---- laws ---------------------------------------------------------------- */

crdt_object *tu_join(const crdt_object *a, const crdt_object *b) {
  crdt_object *r = NULL;
  assert_int_equal(crdt_object_copy(a, &r), 0);
  assert_int_equal(crdt_object_merge(r, b), 0);
  return r;
}

static void assert_same(const crdt_object *x, const crdt_object *y,
                        const char *law) {
  if (!crdt_object_equal(x, y)) {
    char *tx = tu_object_text(x), *ty = tu_object_text(y);
    fail_msg("%s violated:\n  %s\n  %s", law, tx, ty);
  }
  char *tx = tu_object_text(x), *ty = tu_object_text(y);
  if (strcmp(tx, ty) != 0)
    fail_msg("%s: equal states print differently:\n  %s\n  %s", law, tx, ty);
  free(tx);
  free(ty);
}

void tu_check_laws(crdt_object *const *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    crdt_object *aa = tu_join(s[i], s[i]);
    assert_same(aa, s[i], "idempotence a⊔a = a");
    crdt_object_free(aa);
    for (size_t j = 0; j < n; j++) {
      crdt_object *ab = tu_join(s[i], s[j]);
      crdt_object *ba = tu_join(s[j], s[i]);
      assert_same(ab, ba, "commutativity a⊔b = b⊔a");
      crdt_object *aba = tu_join(ab, s[i]);
      assert_same(aba, ab, "absorption (a⊔b)⊔a = a⊔b");
      crdt_object_free(aba);
      crdt_order o, oab;
      int rc = crdt_object_compare(s[i], s[j], &o);
      if (rc == 0) {
        assert_int_equal(crdt_object_compare(ab, s[i], &oab), 0);
        assert_true(oab == CRDT_AFTER || oab == CRDT_EQUAL);
        bool ab_is_a = crdt_object_equal(ab, s[i]);
        bool ab_is_b = crdt_object_equal(ab, s[j]);
        switch (o) {
        case CRDT_EQUAL: assert_true(ab_is_a && ab_is_b); break;
        case CRDT_BEFORE: assert_true(ab_is_b && !ab_is_a); break;
        case CRDT_AFTER: assert_true(ab_is_a && !ab_is_b); break;
        case CRDT_CONCURRENT: assert_true(!ab_is_a && !ab_is_b); break;
        }
      } else {
        assert_int_equal(rc, CRDT_ENOTSUP);
      }
      for (size_t k = 0; k < n; k++) {
        crdt_object *ab_c = tu_join(ab, s[k]);
        crdt_object *bc = tu_join(s[j], s[k]);
        crdt_object *a_bc = tu_join(s[i], bc);
        assert_same(ab_c, a_bc, "associativity (a⊔b)⊔c = a⊔(b⊔c)");
        crdt_object_free(ab_c);
        crdt_object_free(bc);
        crdt_object_free(a_bc);
      }
      crdt_object_free(ab);
      crdt_object_free(ba);
    }
  }
}

unsigned long long tu_rand(tu_rng *r) {
  r->s ^= r->s >> 12;
  r->s ^= r->s << 25;
  r->s ^= r->s >> 27;
  return r->s * 2685821657736338717ull;
}

unsigned tu_below(tu_rng *r, unsigned n) {
  return (unsigned)(tu_rand(r) % n);
}

static crdt_object *tu_new(crdt_type type, const char *replica) {
  crdt_object *o;
  assert_int_equal(crdt_object_new(type, replica, &o), 0);
  return o;
}

static crdt_object *tu_copy(const crdt_object *o) {
  crdt_object *c;
  assert_int_equal(crdt_object_copy(o, &c), 0);
  return c;
}

void tu_check_single_replica_merges(crdt_type type, unsigned long long seed,
                                    void (*update)(crdt_object *c,
                                                   uint64_t n)) {
  tu_rng rng = {seed};
  enum { SOURCES = 90 };
  for (int round = 0; round < 6; round++) {
    crdt_object *one_by_one = tu_new(type, "sink");
    crdt_object *group = tu_new(type, NULL);
    update(one_by_one, 1 + tu_below(&rng, 9));
    crdt_object *grouped = tu_copy(one_by_one);
    char id[48];
    for (int i = 0; i < SOURCES; i++) {
      /* ids of many lengths; some replicas seen twice, older then newer */
      snprintf(id, sizeof id, "r%d-%.*s", (int)tu_below(&rng, 60),
               (int)tu_below(&rng, 30), "abcdefghijklmnopqrstuvwxyz0123");
      crdt_object *x = tu_new(type, id);
      update(x, 1 + tu_below(&rng, 1000));
      assert_int_equal(crdt_object_merge(one_by_one, x), 0);
      assert_int_equal(crdt_object_merge(group, x), 0);
      if (tu_below(&rng, 3) == 0) {
        crdt_object *older = tu_copy(x);
        update(x, 1 + tu_below(&rng, 5));
        assert_int_equal(crdt_object_merge(one_by_one, x), 0);
        assert_int_equal(crdt_object_merge(one_by_one, older), 0); /* stale */
        assert_int_equal(crdt_object_merge(group, x), 0);
        crdt_object_free(older);
      }
      crdt_object_free(x);
    }
    assert_int_equal(crdt_object_merge(grouped, group), 0);
    assert_true(crdt_object_equal(one_by_one, grouped));
    char *a = tu_object_text(one_by_one), *b = tu_object_text(grouped);
    assert_string_equal(a, b); /* value and context */
    free(a);
    free(b);
    crdt_order order;
    assert_int_equal(crdt_object_compare(one_by_one, grouped, &order), 0);
    assert_int_equal(order, CRDT_EQUAL);
    crdt_object_free(one_by_one);
    crdt_object_free(grouped);
    crdt_object_free(group);
  }
}

/* ---- random histories ---------------------------------------------------- */

void tu_history_run(tu_history *h, crdt_type type, tu_update_fn update,
                    unsigned long long seed, int steps) {
  static const char *const ids[TU_HISTORY_REPLICAS] = {"r1", "r2", "r3"};
  tu_rng rng = {seed};
  for (int i = 0; i < TU_HISTORY_REPLICAS; i++) h->r[i] = tu_new(type, ids[i]);
  h->ndeltas = 0;
  for (int step = 0; step < steps; step++) {
    int i = (int)tu_below(&rng, TU_HISTORY_REPLICAS);
    if (tu_below(&rng, 4) == 0) {
      crdt_object *src = h->r[tu_below(&rng, TU_HISTORY_REPLICAS)];
      assert_int_equal(crdt_object_merge(h->r[i], src), 0);
      continue;
    }
    crdt_object *d = tu_new(type, NULL);
    int rc = update(h->r[i], d, &rng);
    if (rc == CRDT_ENOENT) {
      crdt_object_free(d);
      continue;
    }
    assert_int_equal(rc, 0);
    assert_true(h->ndeltas < TU_HISTORY_DELTAS);
    h->deltas[h->ndeltas++] = d;
  }
}

void tu_history_free(tu_history *h) {
  for (int i = 0; i < TU_HISTORY_REPLICAS; i++) crdt_object_free(h->r[i]);
  for (size_t k = 0; k < h->ndeltas; k++) crdt_object_free(h->deltas[k]);
}

void tu_check_history_laws(crdt_type type, tu_update_fn update) {
  for (unsigned long long seed = 1; seed <= 8; seed++) {
    tu_history h;
    tu_history_run(&h, type, update, seed, 60);
    assert_true(h.ndeltas > 0);
    crdt_object *states[TU_HISTORY_REPLICAS + 2];
    for (int i = 0; i < TU_HISTORY_REPLICAS; i++) states[i] = h.r[i];
    states[TU_HISTORY_REPLICAS] = h.deltas[0];
    states[TU_HISTORY_REPLICAS + 1] = h.deltas[h.ndeltas - 1];
    tu_check_laws(states, TU_HISTORY_REPLICAS + 2);
    tu_history_free(&h);
  }
}

/* decode(encode(o)), receive-only. */
static crdt_object *tu_through_bytes(const crdt_object *o) {
  size_t n = 0;
  assert_int_equal(crdt_encode(o, NULL, 0, &n), CRDT_ENOSPC);
  unsigned char *blob = malloc(n);
  assert_non_null(blob);
  assert_int_equal(crdt_encode(o, blob, n, &n), 0);
  crdt_object *back = NULL;
  assert_int_equal(crdt_decode(blob, n, NULL, &back), 0);
  free(blob);
  return back;
}

void tu_check_history_deltas(crdt_type type, tu_update_fn update) {
  for (unsigned long long seed = 1; seed <= 12; seed++) {
    tu_history h;
    tu_history_run(&h, type, update, seed * 31, 80);
    assert_true(h.ndeltas > 0);
    crdt_object *full = tu_new(type, NULL), *by_bytes = tu_new(type, NULL);
    crdt_object *by_deltas = tu_new(type, "x"), *group = tu_new(type, NULL);
    crdt_object *by_group = tu_new(type, "y");
    for (int i = 0; i < TU_HISTORY_REPLICAS; i++) {
      assert_int_equal(crdt_object_merge(full, h.r[i]), 0);
      crdt_object *back = tu_through_bytes(h.r[i]);
      assert_int_equal(crdt_object_merge(by_bytes, back), 0);
      crdt_object_free(back);
    }
    tu_rng rng = {seed};
    for (size_t k = 0; k < 2 * h.ndeltas; k++) {
      crdt_object *d = h.deltas[tu_below(&rng, (unsigned)h.ndeltas)];
      assert_int_equal(crdt_object_merge(by_deltas, d), 0);
    }
    for (size_t k = 0; k < h.ndeltas; k++)
      assert_int_equal(crdt_object_merge(by_deltas, h.deltas[k]), 0);
    for (size_t k = h.ndeltas; k-- > 0;)
      assert_int_equal(crdt_object_merge(group, h.deltas[k]), 0);
    assert_int_equal(crdt_object_merge(by_group, group), 0);
    assert_true(crdt_object_equal(by_deltas, full));
    assert_true(crdt_object_equal(by_group, full));
    assert_true(crdt_object_equal(by_bytes, full));
    crdt_object *all[] = {full, by_bytes, by_deltas, group, by_group};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
      crdt_object_free(all[i]);
    tu_history_free(&h);
  }
}
