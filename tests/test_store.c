/*
 * Dot stores and their join (src/store.h): each case of the join rule on
 * hand-built causal states, keyed deltas and markers, atomicity under
 * allocation failure, the sorted path for large entries against a reference
 * computation, entries, the element index and equality.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store.h"
#include "wire.h"
#include "causal.h"
#include "testutil.h"
#include "text.h"

/* Every state here allocates through the counting hook, so each test can
 * check that it freed everything. */
static crdt_allocator mem;
static size_t live_at_start;

static int group_setup(void **state) {
  (void)state;
  tu_alloc_install();
  mem = *crdt__mem_default();
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  return crdt_set_allocator(NULL);
}

static int remember_live(void **state) {
  (void)state;
  live_at_start = tu_alloc_live();
  return 0;
}

/* Called at the end of each test (not as a teardown, which would turn a
 * failed assertion's leftovers into a second, misleading report). */
static void assert_no_leaks(void) {
  assert_int_equal(tu_alloc_live(), live_at_start);
}

/* ---- building causal states by hand -------------------------------------- */

/* A new event of replica `id` adding to `key`; returns its counter. */
static uint64_t add(crdt__causal *c, const char *key, const char *id,
                    int64_t value) {
  uint64_t n;
  assert_int_equal(crdt__ctx_next(&c->ctx, tu_rep(c, id), &n), 0);
  tu_put(c, key, id, n, value);
  return n;
}

/* A key listed with no dots (a keyed delta's removal). */
static void marker(crdt__causal *c, const char *key) {
  assert_int_equal(tu_entry_or_new(c, key)->ndots, 0);
}

static bool ctx_has(const crdt__causal *c, const char *id, uint64_t n) {
  uint32_t i = crdt__replicas_find(&c->replicas, id, strlen(id));
  return i != CRDT__NO_REPLICA && crdt__ctx_has(&c->ctx, (crdt__dot){n, i});
}

static uint64_t ctx_top(const crdt__causal *c, const char *id) {
  uint32_t i = crdt__replicas_find(&c->replicas, id, strlen(id));
  return i == CRDT__NO_REPLICA ? 0 : crdt__vv_get(&c->ctx.top, i);
}

/* Does entry e of state c hold the dot (id, n)? Its value into *value. */
static bool entry_has(const crdt__causal *c, const crdt__entry *e,
                      const char *id, uint64_t n, int64_t *value) {
  if (!e) return false;
  uint32_t r = crdt__replicas_find(&c->replicas, id, strlen(id));
  crdt__dv one;
  const crdt__dv *d = crdt__entry_view(e, &one);
  for (uint32_t i = 0; i < e->ndots; i++)
    if (d[i].replica == r && d[i].counter == n) {
      if (value) *value = d[i].value;
      return true;
    }
  return false;
}

static bool has(const crdt__causal *c, const char *key, const char *id,
                uint64_t n) {
  return entry_has(c, tu_entry(c, key), id, n, NULL);
}

static int64_t value_at(const crdt__causal *c, const char *key, const char *id,
                        uint64_t n) {
  int64_t v = 0;
  assert_true(entry_has(c, tu_entry(c, key), id, n, &v));
  return v;
}

static uint32_t ndots(const crdt__causal *c, const char *key) {
  const crdt__entry *e = tu_entry(c, key);
  assert_non_null(e);
  return e->ndots;
}

static void join(crdt__causal *dst, const crdt__causal *src) {
  assert_int_equal(crdt__causal_join(dst, &mem, src), 0);
}

static crdt__causal copy_of(const crdt__causal *c) {
  crdt__causal out;
  assert_int_equal(crdt__causal_copy(&out, &mem, c), 0);
  return out;
}

/* ---- canonical text of a state (for snapshots and messages) -------------- */

/* "[keyed ]replicas=A,B ctx={A:2} + {B:5} x:[A:1=0 B:5=-3] y:[]": the
 * replica table in index order (an undone intern must be undone), the
 * context, then keys and dots in canonical order (tu_causal_text).
 * malloc'd. */
static char *causal_text(const crdt__causal *c) {
  tu_sb b = {NULL, 0};
  tu_causal_text(&b, c);
  return b.s;
}

static void assert_state(const crdt__causal *c, const char *expected) {
  char *s = causal_text(c);
  assert_string_equal(s, expected);
  free(s);
}

/* ---- reference join ------------------------------------------------------ */

/* Which comparison path the keys shared by a and b exercise. */
typedef struct paths {
  unsigned small, large;
} paths;

/* Counts (and, when r is not NULL, checks in r) the dots of key `key` that
 * survive the join of a and b by the rule, computed dot by dot. */
static uint32_t expected_key(const crdt__causal *a, const crdt__causal *b,
                             const uint8_t *key, uint32_t keylen,
                             uint32_t hash, const crdt__causal *r) {
  const crdt__causal *side[2] = {a, b};
  const crdt__entry *e[2] = {
      crdt__store_find(&a->store, key, keylen, hash),
      crdt__store_find(&b->store, key, keylen, hash)};
  const crdt__entry *er = r ? crdt__store_find(&r->store, key, keylen, hash)
                            : NULL;
  uint32_t kept = 0;
  for (int s = 0; s < 2; s++) {
    if (!e[s]) continue;
    const crdt__causal *me = side[s], *other = side[1 - s];
    crdt__dv one;
    const crdt__dv *d = crdt__entry_view(e[s], &one);
    for (uint32_t i = 0; i < e[s]->ndots; i++) {
      const char *id = crdt__replicas_id(&me->replicas, d[i].replica, NULL);
      bool in_other = entry_has(other, e[1 - s], id, d[i].counter, NULL);
      if (s == 1 && in_other) continue; /* counted once, from a */
      if (!in_other && ctx_has(other, id, d[i].counter)) continue;
      kept++;
      if (r) {
        int64_t v;
        if (!entry_has(r, er, id, d[i].counter, &v))
          fail_msg("dot %s:%llu of key %.*s should survive", id,
                   (unsigned long long)d[i].counter, (int)keylen, key);
        assert_int_equal(v, d[i].value);
      }
    }
  }
  return kept;
}

/* Joins full states a and b both ways and checks the result against the rule:
 * every key, every dot, and the context as the union. */
static void check_full_join(const crdt__causal *a, const crdt__causal *b,
                            paths *p) {
  crdt__causal ab = copy_of(a), ba = copy_of(b);
  join(&ab, b);
  join(&ba, a);
  if (!crdt__causal_equal(&ab, &ba)) {
    char *x = causal_text(&ab), *y = causal_text(&ba);
    fail_msg("join not commutative:\n  %s\n  %s", x, y);
  }
  uint32_t keys = 0;
  const crdt__causal *side[2] = {a, b};
  for (int s = 0; s < 2; s++) {
    const crdt__store *st = &side[s]->store;
    for (uint32_t i = 0; i < st->count; i++) {
      const crdt__entry *e = &st->entries[i];
      const crdt__entry *ea =
          crdt__store_find(&a->store, e->key, e->keylen, e->hash);
      const crdt__entry *eb =
          crdt__store_find(&b->store, e->key, e->keylen, e->hash);
      if (s == 1 && ea) continue; /* shared key, done from a */
      if (p && ea && eb && ea->ndots && eb->ndots) {
        if ((uint64_t)ea->ndots * eb->ndots > 64)
          p->large++;
        else
          p->small++;
      }
      uint32_t want = expected_key(a, b, e->key, e->keylen, e->hash, &ab);
      const crdt__entry *er =
          crdt__store_find(&ab.store, e->key, e->keylen, e->hash);
      if (want == 0) {
        assert_null(er); /* full states keep no empty entries */
      } else {
        assert_non_null(er);
        assert_int_equal(er->ndots, want);
        keys++;
      }
    }
  }
  assert_int_equal(ab.store.count, keys);
  /* Contexts join by union. */
  for (int s = 0; s < 2; s++)
    for (uint32_t i = 0; i < side[s]->replicas.count; i++) {
      const char *id = crdt__replicas_id(&side[s]->replicas, i, NULL);
      uint64_t top = ctx_top(a, id) > ctx_top(b, id) ? ctx_top(a, id)
                                                     : ctx_top(b, id);
      assert_int_equal(ctx_top(&ab, id), top);
      for (uint64_t n = 1; n <= top + 1; n++)
        assert_int_equal(ctx_has(&ab, id, n),
                         ctx_has(a, id, n) || ctx_has(b, id, n));
    }
  crdt__causal_free(&ab, &mem);
  crdt__causal_free(&ba, &mem);
}

