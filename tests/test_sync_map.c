/*
 * Sync sessions on the map (include/crdt/map.h, docs/sync.md): random
 * histories converge cold and then warm, at every message cap, one side
 * starting or both; identical maps send their contexts and a constant;
 * removals of nested fields and elements, same-name fields of two types,
 * a removal that empties a field, and a field removed while a concurrent
 * update below it arrives, all through sessions; warm rounds cost the
 * change and cold ones find removals with the sketch; and the digest the
 * journal keeps per change equals the digest by scan.
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
#include "digest.h"
#include "dotted.h"
#include "map_gen.h"
#include "sync_session.h"
#include "syncpump.h"
#include "testutil.h"

#define OK(x) assert_int_equal((x), 0)

static void pump_fail(const char *what, int rc) {
  fail_msg("%s: %s", what, crdt_err_name(rc));
}

/* Syncs through the sessions until both are in sync; returns the ticks. */
static int pump(crdt_sync *sa, crdt_sync *sb, size_t cap, bool b_waits,
                tu_pump *out) {
  tu_pump p = {cap, b_waits, 200, 0, 0, 0, 0, pump_fail};
  if (b_waits) OK(crdt_sync_restart(sa));
  int t = tu_pump_run(&p, sa, sb);
  assert_true(t >= 0);
  if (out) *out = p;
  return t;
}

static crdt_map *map_of(crdt_object *o) { return crdt_object_map(o); }

static int64_t counter(crdt_object *o, crdt_path path) {
  int64_t v = -999;
  int rc = crdt_map_counter_value(map_of(o), path, &v);
  assert_true(rc == 0 || rc == CRDT_ENOENT);
  return rc == CRDT_ENOENT ? -1 : v;
}

/* Equal states, equal contexts, equal values: what a finished session
 * promises. */
static void assert_same(crdt_object *a, crdt_object *b) {
  assert_true(crdt_object_equal(a, b));
  crdt_order o;
  OK(crdt_object_compare(a, b, &o));
  assert_int_equal(o, CRDT_EQUAL);
  char *ta = tu_object_text(a), *tb = tu_object_text(b);
  assert_string_equal(ta, tb);
  free(ta);
  free(tb);
}

/* The digest the journal keeps equals the digest by scan, and its live
 * count the number of dots in the tree. */
static void assert_digest_kept(crdt_sync *s) {
  const crdt__causal *c = &crdt__dotted_cof(s->obj)->c;
  assert_non_null(s->j);
  uint64_t live;
  const uint64_t kept = crdt__journal_digest(s->j, c, &live);
  assert_true(kept == crdt__causal_digest(c));
  assert_true(live == crdt__store_dots(&c->store));
}

/* Frees two sessions, then their objects. */
static void finish(crdt_sync *sa, crdt_sync *sb, crdt_object *a,
                   crdt_object *b) {
  crdt_sync_free(sa);
  crdt_sync_free(sb);
  crdt_object_free(a);
  crdt_object_free(b);
}

/* ---- convergence ----------------------------------------------------------- */

/* Random concurrent histories (paths up to 4 deep, every field type, field
 * removes), synced again and again through the same sessions: the first
 * round is cold, the later ones warm; caps from tiny to large, one side
 * starting or both. */
static void test_sync_map_random_histories_converge(void **state) {
  (void)state;
  tu_rng rng = {777};
  for (int trial = 0; trial < 12; trial++) {
    crdt_object *a = tu_new_object(CRDT_TYPE_MAP, "alpha"),
                *b = tu_new_object(CRDT_TYPE_MAP, "b");
    crdt_sync *sa = tu_new_session(a), *sb = tu_new_session(b);
    const size_t cap = (size_t[]){300, 700, 4096, 1 << 16}[trial % 4];
    for (int round = 0; round < 6; round++) {
      unsigned na = tu_below(&rng, 80), nb = tu_below(&rng, 80);
      for (unsigned i = 0; i < na + nb; i++) {
        tu_map_update mu;
        tu_map_random(&mu, &rng, 4);
        int rc = crdt_object_update(i < na ? a : b, &mu.u, NULL);
        assert_true(rc == 0 || rc == CRDT_ENOENT);
      }
      assert_digest_kept(sa);
      assert_digest_kept(sb);
      pump(sa, sb, cap, tu_below(&rng, 2), NULL);
      assert_same(a, b);
      assert_digest_kept(sa);
      assert_digest_kept(sb);
    }
    crdt_sync_stats st;
    OK(crdt_sync_get_stats(sa, &st));
    if (cap == 1 << 16) assert_int_equal(st.cold_rounds, 1); /* then warm */
    finish(sa, sb, a, b);
  }
}