/* ---- the join rule, case by case ----------------------------------------- */

static void test_store_join_dot_in_both_stores_survives(void **state) {
  (void)state;
  crdt__causal a = {0};
  tu_put(&a, "x", "A", 1, 10);
  crdt__causal b = copy_of(&a);
  add(&b, "y", "B", 0); /* b moved on elsewhere */
  join(&a, &b);
  assert_true(has(&a, "x", "A", 1));
  assert_int_equal(ndots(&a, "x"), 1);
  assert_int_equal(value_at(&a, "x", "A", 1), 10);
  assert_state(&a, "replicas=A,B ctx={A:1, B:1} x:[A:1=10] y:[B:1=0]");
  check_full_join(&a, &b, NULL);
  crdt__causal_free(&a, &mem);
  crdt__causal_free(&b, &mem);
  assert_no_leaks();
}

static void test_store_join_unseen_dot_survives(void **state) {
  (void)state;
  crdt__causal a = {0}, b = {0};
  tu_put(&a, "x", "A", 1, 1);
  tu_put(&a, "z", "A", 2, 2); /* key only in a, unseen by b */
  tu_put(&b, "x", "B", 1, 3);
  tu_put(&b, "y", "B", 2, 4); /* key only in b, unseen by a */
  crdt__causal ab = copy_of(&a), ba = copy_of(&b);
  join(&ab, &b);
  join(&ba, &a);
  const crdt__causal *both[] = {&ab, &ba};
  for (int i = 0; i < 2; i++) {
    const crdt__causal *r = both[i];
    assert_int_equal(ndots(r, "x"), 2);
    assert_true(has(r, "x", "A", 1)); /* dst-only or src-only, unseen */
    assert_true(has(r, "x", "B", 1));
    assert_true(has(r, "z", "A", 2));
    assert_true(has(r, "y", "B", 2));
    assert_int_equal(r->store.count, 3);
  }
  assert_state(&ab, "replicas=A,B ctx={A:2, B:2} "
                    "x:[A:1=1 B:1=3] y:[B:2=4] z:[A:2=2]");
  assert_true(crdt__causal_equal(&ab, &ba));
  check_full_join(&a, &b, NULL);
  crdt__causal *all[] = {&a, &b, &ab, &ba};
  for (int i = 0; i < 4; i++) crdt__causal_free(all[i], &mem);
  assert_no_leaks();
}

static bool not_counter_2(const crdt__dv *d, const void *user) {
  (void)user;
  return d->counter != 2;
}

static void test_store_join_seen_dot_is_dropped(void **state) {
  (void)state;
  crdt__causal a = {0};
  tu_put(&a, "x", "A", 1, 0);
  tu_put(&a, "x", "A", 2, 0);
  tu_put(&a, "y", "A", 3, 0);
  /* b saw all of a, then removed A2 from x and all of y (each removal an
   * event of B). */
  crdt__causal b = copy_of(&a);
  crdt__entry *bx = tu_entry(&b, "x");
  crdt__entry_retain(bx, not_counter_2, NULL);
  crdt__entry_shrink(bx, &mem);
  tu_see(&b, "B", 1);
  crdt__store_delete(&b.store, &mem, tu_entry(&b, "y"));
  tu_see(&b, "B", 2);
  assert_state(&b, "replicas=A,B ctx={A:3, B:2} x:[A:1=0]");

  crdt__causal ab = copy_of(&a), ba = copy_of(&b);
  join(&ab, &b); /* dst dots seen by src: A2 (key in both), A3 (key absent) */
  join(&ba, &a); /* src dots seen by dst are not brought back */
  assert_false(has(&ab, "x", "A", 2));
  assert_true(has(&ab, "x", "A", 1));
  assert_null(tu_entry(&ab, "y"));
  assert_state(&ab, "replicas=A,B ctx={A:3, B:2} x:[A:1=0]");
  assert_state(&ba, "replicas=A,B ctx={A:3, B:2} x:[A:1=0]");
  check_full_join(&a, &b, NULL);
  crdt__causal *all[] = {&a, &b, &ab, &ba};
  for (int i = 0; i < 4; i++) crdt__causal_free(all[i], &mem);
  assert_no_leaks();
}

static void test_store_emptied_entry_deleted_in_full_state(void **state) {
  (void)state;
  crdt__causal a = {0}, b = {0};
  tu_put(&a, "x", "A", 1, 0);
  tu_put(&a, "w", "A", 2, 0);
  /* b saw x's A1 and removed it; it also holds w. */
  tu_see(&b, "A", 1);
  tu_see(&b, "B", 1);
  tu_put(&b, "w", "A", 2, 0);
  join(&a, &b);
  assert_null(tu_entry(&a, "x"));
  assert_int_equal(a.store.count, 1);
  assert_false(a.keyed);
  assert_state(&a, "replicas=A,B ctx={A:2, B:1} w:[A:2=0]");
  /* Emptied while present on both sides: each removed the other's add. */
  crdt__causal c = {0}, d = {0};
  tu_put(&c, "x", "A", 1, 0);
  tu_see(&c, "B", 1);
  tu_put(&d, "x", "B", 1, 0);
  tu_see(&d, "A", 1);
  join(&c, &d);
  assert_null(tu_entry(&c, "x"));
  assert_int_equal(c.store.count, 0);
  assert_state(&c, "replicas=A,B ctx={A:1, B:1}");
  crdt__causal_free(&a, &mem);
  crdt__causal_free(&b, &mem);
  crdt__causal_free(&c, &mem);
  crdt__causal_free(&d, &mem);
  assert_no_leaks();
}

static void test_store_emptied_entry_kept_as_marker_in_keyed_deltas(
    void **state) {
  (void)state;
  crdt__causal a = {0}, b = {0};
  a.keyed = b.keyed = true;
  tu_put(&a, "x", "A", 1, 0);
  /* b: the removal of x at B, having seen A1; and of w, never added here. */
  marker(&b, "x");
  tu_see(&b, "A", 1);
  tu_see(&b, "B", 1);
  marker(&b, "w");
  tu_see(&b, "B", 2);
  join(&a, &b);
  assert_true(a.keyed);
  assert_int_equal(ndots(&a, "x"), 0); /* emptied, kept as a marker */
  assert_int_equal(ndots(&a, "w"), 0); /* marker brought in from b */
  assert_int_equal(a.store.count, 2);
  assert_state(&a, "keyed replicas=A,B ctx={A:1, B:2} w:[] x:[]");
  /* The marker is what lets the group remove x from a full state later. */
  crdt__causal full = {0};
  tu_put(&full, "x", "A", 1, 0);
  tu_put(&full, "v", "A", 2, 0);
  join(&full, &a);
  assert_false(full.keyed);
  assert_state(&full, "replicas=A,B ctx={A:2, B:2} v:[A:2=0]");
  crdt__causal_free(&a, &mem);
  crdt__causal_free(&b, &mem);
  crdt__causal_free(&full, &mem);
  assert_no_leaks();
}