/* Equal maps, sessions that never met: one message each way, the context
 * and a constant. */
static void test_sync_map_identical_maps_send_contexts_only(void **state) {
  (void)state;
  crdt_object *a = tu_new_object(CRDT_TYPE_MAP, "a");
  char name[32];
  for (int i = 0; i < 1500; i++) {
    snprintf(name, sizeof name, "user-%d", i);
    OK(crdt_map_counter_inc(map_of(a), CRDT_PATH(name, "visits"), 1 + i % 4,
                            NULL));
    OK(crdt_map_orset_add(map_of(a), CRDT_PATH(name, "tags"), "t", 1, NULL));
  }
  for (int i = 0; i < 1500; i += 3) {
    snprintf(name, sizeof name, "user-%d", i);
    OK(crdt_map_remove(map_of(a), CRDT_PATH(name, "tags"), CRDT_FIELD_ORSET,
                       NULL));
  }
  crdt_object *b = tu_copy_as(a, "b");
  crdt_sync *sa = tu_new_session(a), *sb = tu_new_session(b);
  tu_pump p;
  assert_int_equal(pump(sa, sb, 1 << 16, false, &p), 1); /* half a RTT */
  assert_int_equal(p.msgs_ab, 1);
  assert_int_equal(p.msgs_ba, 1);
  const size_t ctx = tu_context_size(a);
  printf("# identical maps (%zu B): %llu + %llu B, context %zu B\n",
         tu_encoded_size(a), (unsigned long long)p.ab,
         (unsigned long long)p.ba, ctx);
  assert_true(p.ab <= ctx + 64 && p.ba <= ctx + 64);
  finish(sa, sb, a, b);
}

/* ---- semantics through sessions --------------------------------------------- */

/* Removals of nested fields and elements reach the peer, warm and cold:
 * afterwards the fields are gone on both sides. */
static void test_sync_map_removals_propagate(void **state) {
  (void)state;
  for (int cold = 0; cold < 2; cold++) {
    crdt_object *a = tu_new_object(CRDT_TYPE_MAP, "a"),
                *b = tu_new_object(CRDT_TYPE_MAP, "b");
    crdt_map *ma = map_of(a), *mb = map_of(b);
    OK(crdt_map_counter_inc(ma, CRDT_PATH("doc", "meta", "views"), 4, NULL));
    OK(crdt_map_orset_add(ma, CRDT_PATH("doc", "tags"), "x", 1, NULL));
    OK(crdt_map_orset_add(ma, CRDT_PATH("doc", "tags"), "y", 1, NULL));
    OK(crdt_map_lwwreg_set(ma, CRDT_PATH("doc", "title"), "T", 1, 5, NULL));
    OK(crdt_map_flag_enable(ma, CRDT_PATH("doc", "meta", "draft"), NULL));
    OK(crdt_map_counter_inc(mb, CRDT_PATH("other"), 1, NULL));
    crdt_sync *sa = tu_new_session(a), *sb = tu_new_session(b);
    pump(sa, sb, 1 << 16, false, NULL);
    assert_same(a, b);
    if (cold) { /* the sessions are lost: the next round is cold */
      crdt_sync_free(sa);
      crdt_sync_free(sb);
      sa = tu_new_session(a);
      sb = tu_new_session(b);
    }
    OK(crdt_map_remove(ma, CRDT_PATH("doc", "meta"), CRDT_FIELD_MAP, NULL));
    OK(crdt_map_orset_remove(ma, CRDT_PATH("doc", "tags"), "x", 1, NULL));
    OK(crdt_map_lwwreg_set(mb, CRDT_PATH("doc", "title"), "U", 1, 9, NULL));
    pump(sa, sb, 700, cold, NULL);
    assert_same(a, b);
    assert_false(crdt_map_has(mb, CRDT_PATH("doc", "meta"), CRDT_FIELD_MAP));
    assert_false(crdt_map_has(mb, CRDT_PATH("doc", "meta", "views"),
                              CRDT_FIELD_COUNTER));
    assert_false(crdt_map_orset_contains(mb, CRDT_PATH("doc", "tags"), "x", 1));
    assert_true(crdt_map_orset_contains(mb, CRDT_PATH("doc", "tags"), "y", 1));
    crdt_bytes v;
    OK(crdt_map_lwwreg_get(ma, CRDT_PATH("doc", "title"), &v, NULL));
    assert_true(v.size == 1 && memcmp(v.data, "U", 1) == 0);
    crdt_sync_stats st;
    OK(crdt_sync_get_stats(sb, &st));
    assert_int_equal(st.cold_rounds, 1); /* b's first round, or this one */
    assert_int_equal(st.full_rounds, 0);            /* removals: the sketch */
    finish(sa, sb, a, b);
  }
}

/* One name, two types: two fields, at the root and nested, each side
 * made one of them; after the session both have both. */
static void test_sync_map_same_name_two_types(void **state) {
  (void)state;
  crdt_object *a = tu_new_object(CRDT_TYPE_MAP, "a"),
              *b = tu_new_object(CRDT_TYPE_MAP, "b");
  OK(crdt_map_counter_inc(map_of(a), CRDT_PATH("x"), 3, NULL));
  OK(crdt_map_orset_add(map_of(b), CRDT_PATH("x"), "e", 1, NULL));
  OK(crdt_map_flag_enable(map_of(a), CRDT_PATH("m", "x"), NULL));
  OK(crdt_map_mvreg_set(map_of(b), CRDT_PATH("m", "x"), "v", 1, NULL));
  crdt_sync *sa = tu_new_session(a), *sb = tu_new_session(b);
  pump(sa, sb, 512, false, NULL);
  assert_same(a, b);
  for (int side = 0; side < 2; side++) {
    crdt_map *m = map_of(side ? b : a);
    assert_true(crdt_map_has(m, CRDT_PATH("x"), CRDT_FIELD_COUNTER));
    assert_true(crdt_map_has(m, CRDT_PATH("x"), CRDT_FIELD_ORSET));
    assert_true(crdt_map_flag_enabled(m, CRDT_PATH("m", "x")));
    assert_true(crdt_map_has(m, CRDT_PATH("m", "x"), CRDT_FIELD_MVREG));
  }
  /* removing one of the two, through a warm round, keeps the other */
  OK(crdt_map_remove(map_of(a), CRDT_PATH("x"), CRDT_FIELD_ORSET, NULL));
  pump(sa, sb, 512, false, NULL);
  assert_same(a, b);
  assert_false(crdt_map_has(map_of(b), CRDT_PATH("x"), CRDT_FIELD_ORSET));
  assert_int_equal(counter(b, CRDT_PATH("x")), 3);
  finish(sa, sb, a, b);
}

/* Removing the last element of a set removes the field and the maps above
 * it that it leaves empty; the peer ends the same, warm and cold. */
static void test_sync_map_nested_remove_empties_field(void **state) {
  (void)state;
  for (int cold = 0; cold < 2; cold++) {
    crdt_object *a = tu_new_object(CRDT_TYPE_MAP, "a"),
                *b = tu_new_object(CRDT_TYPE_MAP, "b");
    OK(crdt_map_orset_add(map_of(a), CRDT_PATH("user", "p", "tags"), "only", 4,
                          NULL));
    OK(crdt_map_counter_inc(map_of(a), CRDT_PATH("keep"), 1, NULL));
    crdt_sync *sa = tu_new_session(a), *sb = tu_new_session(b);
    pump(sa, sb, 1 << 16, false, NULL);
    assert_true(crdt_map_has(map_of(b), CRDT_PATH("user"), CRDT_FIELD_MAP));
    if (cold) {
      crdt_sync_free(sa);
      sa = tu_new_session(a);
    }
    OK(crdt_map_orset_remove(map_of(b), CRDT_PATH("user", "p", "tags"), "only",
                             4, NULL));
    assert_false(crdt_map_has(map_of(b), CRDT_PATH("user"), CRDT_FIELD_MAP));
    pump(sa, sb, 1 << 16, false, NULL);
    assert_same(a, b);
    assert_false(crdt_map_has(map_of(a), CRDT_PATH("user"), CRDT_FIELD_MAP));
    char *v = tu_object_text(a);
    assert_null(strstr(v, "user"));
    free(v);
    assert_int_equal(counter(a, CRDT_PATH("keep")), 1);
    finish(sa, sb, a, b);
  }
}