static void test_store_keyed_delta_into_full_touches_only_its_keys(
    void **state) {
  (void)state;
  crdt__causal dst = {0};
  tu_put(&dst, "x", "A", 1, 0);
  tu_put(&dst, "y", "A", 2, 0);
  /* Delta of two events at B: remove y (seen A2), add z. */
  crdt__causal delta = {0};
  delta.keyed = true;
  marker(&delta, "y");
  tu_see(&delta, "A", 2);
  tu_see(&delta, "B", 1);
  tu_put(&delta, "z", "B", 2, 7);
  crdt__causal full_form = copy_of(&delta);
  full_form.keyed = false;

  crdt__causal r1 = copy_of(&dst), r2 = copy_of(&dst);
  join(&r1, &delta);
  join(&r2, &full_form);
  assert_false(r1.keyed);
  assert_state(&r1, "replicas=A,B ctx={A:2, B:2} x:[A:1=0] z:[B:2=7]");
  /* A delta's context only holds dots of its keys: the keyed join (which
   * visits those keys only) agrees with the full join. */
  assert_true(crdt__causal_equal(&r1, &r2));

  /* The promise is relied on: a keyed delta whose context holds A1 of a key
   * it does not list leaves that key alone; as a full state it removes it. */
  crdt__causal odd = copy_of(&delta);
  tu_see(&odd, "A", 1);
  crdt__causal r3 = copy_of(&dst), r4 = copy_of(&dst);
  join(&r3, &odd);
  odd.keyed = false;
  join(&r4, &odd);
  assert_true(has(&r3, "x", "A", 1));
  assert_null(tu_entry(&r4, "x"));
  crdt__causal *all[] = {&dst, &delta, &full_form, &r1, &r2, &odd, &r3, &r4};
  for (int i = 0; i < 8; i++) crdt__causal_free(all[i], &mem);
  assert_no_leaks();
}

static void test_store_full_into_keyed_drops_markers(void **state) {
  (void)state;
  crdt__causal delta = {0};
  delta.keyed = true;
  marker(&delta, "x");
  tu_see(&delta, "A", 1);
  tu_put(&delta, "y", "A", 2, 0);
  marker(&delta, "w"); /* a key the full state also has */
  tu_see(&delta, "A", 3);
  crdt__causal full = {0};
  tu_put(&full, "z", "B", 1, 0);
  tu_put(&full, "w", "B", 2, 5);
  join(&delta, &full);
  assert_false(delta.keyed);
  assert_null(tu_entry(&delta, "x"));
  assert_state(&delta,
               "replicas=A,B ctx={A:3, B:2} w:[B:2=5] y:[A:2=0] z:[B:1=0]");
  crdt__causal_free(&delta, &mem);
  crdt__causal_free(&full, &mem);
  assert_no_leaks();
}

static void test_store_join_self_and_empty(void **state) {
  (void)state;
  crdt__causal a = {0}, empty = {0};
  tu_put(&a, "x", "A", 1, 3);
  tu_see(&a, "A", 3);
  char *before = causal_text(&a);
  join(&a, &a);
  join(&a, &empty);
  assert_state(&a, before);
  join(&empty, &a);
  assert_state(&empty, before);
  free(before);
  crdt__causal_free(&a, &mem);
  crdt__causal_free(&empty, &mem);
  assert_no_leaks();
}

/* ---- atomicity under allocation failure ---------------------------------- */

typedef struct join_fx {
  crdt__causal dst, src;
} join_fx;

static void *fx_alloc(void) {
  join_fx *f = calloc(1, sizeof *f);
  assert_non_null(f);
  return f;
}

static bool not_first_big(const crdt__dv *d, const void *user) {
  (void)user;
  return d->value != 100; /* the first dot added to "big" */
}

/* Full states: a new replica, keys only in src (enough to grow the index),
 * keys gaining dots (inline -> array), removals on both paths, a large pair
 * (sorted path and its scratch buffer) and cloud dots. */
static void *setup_full(void) {
  join_fx *f = fx_alloc();
  char key[16];
  for (int i = 0; i < 7; i++) {
    snprintf(key, sizeof key, "k%d", i);
    add(&f->dst, key, i % 2 ? "A" : "B", i);
  }
  for (int i = 0; i < 10; i++) add(&f->dst, "big", "A", 100 + i);
  f->src = copy_of(&f->dst);
  crdt__causal *s = &f->src;
  crdt__store_delete(&s->store, &mem, tu_entry(s, "k0")); /* removal, key absent */
  crdt__entry_retain(tu_entry(s, "big"), not_first_big, NULL); /* removal, shared */
  tu_see(s, "B", 50);                                      /* a cloud dot */
  for (int i = 0; i < 6; i++) {
    snprintf(key, sizeof key, "n%d", i);
    add(s, key, "C", -i);
  }
  add(s, "k1", "C", 9);
  for (int i = 0; i < 4; i++) add(s, "big", "C", i);
  add(&f->dst, "k2", "A", 77); /* dst moved on too */
  return f;
}

/* Keyed deltas on both sides: markers kept and brought in. */
static void *setup_keyed(void) {
  join_fx *f = fx_alloc();
  f->dst.keyed = f->src.keyed = true;
  tu_put(&f->dst, "x", "A", 1, 1);
  tu_put(&f->dst, "y", "A", 2, 2);
  marker(&f->dst, "m");
  tu_see(&f->dst, "A", 3);
  marker(&f->src, "x");
  tu_see(&f->src, "A", 1);
  tu_see(&f->src, "B", 1);
  char key[16];
  for (int i = 0; i < 8; i++) {
    snprintf(key, sizeof key, "d%d", i);
    if (i % 2)
      marker(&f->src, key);
    else
      tu_put(&f->src, key, "B", 10 + (uint64_t)i, i);
  }
  tu_put(&f->src, "y", "C", 1, 4);
  return f;
}

/* A keyed delta into a full state. */
static void *setup_keyed_into_full(void) {
  join_fx *f = setup_keyed();
  f->dst.keyed = false;
  crdt__store_delete(&f->dst.store, &mem, tu_entry(&f->dst, "m"));
  return f;
}

static int run_join(void *fixture) {
  join_fx *f = fixture;
  return crdt__causal_join(&f->dst, &mem, &f->src);
}

static char *snap_join(void *fixture) {
  join_fx *f = fixture;
  char *d = causal_text(&f->dst), *s = causal_text(&f->src);
  tu_sb b = {NULL, 0};
  tu_sb_printf(&b, "dst: %s | src: %s", d, s);
  free(d);
  free(s);
  return b.s;
}

static void teardown_join(void *fixture) {
  join_fx *f = fixture;
  crdt__causal_free(&f->dst, &mem);
  crdt__causal_free(&f->src, &mem);
  free(f);
}

static void test_store_join_atomic_under_oom(void **state) {
  (void)state;
  const tu_oom_case cases[] = {
      {"full join", setup_full, run_join, snap_join, teardown_join},
      {"keyed join", setup_keyed, run_join, snap_join, teardown_join},
      {"keyed into full", setup_keyed_into_full, run_join, snap_join,
       teardown_join},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    unsigned points = tu_check_oom(&cases[i]);
    /* Each needs at least: the replica ids, context growth, index growth,
     * new keys (the maps of these small joins are on the stack). */
    if (points < 4) fail_msg("%s: only %u allocations", cases[i].name, points);
  }
  /* The join the OOM runs ended with, checked against the rule. */
  join_fx *f = setup_full();
  paths p = {0, 0};
  check_full_join(&f->dst, &f->src, &p);
  assert_true(p.large > 0);
  teardown_join(f);
  assert_no_leaks();
}