/* Counter changes keep a dot each: a field below the root with many dots
 * on both sides, synced cold (chunks carry whole dot lists) and warm. The
 * join once sized its scratch buffer by the root level only: memset(NULL)
 * (found by fuzz_sync_history; test_map.c has the merge). */
static void test_sync_map_many_dots_below_the_root(void **state) {
  (void)state;
  crdt_object *a = tu_new_object(CRDT_TYPE_MAP, "a");
  const crdt_path p = CRDT_PATH("user", "visits");
  for (int i = 0; i < 12; i++) OK(crdt_map_counter_inc(map_of(a), p, 1, NULL));
  crdt_object *b = tu_copy_as(a, "b");
  for (int i = 0; i < 12; i++) OK(crdt_map_counter_inc(map_of(b), p, 2, NULL));
  OK(crdt_map_counter_inc(map_of(a), p, 1, NULL));
  crdt_sync *sa = tu_new_session(a), *sb = tu_new_session(b);
  pump(sa, sb, 1 << 16, false, NULL);
  assert_same(a, b);
  assert_int_equal(counter(a, p), 13 + 24);
  for (int i = 0; i < 12; i++) OK(crdt_map_counter_dec(map_of(a), p, 1, NULL));
  pump(sa, sb, 300, true, NULL);
  assert_same(a, b);
  assert_int_equal(counter(b, p), 25);
  finish(sa, sb, a, b);
}

/* A removes the map "doc" while B, concurrently, increments the counter
 * doc.visits by 2 (it was 5): after the session both show doc.visits = 2,
 * the concurrent increment alone (warm sessions, fresh ones, one side
 * starting or both). */
static void test_sync_map_remove_vs_concurrent_update(void **state) {
  (void)state;
  for (int mode = 0; mode < 4; mode++) {
    const bool fresh = mode & 1, waits = mode & 2;
    crdt_object *a = tu_new_object(CRDT_TYPE_MAP, "a"),
                *b = tu_new_object(CRDT_TYPE_MAP, "b");
    OK(crdt_map_counter_inc(map_of(a), CRDT_PATH("doc", "visits"), 5, NULL));
    OK(crdt_map_orset_add(map_of(a), CRDT_PATH("doc", "tags"), "t", 1, NULL));
    crdt_sync *sa = tu_new_session(a), *sb = tu_new_session(b);
    pump(sa, sb, 1 << 16, false, NULL);
    assert_int_equal(counter(b, CRDT_PATH("doc", "visits")), 5);
    if (fresh) {
      crdt_sync_free(sa);
      crdt_sync_free(sb);
      sa = tu_new_session(a);
      sb = tu_new_session(b);
    }
    OK(crdt_map_remove(map_of(a), CRDT_PATH("doc"), CRDT_FIELD_MAP, NULL));
    OK(crdt_map_counter_inc(map_of(b), CRDT_PATH("doc", "visits"), 2, NULL));
    pump(sa, sb, 400, waits, NULL);
    assert_same(a, b);
    assert_int_equal(counter(a, CRDT_PATH("doc", "visits")), 2);
    assert_int_equal(counter(b, CRDT_PATH("doc", "visits")), 2);
    assert_false(crdt_map_has(map_of(a), CRDT_PATH("doc", "tags"),
                              CRDT_FIELD_ORSET));
    finish(sa, sb, a, b);
  }
}

/* ---- costs ------------------------------------------------------------------ */

/* A map of 3000 users, synced: one nested increment costs a push of a few
 * dozen bytes (the journal's delta: path, dot), not O(state); a register
 * write and a field remove cost their own delta. The sessions never go
 * cold. */
static void test_sync_map_warm_rounds_cost_the_change(void **state) {
  (void)state;
  crdt_object *a = tu_new_object(CRDT_TYPE_MAP, "a");
  char name[32];
  for (int i = 0; i < 3000; i++) {
    snprintf(name, sizeof name, "user-%d", i);
    OK(crdt_map_counter_inc(map_of(a), CRDT_PATH(name, "profile", "visits"),
                            1, NULL));
    OK(crdt_map_mvreg_set(map_of(a), CRDT_PATH(name, "profile", "email"),
                          name, strlen(name), NULL));
  }
  crdt_object *b = tu_copy_as(a, "b");
  crdt_sync *sa = tu_new_session(a), *sb = tu_new_session(b);
  pump(sa, sb, 1 << 16, false, NULL);
  tu_pump p;
  OK(crdt_map_counter_inc(map_of(a), CRDT_PATH("user-10", "profile", "visits"),
                          1, NULL));
  assert_int_equal(pump(sa, sb, 1 << 16, false, &p), 1); /* a push */
  printf("# one nested increment: %llu + %llu B\n", (unsigned long long)p.ab,
         (unsigned long long)p.ba);
  assert_true(p.ab < 120 && p.ba < 120);
  OK(crdt_map_mvreg_set(map_of(b), CRDT_PATH("user-11", "profile", "email"),
                        "new", 3, NULL));
  OK(crdt_map_remove(map_of(b), CRDT_PATH("user-12"), CRDT_FIELD_MAP, NULL));
  pump(sa, sb, 1 << 16, false, &p);
  printf("# a register write and a field remove: %llu + %llu B\n",
         (unsigned long long)p.ab, (unsigned long long)p.ba);
  assert_true(p.ab < 200 && p.ba < 250);
  assert_same(a, b);
  crdt_sync_stats st;
  OK(crdt_sync_get_stats(sa, &st));
  assert_int_equal(st.cold_rounds, 0); /* equal at first, then warm */
  assert_digest_kept(sa);
  assert_digest_kept(sb);
  finish(sa, sb, a, b);
}

/* Sessions that never met, on maps that differ by 40 removals among 6000
 * fields, each removal below a path: the sketch finds them in O(40)
 * bytes, not O(state) nor O(every removal ever made). */
static void test_sync_map_cold_removals_by_sketch(void **state) {
  (void)state;
  crdt_object *a = tu_new_object(CRDT_TYPE_MAP, "a");
  char name[32];
  for (int i = 0; i < 3000; i++) {
    snprintf(name, sizeof name, "k%d", i);
    OK(crdt_map_orset_add(map_of(a), CRDT_PATH("set", "items"), name,
                          strlen(name), NULL));
    OK(crdt_map_counter_inc(map_of(a), CRDT_PATH("counts", name), 2, NULL));
  }
  for (int i = 0; i < 3000; i += 2) { /* old removals both have seen */
    snprintf(name, sizeof name, "k%d", i);
    OK(crdt_map_orset_remove(map_of(a), CRDT_PATH("set", "items"), name,
                             strlen(name), NULL));
  }
  crdt_object *b = tu_copy_as(a, "b");
  for (int i = 1; i < 40; i += 2) {
    snprintf(name, sizeof name, "k%d", i);
    OK(crdt_map_orset_remove(map_of(b), CRDT_PATH("set", "items"), name,
                             strlen(name), NULL));
    OK(crdt_map_remove(map_of(a), CRDT_PATH("counts", name),
                       CRDT_FIELD_COUNTER, NULL));
  }
  crdt_sync *sa = tu_new_session(a), *sb = tu_new_session(b);
  tu_pump p;
  pump(sa, sb, 1 << 16, false, &p);
  assert_same(a, b);
  crdt_sync_stats st;
  OK(crdt_sync_get_stats(sa, &st));
  printf("# cold, 40 removals among %zu B: %llu + %llu B\n",
         tu_encoded_size(a), (unsigned long long)p.ab,
         (unsigned long long)p.ba);
  assert_int_equal(st.full_rounds, 0);
  assert_true(p.ab + p.ba < 40 * 60 + 2 * tu_context_size(a) + 256);
  assert_digest_kept(sa);
  assert_digest_kept(sb);
  finish(sa, sb, a, b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sync_map_random_histories_converge),
      cmocka_unit_test(test_sync_map_identical_maps_send_contexts_only),
      cmocka_unit_test(test_sync_map_removals_propagate),
      cmocka_unit_test(test_sync_map_same_name_two_types),
      cmocka_unit_test(test_sync_map_nested_remove_empties_field),
      cmocka_unit_test(test_sync_map_many_dots_below_the_root),
      cmocka_unit_test(test_sync_map_remove_vs_concurrent_update),
      cmocka_unit_test(test_sync_map_warm_rounds_cost_the_change),
      cmocka_unit_test(test_sync_map_cold_removals_by_sketch),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