/* ---- large entries: the sorted path -------------------------------------- */

static void test_store_large_entries_match_reference(void **state) {
  (void)state;
  crdt__causal a = {0}, b = {0};
  /* a: context A1..A150, B1..B50; key x holds A1..A100. */
  for (uint64_t n = 1; n <= 100; n++) tu_put(&a, "x", "A", n, (int64_t)n);
  for (uint64_t n = 101; n <= 150; n++) tu_see(&a, "A", n);
  for (uint64_t n = 1; n <= 50; n++) tu_see(&a, "B", n);
  /* b interns B first (a different replica table): context A1..A60,
   * B1..B150; key x holds A41..A60 and B1..B80. */
  for (uint64_t n = 1; n <= 80; n++) tu_put(&b, "x", "B", n, -(int64_t)n);
  for (uint64_t n = 81; n <= 150; n++) tu_see(&b, "B", n);
  for (uint64_t n = 1; n <= 40; n++) tu_see(&b, "A", n);
  for (uint64_t n = 41; n <= 60; n++) tu_put(&b, "x", "A", n, (int64_t)n);
  assert_int_equal(ndots(&a, "x"), 100);
  assert_int_equal(ndots(&b, "x"), 100);

  /* By the rule: of a's A1..A100, A41..A60 are in both, A61..A100 unseen by
   * b, A1..A40 seen by b and dropped. Of b's B1..B80, B1..B50 were seen by
   * a and dropped, B51..B80 are new to a. 60 + 30 dots. */
  crdt__causal r = copy_of(&a);
  join(&r, &b);
  assert_int_equal(ndots(&r, "x"), 90);
  for (uint64_t n = 1; n <= 150; n++) {
    assert_int_equal(has(&r, "x", "A", n), n >= 41 && n <= 100);
    assert_int_equal(has(&r, "x", "B", n), n >= 51 && n <= 80);
  }
  assert_int_equal(value_at(&r, "x", "A", 77), 77);
  assert_int_equal(value_at(&r, "x", "B", 66), -66);
  paths p = {0, 0};
  check_full_join(&a, &b, &p);
  assert_int_equal(p.large, 1);
  crdt__causal_free(&r, &mem);
  crdt__causal_free(&a, &mem);
  crdt__causal_free(&b, &mem);
  assert_no_leaks();
}

/* Random states over a shared history: each dot (replica, n) belongs to one
 * key and carries one value, as events do. */
#define RKEYS 4
static const char *const rkeys[RKEYS] = {"k0", "k1", "k2", "k3"};
static const char *const rreps[3] = {"A", "B", "C"};

static int key_of(int r, uint64_t n) {
  return (int)((n * 7 + (uint64_t)r * 3) % RKEYS);
}
static int64_t value_of(int r, uint64_t n) {
  return (int64_t)(n * 10 + (uint64_t)r) * (n % 2 ? 1 : -1);
}

/* keys: bit mask of the keys the state may hold dots of (a keyed delta
 * holds and has seen only dots of its keys, and lists them all). */
static void random_state(crdt__causal *c, tu_rng *rng, uint64_t maxc,
                         unsigned keys, bool keyed) {
  memset(c, 0, sizeof *c);
  c->keyed = keyed;
  int order[3] = {0, 1, 2};
  for (int i = 2; i > 0; i--) {
    int j = (int)tu_below(rng, (unsigned)i + 1), t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  for (int k = 0; k < 3; k++) {
    int r = order[k];
    if (tu_below(rng, 5) == 0) continue; /* replica unknown here */
    uint64_t prefix = tu_below(rng, (unsigned)maxc + 1);
    for (uint64_t n = 1; n <= maxc; n++) {
      if (!((keys >> key_of(r, n)) & 1)) continue;
      if (tu_below(rng, 10) >= (n <= prefix ? 9u : 3u)) continue;
      if (tu_below(rng, 2))
        tu_put(c, rkeys[key_of(r, n)], rreps[r], n, value_of(r, n));
      else
        tu_see(c, rreps[r], n);
    }
  }
  if (keyed)
    for (int k = 0; k < RKEYS; k++)
      if ((keys >> k) & 1) tu_entry_or_new(c, rkeys[k]);
}

static void test_store_join_matches_reference_random(void **state) {
  (void)state;
  tu_rng rng = {0xD07D07ull};
  paths p = {0, 0};
  for (int round = 0; round < 300; round++) {
    uint64_t maxc = 2 + tu_below(&rng, 60);
    crdt__causal a, b, d1, d2;
    random_state(&a, &rng, maxc, 0xF, false);
    random_state(&b, &rng, maxc, 0xF, false);
    check_full_join(&a, &b, &p);

    /* A keyed delta into a full state = the same delta as a full state, and
     * keys it does not list are untouched. */
    unsigned mask = 1 + tu_below(&rng, 15);
    random_state(&d1, &rng, maxc, mask, true);
    crdt__causal r1 = copy_of(&a), r2 = copy_of(&a), full1 = copy_of(&d1);
    full1.keyed = false;
    join(&r1, &d1);
    join(&r2, &full1);
    assert_false(r1.keyed);
    assert_true(crdt__causal_equal(&r1, &r2));
    for (int k = 0; k < RKEYS; k++) {
      if ((mask >> k) & 1) continue;
      const crdt__entry *before = tu_entry(&a, rkeys[k]);
      const crdt__entry *after = tu_entry(&r1, rkeys[k]);
      assert_int_equal(before == NULL, after == NULL);
      if (before) assert_int_equal(before->ndots, after->ndots);
    }

    /* Two keyed deltas: a keyed group listing every key of both, equal to
     * the full join of the same states (markers aside). */
    random_state(&d2, &rng, maxc, 1 + tu_below(&rng, 15), true);
    crdt__causal g = copy_of(&d1), full2 = copy_of(&d2), gf = copy_of(&full1);
    full2.keyed = false;
    join(&g, &d2);
    join(&gf, &full2);
    assert_true(g.keyed);
    assert_true(crdt__causal_equal(&g, &gf));
    for (int k = 0; k < RKEYS; k++)
      assert_int_equal(tu_entry(&g, rkeys[k]) != NULL,
                       tu_entry(&d1, rkeys[k]) != NULL ||
                           tu_entry(&d2, rkeys[k]) != NULL);
    crdt__causal *all[] = {&a, &b, &d1, &d2, &r1, &r2, &full1, &g, &full2, &gf};
    for (int i = 0; i < 10; i++) crdt__causal_free(all[i], &mem);
  }
  /* Both comparison paths were taken many times. */
  assert_true(p.small > 100);
  assert_true(p.large > 100);
  assert_no_leaks();
}

/* c with every replica id renamed (A -> X, B -> Y, C -> Z): the same keys,
 * dots and values, from replicas nobody else has seen. */
static crdt__causal renamed(const crdt__causal *c) {
  static const char *const to[3] = {"X", "Y", "Z"};
  crdt__causal out = {0};
  for (int r = 0; r < 3; r++) {
    for (uint64_t n = 1; n <= ctx_top(c, rreps[r]); n++) {
      if (!ctx_has(c, rreps[r], n)) continue;
      const char *key = rkeys[key_of(r, n)];
      if (has(c, key, rreps[r], n))
        tu_put(&out, key, to[r], n, value_at(c, key, rreps[r], n));
      else
        tu_see(&out, to[r], n);
    }
  }
  return out;
}

/* Joins of states whose contexts share no replica need not visit the keys
 * only the destination has (the source cannot have seen their dots): the
 * rule still holds, shared keys included. */
static void test_store_join_of_unrelated_replicas(void **state) {
  (void)state;
  tu_rng rng = {0x5EA5EDull};
  for (int round = 0; round < 300; round++) {
    uint64_t maxc = 2 + tu_below(&rng, 20);
    crdt__causal a, b;
    random_state(&a, &rng, maxc, 0xF, false);
    random_state(&b, &rng, maxc, 0xF, false);
    crdt__causal x = renamed(&b);
    check_full_join(&a, &x, NULL);
    /* And once the other side has seen some of them, the walk is back. */
    crdt__causal ax = copy_of(&a);
    join(&ax, &x);
    check_full_join(&ax, &b, NULL);
    crdt__causal *all[] = {&a, &b, &x, &ax};
    for (int i = 0; i < 4; i++) crdt__causal_free(all[i], &mem);
  }
  assert_no_leaks();
}

/* Recording an operation directly must leave the delta exactly as joining
 * the operation's delta as a state does: random operations (dots that the
 * delta has, has seen, or not; values; counters too large to pack) into
 * random keyed and full states. */
static void test_store_record_direct_matches_join_random(void **state) {
  (void)state;
  tu_rng rng = {0x2EC02Dull};
  static const char *const ids[4] = {"A", "B", "C", "D"};
  unsigned emptied = 0, created = 0;
  for (int round = 0; round < 3000; round++) {
    uint64_t maxc = 1 + tu_below(&rng, 12);
    bool keyed = tu_below(&rng, 2);
    crdt__causal dst, from = {0};
    random_state(&dst, &rng, maxc, keyed ? 1 + tu_below(&rng, 15) : 0xF, keyed);
    uint32_t fr[4];
    for (int i = 0; i < 4; i++) fr[i] = tu_rep(&from, ids[tu_below(&rng, 4)]);
    crdt__dv add[3], seen[8];
    crdt__op op = {{0, 0}, NULL, 0, 0, add, 0, seen, 0, NULL, NULL};
    const char *key = rkeys[tu_below(&rng, RKEYS)];
    op.key = key;
    op.keylen = strlen(key);
    op.hash = tu_key_hash(key);
    op.dot = (crdt__dot){1 + tu_below(&rng, (unsigned)maxc + 3),
                         fr[tu_below(&rng, 4)]};
    op.nadd = tu_below(&rng, 4);
    for (uint32_t i = 0; i < op.nadd; i++) {
      uint64_t c = 1 + tu_below(&rng, (unsigned)maxc + 3);
      if (tu_below(&rng, 8) == 0) c += CRDT__PACK_COUNTER_MAX; /* unpackable */
      add[i] = (crdt__dv){c, fr[tu_below(&rng, 4)],
                          tu_below(&rng, 2) ? 0 : (int64_t)tu_below(&rng, 9) - 4};
      for (uint32_t j = 0; j < i; j++) /* an event adds each dot once */
        if (add[j].counter == c && add[j].replica == add[i].replica) {
          op.nadd = i;
          break;
        }
    }
    op.nseen = tu_below(&rng, 9);
    for (uint32_t i = 0; i < op.nseen; i++)
      seen[i] = (crdt__dv){1 + tu_below(&rng, (unsigned)maxc + 1),
                           fr[tu_below(&rng, 4)], 0};
    const crdt__entry *target = tu_entry(&dst, key);
    if (target && target->ndots <= 8 && tu_below(&rng, 3) == 0) {
      /* What a replica holding dst's dots of the key would see. */
      op.nseen = target->ndots;
      for (uint32_t i = 0; i < op.nseen; i++) {
        crdt__dv d = crdt__entry_dot(target, i);
        seen[i] = (crdt__dv){
            d.counter, tu_rep(&from, crdt__replicas_id(&dst.replicas, d.replica,
                                                    NULL)), 0};
      }
    }
    crdt__causal direct = copy_of(&dst), joined = copy_of(&dst);
    const crdt__entry *before = tu_entry(&dst, key);
    assert_int_equal(crdt__causal_record(&direct, &mem, &from.replicas, &op), 0);
    assert_int_equal(
        crdt__causal_record_by_join(&joined, &mem, &from.replicas, &op), 0);
    assert_int_equal(direct.keyed, joined.keyed);
    assert_true(crdt__causal_equal(&direct, &joined));
    assert_int_equal(direct.store.count, joined.store.count); /* markers too */
    const crdt__entry *after = tu_entry(&direct, key);
    emptied += before && before->ndots && (!after || !after->ndots);
    created += !before && after;
    crdt__causal *all[] = {&dst, &from, &direct, &joined};
    for (int i = 0; i < 4; i++) crdt__causal_free(all[i], &mem);
  }
  /* Both kinds of outcome were exercised. */
  assert_true(emptied > 100);
  assert_true(created > 500);
  assert_no_leaks();
}

/* ---- values, entries ----------------------------------------------------- */

static void test_store_values_are_carried(void **state) {
  (void)state;
  crdt__causal a = {0}, b = {0};
  tu_put(&a, "x", "A", 1, INT64_MIN);
  tu_put(&a, "x", "A", 2, INT64_MAX);
  tu_put(&b, "x", "B", 1, -5);
  tu_put(&b, "y", "B", 2, 1234567890123ll);
  join(&a, &b);
  assert_int_equal(value_at(&a, "x", "A", 1), INT64_MIN);
  assert_int_equal(value_at(&a, "x", "A", 2), INT64_MAX);
  assert_int_equal(value_at(&a, "x", "B", 1), -5);
  assert_int_equal(value_at(&a, "y", "B", 2), 1234567890123ll);
  /* Values are part of equality. */
  crdt__causal c = copy_of(&a);
  assert_true(crdt__causal_equal(&a, &c));
  crdt__entry *e = tu_entry(&c, "x");
  assert_true(crdt__entry_cap(e) > 0); /* dots with values live in an array */
  crdt__dv *d = crdt__entry_array(e);
  for (uint32_t i = 0; i < e->ndots; i++)
    if (d[i].value == -5) d[i].value = -6;
  assert_false(crdt__causal_equal(&a, &c));
  crdt__causal_free(&a, &mem);
  crdt__causal_free(&b, &mem);
  crdt__causal_free(&c, &mem);
  assert_no_leaks();
}

static crdt__dv dv(uint64_t n, uint32_t r, int64_t v) {
  return (crdt__dv){n, r, v};
}

static void assert_dv(crdt__dv got, crdt__dv want) {
  assert_int_equal(got.counter, want.counter);
  assert_int_equal(got.replica, want.replica);
  assert_int_equal(got.value, want.value);
}

static bool value_not_10(const crdt__dv *d, const void *user) {
  (void)user;
  return d->value != 10;
}

static bool keep_none(const crdt__dv *d, const void *user) {
  (void)d;
  (void)user;
  return false;
}

static void test_store_entry_remove_set_one_shrink(void **state) {
  (void)state;
  size_t base = tu_alloc_live();
  crdt__entry e = {0};
  /* One packable dot (value 0) lives packed in the entry: no allocation. */
  assert_int_equal(crdt__entry_reserve(&e, &mem, 1, true), 0);
  assert_int_equal(crdt__entry_cap(&e), 0);
  crdt__entry_push(&e, dv(1, 7, 0));
  assert_int_equal(crdt__entry_cap(&e), 0);
  assert_dv(crdt__entry_dot(&e, 0), dv(1, 7, 0));
  assert_int_equal(tu_alloc_live(), base);
  /* Growing spills to an array and keeps the packed dot. */
  assert_int_equal(crdt__entry_reserve(&e, &mem, 3, false), 0);
  assert_true(crdt__entry_cap(&e) >= 3);
  assert_true(tu_alloc_live() > base);
  assert_dv(crdt__entry_dot(&e, 0), dv(1, 7, 0));
  crdt__entry_push(&e, dv(2, 0, 10));
  crdt__entry_push(&e, dv(3, 1, 30));
  assert_int_equal(e.ndots, 3);
  assert_int_equal(crdt__entry_sum(&e), 40);
  /* retain keeps order and capacity (room reserved stays reserved). */
  uint32_t cap = crdt__entry_cap(&e);
  crdt__entry_retain(&e, value_not_10, NULL);
  assert_int_equal(e.ndots, 2);
  assert_int_equal(crdt__entry_cap(&e), cap);
  assert_dv(crdt__entry_dot(&e, 0), dv(1, 7, 0));
  assert_dv(crdt__entry_dot(&e, 1), dv(3, 1, 30));
  /* shrink does nothing while two dots, or a value, remain. */
  crdt__entry_shrink(&e, &mem);
  assert_int_equal(crdt__entry_cap(&e), cap);
  /* set_one with a value (not packable) reuses the array. */
  crdt__entry_set_one(&e, &mem, dv(9, 2, -9));
  assert_int_equal(e.ndots, 1);
  assert_true(crdt__entry_cap(&e) > 0);
  assert_dv(crdt__entry_dot(&e, 0), dv(9, 2, -9));
  assert_int_equal(crdt__entry_sum(&e), -9);
  crdt__entry_shrink(&e, &mem); /* a value cannot be packed: stays */
  assert_true(crdt__entry_cap(&e) > 0);
  /* set_one with a packable dot goes back to the packed form, array freed. */
  crdt__entry_set_one(&e, &mem, dv(10, 3, 0));
  assert_int_equal(e.ndots, 1);
  assert_int_equal(crdt__entry_cap(&e), 0);
  assert_dv(crdt__entry_dot(&e, 0), dv(10, 3, 0));
  assert_int_equal(tu_alloc_live(), base);
  /* Counters past 2^48 or replica indexes past 65535 are not packable. */
  assert_false(crdt__dv_packable(dv(CRDT__PACK_COUNTER_MAX + 1, 0, 0)));
  assert_false(crdt__dv_packable(dv(1, CRDT__PACK_REPLICA_MAX + 1, 0)));
  assert_true(crdt__dv_packable(dv(CRDT__PACK_COUNTER_MAX, CRDT__PACK_REPLICA_MAX, 0)));
  assert_int_equal(crdt__entry_reserve(&e, &mem, 1, false), 0);
  crdt__entry_set_one(&e, &mem, dv(CRDT__PACK_COUNTER_MAX + 1, 70000, 0));
  assert_true(crdt__entry_cap(&e) > 0);
  assert_dv(crdt__entry_dot(&e, 0), dv(CRDT__PACK_COUNTER_MAX + 1, 70000, 0));
  /* Dropping the last dot and shrinking frees the array. */
  crdt__entry_retain(&e, keep_none, NULL);
  assert_int_equal(e.ndots, 0);
  crdt__entry_shrink(&e, &mem);
  assert_int_equal(crdt__entry_cap(&e), 0);
  assert_int_equal(crdt__entry_sum(&e), 0);
  assert_int_equal(tu_alloc_live(), base);
  assert_no_leaks();
}

/* The sum of an entry's values must not depend on the order of its dots:
 * replicas holding equal states hold their dots in different orders (the
 * join reorders them), and must read the same sum. Exact sum, clamped. */
static void test_store_entry_sum_is_order_independent(void **state) {
  (void)state;
  /* Three values and their exact sum, clamped (reasoned by hand):
   *  2(2^63 - 1) - 2^63 = 2^63 - 2;  -2^63 - 1 + 1 = -2^63;
   *  -2^64 + 2^63 - 1 < -2^63, clamps;  2^63 - 1 + 5 - 10 = 2^63 - 6. */
  static const struct {
    int64_t v[3], exact;
  } cases[] = {
      {{INT64_MAX, INT64_MAX, INT64_MIN}, INT64_MAX - 1},
      {{INT64_MIN, -1, 1}, INT64_MIN},
      {{INT64_MIN, INT64_MIN, INT64_MAX}, INT64_MIN},
      {{INT64_MAX, 5, -10}, INT64_MAX - 5},
      {{3, -4, 5}, 4},
  };
  static const int perms[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
                                  {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
    for (int p = 0; p < 6; p++) {
      crdt__entry e = {0};
      assert_int_equal(crdt__entry_reserve(&e, &mem, 3, false), 0);
      for (int i = 0; i < 3; i++)
        crdt__entry_push(&e, dv((uint64_t)i + 1, 0, cases[c].v[perms[p][i]]));
      int64_t sum = crdt__entry_sum(&e);
      crdt__entry_free_dots(&e, &mem);
      if (sum != cases[c].exact)
        fail_msg("case %zu, order %d,%d,%d: sum %lld, exact %lld", c,
                 perms[p][0], perms[p][1], perms[p][2], (long long)sum,
                 (long long)cases[c].exact);
    }
  assert_no_leaks();
}

/* ---- the element index --------------------------------------------------- */

/* Hashes whose low bits put every key at a few homes around the end and the
 * start of the table, whatever its size: one long cluster that wraps, with
 * homes inside it, so deletes shift entries backwards across the wrap. */
static uint32_t crowded_hash(unsigned i) {
  static const uint32_t low[8] = {0x7FFFFFFF, 0x7FFFFFFE, 0x00000000,
                                  0x00000001, 0x7FFFFFF0, 0x00000005,
                                  0x7FFFFFFD, 0x00000002};
  return 0x80000000u | low[i % 8];
}

static uint32_t real_hash(unsigned i) {
  char key[16];
  int n = snprintf(key, sizeof key, "key-%u", i);
  return crdt__key_hash(key, (size_t)n);
}

static crdt__entry *index_find(const crdt__store *s, unsigned i,
                               uint32_t (*h)(unsigned)) {
  char key[16];
  int n = snprintf(key, sizeof key, "key-%u", i);
  crdt__entry *e = crdt__store_find(s, key, (size_t)n, h(i));
  if (e) {
    assert_int_equal(e->keylen, (uint32_t)n);
    assert_memory_equal(e->key, key, (size_t)n);
    /* The payload moved with the entry. */
    assert_true(e->ndots >= 1);
    assert_int_equal(crdt__entry_dot(e, 0).value, (int64_t)i);
    assert_int_equal(e->ndots, i % 5 ? 1 : 3);
  }
  return e;
}

static void index_insert(crdt__store *s, unsigned i, uint32_t (*h)(unsigned)) {
  char key[16];
  int n = snprintf(key, sizeof key, "key-%u", i);
  crdt__entry *e;
  assert_int_equal(crdt__store_insert(s, &mem, key, (size_t)n, h(i), &e), 0);
  uint32_t dots = i % 5 ? 1 : 3;
  assert_int_equal(crdt__entry_reserve(e, &mem, dots, false), 0);
  for (uint32_t k = 0; k < dots; k++)
    crdt__entry_push(e, dv(k + 1, 0, (int64_t)i));
}

/* Returns how many checkpoints saw a cluster wrap (first and last slot in
 * use). */
static unsigned index_against_reference(unsigned nkeys, uint32_t (*h)(unsigned),
                                        unsigned long long seed) {
  tu_rng rng = {seed};
  crdt__store s = {0};
  bool *present = calloc(nkeys, sizeof *present);
  assert_non_null(present);
  uint32_t count = 0, deletes = 0, peak = 0;
  unsigned wrapped = 0;
  for (unsigned step = 0; step < 100000; step++) {
    unsigned i = tu_below(&rng, nkeys);
    /* Lean towards the opposite of the current fill so it swings. */
    crdt__entry *e = index_find(&s, i, h);
    assert_int_equal(e != NULL, present[i]);
    if (e) {
      crdt__store_delete(&s, &mem, e);
      present[i] = false;
      count--;
      deletes++;
    } else {
      index_insert(&s, i, h);
      present[i] = true;
      count++;
    }
    if (count > peak) peak = count;
    assert_int_equal(s.count, count);
    assert_int_equal(index_find(&s, i, h) != NULL, present[i]);
    if (step % 997 == 0) {
      uint32_t in_use = 0, tombs = 0, slots = s.index ? s.mask + 1 : 0;
      for (uint32_t k = 0; k < slots; k++) {
        tombs += s.index[k] == s.mask;
        in_use += s.index[k] != 0 && s.index[k] != s.mask;
      }
      assert_int_equal(in_use, count);
      assert_int_equal(tombs, s.tombs);
      wrapped += slots && s.index[0] && s.index[s.mask];
      /* Tombstones count towards the load: probes always end. */
      assert_true((uint64_t)(count + tombs) * 4 <= (uint64_t)slots * 3);
      for (unsigned k = 0; k < nkeys; k++)
        assert_int_equal(index_find(&s, k, h) != NULL, present[k]);
    }
  }
  for (unsigned k = 0; k < nkeys; k++)
    assert_int_equal(index_find(&s, k, h) != NULL, present[k]);
  assert_true(deletes > 40000);
  assert_true(peak > nkeys / 3);
  crdt__store_free(&s, &mem);
  assert_int_equal(s.count, 0);
  free(present);
  return wrapped;
}

static void test_store_index_survives_crowded_hashes(void **state) {
  (void)state;
  unsigned wrapped = index_against_reference(256, crowded_hash, 0x1DE5ull);
  assert_true(wrapped > 50); /* of about 100 checkpoints */
  assert_no_leaks();
}

static void test_store_index_survives_many_keys(void **state) {
  (void)state;
  index_against_reference(4096, real_hash, 0xB16B00B5ull);
  assert_no_leaks();
}

/* Sweeps of a few emptied entries (deleted one by one) and of many (array
 * compacted, index rebuilt in place) leave exactly the other keys findable,
 * with their payloads. */
static void sweep_against_reference(uint32_t (*h)(unsigned), unsigned every) {
  enum { NKEYS = 1024 };
  crdt__store s = {0};
  for (unsigned i = 0; i < NKEYS; i++) index_insert(&s, i, h);
  unsigned emptied = 0;
  for (unsigned i = 0; i < NKEYS; i += every) {
    index_find(&s, i, h)->ndots = 0;
    emptied++;
  }
  crdt__store_sweep(&s, &mem);
  assert_int_equal(s.count, NKEYS - emptied);
  uint32_t in_use = 0;
  for (uint32_t k = 0; k <= s.mask; k++)
    in_use += s.index[k] != 0 && s.index[k] != s.mask;
  assert_int_equal(in_use, s.count);
  for (unsigned i = 0; i < NKEYS; i++)
    assert_int_equal(index_find(&s, i, h) != NULL, i % every != 0);
  crdt__store_sweep(&s, &mem); /* nothing left to delete */
  assert_int_equal(s.count, NKEYS - emptied);
  crdt__store_free(&s, &mem);
}

static void test_store_sweep_few_and_many(void **state) {
  (void)state;
  sweep_against_reference(real_hash, 400); /* 3 of 1024: one by one */
  sweep_against_reference(real_hash, 3);   /* 342: rebuilt */
  sweep_against_reference(crowded_hash, 400);
  sweep_against_reference(crowded_hash, 3);
  assert_no_leaks();
}

/* Entry arrays of 4 MiB and more grow by allocate, copy, free (so the new
 * block can be advised to use huge pages first): every key survives the
 * move, and a failed growth leaves the store as it was. */
static void test_store_large_entry_array_grows_atomically(void **state) {
  (void)state;
  enum { N = 1 << 17 }; /* 131072 entries of 32 bytes: exactly 4 MiB */
  crdt__store s = {0};
  for (unsigned i = 0; i < N; i++) index_insert(&s, i, real_hash);
  assert_int_equal(s.cap, N); /* the last growth took the large path */
  tu_alloc_fail_at(0); /* the next allocation: the 8 MiB array */
  char key[16];
  int n = snprintf(key, sizeof key, "key-%u", N);
  crdt__entry *e;
  assert_int_equal(crdt__store_insert(&s, &mem, key, (size_t)n, real_hash(N),
                                      &e),
                   CRDT_ENOMEM);
  assert_true(tu_alloc_fired());
  tu_alloc_fail_at(-1);
  assert_int_equal(s.count, N);
  assert_int_equal(s.cap, N);
  index_insert(&s, N, real_hash);
  assert_int_equal(s.cap, 2 * N);
  for (unsigned i = 0; i <= N; i++) assert_non_null(index_find(&s, i, real_hash));
  crdt__store_free(&s, &mem);
  assert_no_leaks();
}

/* A dot held by two entries never happens in a valid state, but the
 * encoder must still report it rather than write a stream a decoder would
 * reject: sorting a replica's dots (entries out of counter order, as after
 * removals) gives CRDT_ERANGE, whether the counter range is dense (bucket
 * pass) or sparse (comparison sort). */
static void test_store_encoder_reports_a_repeated_dot(void **state) {
  (void)state;
  for (int sparse = 0; sparse < 2; sparse++) {
    crdt__causal c = {0};
    uint64_t big = sparse ? 1000000 : 5;
    tu_put(&c, "k1", "A", big, 0); /* out of counter order along the array */
    tu_put(&c, "k2", "A", 2, 0);
    tu_put(&c, "k3", "A", 1, 0);
    tu_put(&c, "k4", "A", 2, 0); /* the same dot as k2 */
    crdt__wbuf w = crdt__wbuf_into(NULL, 0, &mem);
    crdt__wire_put_causal(&w, &c, false);
    assert_int_equal(w.err, CRDT_ERANGE);
    crdt__wbuf_free(&w);
    /* Without the repeat it encodes. */
    crdt__store_delete(&c.store, &mem, tu_entry(&c, "k4"));
    w = crdt__wbuf_into(NULL, 0, &mem);
    crdt__wire_put_causal(&w, &c, false);
    assert_int_equal(w.err, 0);
    assert_true(w.len > 0);
    crdt__wbuf_free(&w);
    crdt__causal_free(&c, &mem);
  }
  assert_no_leaks();
}

/* Appending without lookups, then indexing once, finds every key and
 * reports a key appended twice. */
static void test_store_append_then_index(void **state) {
  (void)state;
  crdt__store s = {0};
  crdt__entry *e;
  for (unsigned i = 0; i < 300; i++) {
    char key[16];
    int n = snprintf(key, sizeof key, "key-%u", i);
    assert_int_equal(crdt__store_append(&s, &mem, key, (size_t)n,
                                        real_hash(i), &e), 0);
    assert_int_equal(crdt__entry_reserve(e, &mem, 1, true), 0);
    crdt__entry_push(e, dv(1, 0, 0));
  }
  assert_null(s.index);
  assert_int_equal(crdt__store_index(&s, &mem), 0);
  for (unsigned i = 0; i < 300; i++) {
    char key[16];
    int n = snprintf(key, sizeof key, "key-%u", i);
    assert_non_null(crdt__store_find(&s, key, (size_t)n, real_hash(i)));
  }
  assert_int_equal(crdt__store_append(&s, &mem, "key-7", 5, real_hash(7), &e),
                   0);
  assert_int_equal(crdt__store_index(&s, &mem), CRDT_EORDER);
  assert_null(s.index);
  crdt__store_free(&s, &mem);
  assert_no_leaks();
}

static void test_store_empty_key_and_copy(void **state) {
  (void)state;
  crdt__causal a = {0};
  tu_put(&a, "", "A", 1, 5);
  tu_put(&a, "x", "A", 2, 6);
  tu_put(&a, "x", "B", 1, 7);
  tu_put(&a, "twelve-bytes", "A", 3, 8);  /* the longest key kept inline */
  tu_put(&a, "thirteen-byte", "A", 4, 9); /* the shortest in the arena */
  assert_int_equal(tu_entry(&a, "")->keylen, 0);
  assert_ptr_equal(crdt__entry_key(tu_entry(&a, "twelve-bytes")),
                   tu_entry(&a, "twelve-bytes")->key);
  assert_ptr_not_equal(crdt__entry_key(tu_entry(&a, "thirteen-byte")),
                       tu_entry(&a, "thirteen-byte")->key);
  assert_int_equal(a.store.keys.live, 13);
  assert_int_equal(value_at(&a, "", "A", 1), 5);
  crdt__causal b = copy_of(&a);
  assert_true(crdt__causal_equal(&a, &b));
  assert_state(&b, "replicas=A,B ctx={A:4, B:1} :[A:1=5] thirteen-byte:[A:4=9] "
                   "twelve-bytes:[A:3=8] x:[A:2=6 B:1=7]");
  /* Independent: changing the copy leaves the original. */
  crdt__store_delete(&b.store, &mem, tu_entry(&b, ""));
  assert_non_null(tu_entry(&a, ""));
  assert_false(crdt__causal_equal(&a, &b));
  crdt__causal_free(&a, &mem);
  crdt__causal_free(&b, &mem);
  assert_no_leaks();
}

/* ---- equality and canonical order ---------------------------------------- */

static void test_store_equality_ignores_insertion_and_replica_order(
    void **state) {
  (void)state;
  crdt__causal a = {0}, b = {0};
  tu_put(&a, "x", "A", 1, 1);
  tu_put(&a, "y", "B", 1, 2);
  tu_put(&a, "x", "C", 1, 3);
  tu_see(&a, "C", 3);
  /* b: replicas interned C, B, A and keys in the other order. */
  tu_rep(&b, "D"); /* a replica with no dots changes nothing */
  tu_see(&b, "C", 3);
  tu_put(&b, "x", "C", 1, 3);
  tu_put(&b, "y", "B", 1, 2);
  tu_put(&b, "x", "A", 1, 1);
  assert_int_not_equal(crdt__replicas_find(&a.replicas, "A", 1),
                       crdt__replicas_find(&b.replicas, "A", 1));
  assert_true(crdt__causal_equal(&a, &b));
  assert_true(crdt__causal_equal(&b, &a));
  /* Printing is canonical too (the tables differ, so only up to them). */
  char *ta = causal_text(&a), *tb = causal_text(&b);
  assert_string_equal(strstr(ta, " ctx="), strstr(tb, " ctx="));
  free(ta);
  free(tb);

  /* A context-only difference. */
  crdt__causal c = copy_of(&b);
  tu_see(&c, "B", 9);
  assert_false(crdt__causal_equal(&a, &c));
  /* A dot moved to another key. */
  crdt__causal d = {0};
  tu_put(&d, "x", "A", 1, 1);
  tu_put(&d, "x", "B", 1, 2);
  tu_put(&d, "x", "C", 1, 3);
  tu_see(&d, "C", 3);
  assert_false(crdt__causal_equal(&a, &d));
  /* Same context, one more dot in a key. */
  crdt__causal e = {0}, e2 = {0};
  tu_put(&e, "x", "A", 1, 0);
  tu_see(&e, "A", 2);
  tu_put(&e2, "x", "A", 1, 0);
  tu_put(&e2, "x", "A", 2, 0);
  assert_false(crdt__causal_equal(&e, &e2));
  assert_false(crdt__causal_equal(&e2, &e));
  crdt__causal_free(&e, &mem);
  crdt__causal_free(&e2, &mem);
  /* Markers count only when both are keyed. */
  crdt__causal m = copy_of(&a);
  marker(&m, "z");
  assert_true(crdt__causal_equal(&a, &m));
  crdt__causal ak = copy_of(&a);
  ak.keyed = m.keyed = true;
  assert_false(crdt__causal_equal(&ak, &m));
  assert_true(crdt__causal_equal(&a, &m));
  crdt__causal *all[] = {&a, &b, &c, &d, &m, &ak};
  for (int i = 0; i < 6; i++) crdt__causal_free(all[i], &mem);
  assert_no_leaks();
}

static void test_store_sorted_orders_are_canonical(void **state) {
  (void)state;
  crdt__causal a = {0};
  tu_put(&a, "pear", "b", 1, 0);
  tu_put(&a, "apple", "b", 2, 0);
  tu_put(&a, "Zebra", "a", 1, 0);
  tu_put(&a, "apple", "B", 7, 0);
  tu_put(&a, "apple", "a", 4, 0);
  tu_put(&a, "apple", "b", 1 + 2, 0);
  tu_put(&a, "app", "a", 9, 0);
  const crdt__entry **sorted;
  assert_int_equal(crdt__store_sorted(&a.store, &mem, &sorted), 0);
  const char *keys[] = {"Zebra", "app", "apple", "pear"};
  for (int i = 0; i < 4; i++) {
    assert_int_equal(sorted[i]->keylen, strlen(keys[i]));
    assert_memory_equal(sorted[i]->key, keys[i], strlen(keys[i]));
  }
  const crdt__entry *apple = sorted[2];
  crdt__dv dots[4];
  crdt__entry_sorted_dots(apple, &a.replicas, dots);
  /* By replica id bytes ("B" < "a" < "b"), then counter. */
  const char *ids[] = {"B", "a", "b", "b"};
  const uint64_t counters[] = {7, 4, 2, 3};
  for (int i = 0; i < 4; i++) {
    assert_string_equal(crdt__replicas_id(&a.replicas, dots[i].replica, NULL),
                        ids[i]);
    assert_int_equal(dots[i].counter, counters[i]);
  }
  crdt__free(&mem, sorted, a.store.count * sizeof *sorted);
  crdt__causal empty = {0};
  assert_int_equal(crdt__store_sorted(&empty.store, &mem, &sorted), 0);
  assert_null(sorted);
  crdt__causal_free(&a, &mem);
  assert_no_leaks();
}

#define T(f) cmocka_unit_test_setup(f, remember_live)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(test_store_join_dot_in_both_stores_survives),
      T(test_store_join_unseen_dot_survives),
      T(test_store_join_seen_dot_is_dropped),
      T(test_store_emptied_entry_deleted_in_full_state),
      T(test_store_emptied_entry_kept_as_marker_in_keyed_deltas),
      T(test_store_keyed_delta_into_full_touches_only_its_keys),
      T(test_store_full_into_keyed_drops_markers),
      T(test_store_join_self_and_empty),
      T(test_store_join_atomic_under_oom),
      T(test_store_large_entries_match_reference),
      T(test_store_join_matches_reference_random),
      T(test_store_values_are_carried),
      T(test_store_entry_remove_set_one_shrink),
      T(test_store_entry_sum_is_order_independent),
      T(test_store_index_survives_crowded_hashes),
      T(test_store_index_survives_many_keys),
      T(test_store_sweep_few_and_many),
      T(test_store_record_direct_matches_join_random),
      T(test_store_join_of_unrelated_replicas),
      T(test_store_append_then_index),
      T(test_store_encoder_reports_a_repeated_dot),
      T(test_store_large_entry_array_grows_atomically),
      T(test_store_empty_key_and_copy),
      T(test_store_equality_ignores_insertion_and_replica_order),
      T(test_store_sorted_orders_are_canonical),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
