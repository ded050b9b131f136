/*
 * Sync sessions (include/crdt/sync.h): two replicas of every type reach
 * equal states through sessions, equal or not, new or warm, in the number
 * of round trips and about the bytes the protocol promises (docs/sync.md).
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
#include "journal.h"
#include "map_gen.h"
#include "syncpump.h"
#include "testutil.h"

#define S(x) (x), strlen(x)

static void pump_fail(const char *what, int rc) {
  fail_msg("%s: %s", what, crdt_err_name(rc));
}

/* Syncs a and b through fresh or given sessions; returns ticks. */
static int sync_pair(crdt_sync *sa, crdt_sync *sb, size_t cap, bool b_waits,
                     tu_pump *out) {
  tu_pump p = {cap, b_waits, 200, 0, 0, 0, 0, pump_fail};
  /* one side starts: it opens a round whatever it holds */
  if (b_waits) assert_int_equal(crdt_sync_restart(sa), 0);
  int t = tu_pump_run(&p, sa, sb);
  if (out) *out = p;
  return t;
}

static void test_sync_orset_cold_then_warm(void **state) {
  (void)state;
  crdt_object *a = tu_new_object(CRDT_TYPE_ORSET, "a"), *b = tu_new_object(CRDT_TYPE_ORSET, "b");
  tu_add_items(a, 0, 300);
  tu_add_items(b, 200, 400);
  tu_remove_items(a, 0, 50, 7);
  crdt_sync *sa = tu_new_session(a), *sb = tu_new_session(b);
  tu_pump p;
  int t = sync_pair(sa, sb, 1 << 20, false, &p);
  assert_true(t > 0);
  assert_true(crdt_object_equal(a, b));
  printf("# cold: %d ticks, %llu + %llu bytes\n", t, (unsigned long long)p.ab,
         (unsigned long long)p.ba);
  /* both change, concurrently; the sessions are warm now */
  tu_add_items(a, 1000, 1010);
  tu_remove_items(a, 100, 200, 10);
  tu_add_items(b, 2000, 2005);
  tu_remove_items(b, 300, 310, 1);
  t = sync_pair(sa, sb, 1 << 20, false, &p);
  assert_true(crdt_object_equal(a, b));
  printf("# warm: %d ticks, %llu + %llu bytes\n", t, (unsigned long long)p.ab,
         (unsigned long long)p.ba);
  crdt_sync_stats st;
  assert_int_equal(crdt_sync_get_stats(sa, &st), 0);
  printf("# rounds %llu cold %llu full %llu\n", (unsigned long long)st.rounds,
         (unsigned long long)st.cold_rounds, (unsigned long long)st.full_rounds);
  crdt_sync_free(sa);
  crdt_sync_free(sb);
  crdt_object_free(a);
  crdt_object_free(b);
}

/* Random updates of any type at replica o (kind picked from 4). */
static void random_update(crdt_object *o, tu_rng *rng, uint64_t *clock) {
  char key[16];
  snprintf(key, sizeof key, "k%u", tu_below(rng, 40));
  crdt_update u;
  memset(&u, 0, sizeof u);
  u.arg = (crdt_bytes){key, strlen(key)};
  u.n = 1 + tu_below(rng, 5);
  u.time = ++*clock;
  switch (crdt_object_type(o)) {
  case CRDT_TYPE_GCOUNTER: u.op = CRDT_OP_INC; break;
  case CRDT_TYPE_PNCOUNTER: u.op = tu_below(rng, 2) ? CRDT_OP_INC : CRDT_OP_DEC; break;
  case CRDT_TYPE_ORSET: u.op = tu_below(rng, 3) ? CRDT_OP_ADD : CRDT_OP_REMOVE; break;
  case CRDT_TYPE_MVREG: u.op = CRDT_OP_SET; break;
  case CRDT_TYPE_CART: {
    unsigned k = tu_below(rng, 4);
    u.op = k < 2 ? CRDT_OP_ADD : k == 2 ? CRDT_OP_DEC : CRDT_OP_REMOVE;
    break;
  }
  case CRDT_TYPE_LWWREG: u.op = CRDT_OP_SET; break;
  case CRDT_TYPE_FLAG:
    u.op = tu_below(rng, 3) ? CRDT_OP_ENABLE : CRDT_OP_DISABLE;
    break;
  case CRDT_TYPE_MAP: {
    tu_map_update mu;
    tu_map_random(&mu, rng, 3);
    u = mu.u;
    int rc = crdt_object_update(o, &u, NULL);
    assert_true(rc == 0 || rc == CRDT_ENOENT);
    return;
  }
  }
  int rc = crdt_object_update(o, &u, NULL);
  assert_true(rc == 0 || rc == CRDT_ENOENT);
}

static const crdt_type all_types[] = {
    CRDT_TYPE_GCOUNTER, CRDT_TYPE_PNCOUNTER, CRDT_TYPE_ORSET, CRDT_TYPE_MVREG,
    CRDT_TYPE_CART,     CRDT_TYPE_LWWREG,    CRDT_TYPE_FLAG,  CRDT_TYPE_MAP};

/* Every type: random concurrent histories, synced again and again through
 * the same sessions (cold first, warm after), with caps from tiny to large,
 * one side starting or both: always equal states and equal contexts. */
static void test_sync_every_type_converges(void **state) {
  (void)state;
  tu_rng rng = {12345};
  for (size_t t = 0; t < sizeof all_types / sizeof *all_types; t++) {
    for (int trial = 0; trial < 6; trial++) {
      crdt_object *a = tu_new_object(all_types[t], "alpha"), *b = tu_new_object(all_types[t], "b");
      uint64_t clock = 0;
      crdt_sync *sa = tu_new_session(a), *sb = tu_new_session(b);
      for (int round = 0; round < 5; round++) {
        unsigned na = tu_below(&rng, 60), nb = tu_below(&rng, 60);
        for (unsigned i = 0; i < na; i++) random_update(a, &rng, &clock);
        for (unsigned i = 0; i < nb; i++) random_update(b, &rng, &clock);
        size_t cap = (size_t[]){300, 1000, 1 << 16}[tu_below(&rng, 3)];
        bool waits = tu_below(&rng, 2);
        int ticks = sync_pair(sa, sb, cap, waits, NULL);
        if (ticks < 0 || !crdt_object_equal(a, b))
          fail_msg("%s trial %d round %d: not equal (ticks %d)",
                   crdt_type_name(all_types[t]), trial, round, ticks);
        crdt_order ord;
        if (all_types[t] != CRDT_TYPE_LWWREG) {
          assert_int_equal(crdt_object_compare(a, b, &ord), 0);
          assert_int_equal(ord, CRDT_EQUAL);
        }
      }
      crdt_sync_free(sa);
      crdt_sync_free(sb);
      crdt_object_free(a);
      crdt_object_free(b);
    }
  }
}

/* Equal replicas, sessions that never met: each side sends one message
 * holding its context and a constant, and both are in sync after it. */
static void test_sync_identical_replicas_send_contexts_only(void **state) {
  (void)state;
  crdt_object *a = tu_new_object(CRDT_TYPE_ORSET, "a");
  tu_add_items(a, 0, 2000);
  tu_remove_items(a, 0, 2000, 3);
  crdt_object *b = tu_copy_as(a, "b");
  crdt_sync *sa = tu_new_session(a), *sb = tu_new_session(b);
  tu_pump p;
  assert_int_equal(sync_pair(sa, sb, 1 << 16, false, &p), 1); /* half a RTT */
  assert_int_equal(p.msgs_ab, 1);
  assert_int_equal(p.msgs_ba, 1);
  const size_t ctx = tu_context_size(a);
  printf("# identical: %llu + %llu bytes, context %zu\n",
         (unsigned long long)p.ab, (unsigned long long)p.ba, ctx);
  assert_true(p.ab <= ctx + 64 && p.ba <= ctx + 64);
  crdt_sync_free(sa);
  crdt_sync_free(sb);
  crdt_object_free(a);
  crdt_object_free(b);
}

/* A cold round at a small cap, where a holds 500 elements b never saw,
 * added and removed again (their dots reach b as DEAD parts of the round,
 * docs/sync.md) among 500 new live ones, and the two sides take turns, a
 * message each. The dead dots are every other counter: 2 bytes each in a
 * context (a gap of 0, an extra of 0), so about 70 of them fill a part at
 * this cap, about 7 parts; the 500 live entries (about 14 bytes each) take
 * about 50 more. An estimate of 20 bytes a dead dot, as the first version
 * made, took 391 messages. */
static void test_sync_dead_parts_fill_the_cap(void **state) {
  (void)state;
  enum { CAP_SMALL = 256 };
  crdt_object *a = tu_new_object(CRDT_TYPE_ORSET, "a");
  tu_add_items(a, 0, 6000);
  crdt_object *b = tu_copy_as(a, "b");
  tu_add_items(a, 10000, 11000);
  tu_remove_items(a, 10000, 11000, 2);
  crdt_sync *s[2] = {tu_new_session(a), tu_new_session(b)};
  unsigned msgs[2] = {0, 0};
  uint8_t buf[CAP_SMALL];
  for (int turn = 0; turn < 1000; turn++) {
    size_t n;
    assert_int_equal(crdt_sync_produce(s[turn % 2], buf, sizeof buf, &n), 0);
    if (n) {
      msgs[turn % 2]++;
      assert_int_equal(crdt_sync_receive(s[1 - turn % 2], buf, n), 0);
    } else if (crdt_sync_in_sync(s[0]) && crdt_sync_in_sync(s[1])) {
      break;
    }
  }
  assert_true(crdt_sync_in_sync(s[0]) && crdt_sync_in_sync(s[1]));
  assert_true(crdt_object_equal(a, b));
  printf("# dead parts: %u messages a -> b, %u b -> a\n", msgs[0], msgs[1]);
  assert_true(msgs[0] <= 80);
  crdt_sync_free(s[0]);
  crdt_sync_free(s[1]);
  crdt_object_free(a);
  crdt_object_free(b);
}

/* The digest a's journal keeps, checked against a scan: valid (no scan
 * needed) and equal to it. */
static void assert_digest_kept(crdt_object *o) {
  const crdt__causal *c = &crdt__dotted_cof(o)->c;
  assert_non_null(o->journal);
  assert_true(o->journal->digest_valid);
  assert_true(o->journal->digest == crdt__causal_digest(c));
  assert_true(o->journal->live == crdt__store_dots(&c->store));
}

/* The journal holds no records (only positions, of unkept segments). */
static void assert_no_records(const crdt_object *o) {
  assert_int_equal(o->journal->bytes, 0);
  for (uint32_t i = 0; i < o->journal->nsegs; i++)
    assert_false(o->journal->segs[i].kept);
}

/* When the last session of an object ends, the journal's records go but
 * its digest stays up to date, so the next session, fresh or restored,
 * confirms equality without a scan (docs/sync.md, "The digest"); a
 * restored session resumes warm when nothing changed meanwhile, and goes
 * cold (and converges) when the object changed with no session to keep
 * the records. */
static void test_sync_digest_outlives_sessions(void **state) {
  (void)state;
  crdt_object *a = tu_new_object(CRDT_TYPE_ORSET, "a");
  tu_add_items(a, 0, 2000);
  crdt_object *b = tu_copy_as(a, "b");
  tu_remove_items(b, 0, 100, 3);
  crdt_sync *sa = tu_new_session(a), *sb = tu_new_session(b);
  assert_true(sync_pair(sa, sb, 4096, false, NULL) > 0);
  assert_true(crdt_object_equal(a, b));
  uint8_t ba[512], bb[512];
  size_t na, nb;
  assert_int_equal(crdt_sync_save(sa, ba, sizeof ba, &na), 0);
  assert_int_equal(crdt_sync_save(sb, bb, sizeof bb, &nb), 0);
  crdt_sync_free(sa);
  crdt_sync_free(sb);
  /* no session: the journal stays, without records, and gave back its
   * room (at most 64 position ranges stay, for restored sessions) */
  assert_true(a->journal->nsegs <= 64);
  assert_int_equal(a->journal->cap, a->journal->nsegs);
  assert_digest_kept(a);
  assert_no_records(a);
  /* restored, nothing changed: warm, contexts and digests only */
  assert_int_equal(crdt_sync_restore(a, ba, na, &sa), 0);
  assert_int_equal(crdt_sync_restore(b, bb, nb, &sb), 0);
  tu_pump p;
  assert_int_equal(sync_pair(sa, sb, 4096, false, &p), 1);
  assert_int_equal(p.msgs_ab + p.msgs_ba, 2);
  assert_true(crdt_object_equal(a, b));
  assert_true(p.ab + p.ba < 400);
  crdt_sync_stats st;
  assert_int_equal(crdt_sync_get_stats(sa, &st), 0);
  assert_int_equal(st.cold_rounds, 0);
  crdt_sync_free(sa);
  crdt_sync_free(sb);
  /* updates with no session keep the digest and record nothing */
  tu_add_items(a, 5000, 5010);
  tu_remove_items(a, 200, 300, 7);
  assert_digest_kept(a);
  assert_no_records(a);
  /* restored after changes nobody recorded: cold, and equal after */
  assert_int_equal(crdt_sync_restore(a, ba, na, &sa), 0);
  assert_int_equal(crdt_sync_restore(b, bb, nb, &sb), 0);
  assert_true(sync_pair(sa, sb, 4096, false, NULL) > 0);
  assert_true(crdt_object_equal(a, b));
  assert_int_equal(crdt_sync_get_stats(sa, &st), 0);
  assert_int_equal(st.cold_rounds, 1);
  crdt_sync_free(sa);
  crdt_sync_free(sb);
  assert_digest_kept(a);
  assert_digest_kept(b);
  /* fresh sessions on equal objects: one message each way, no scan */
  sa = tu_new_session(a);
  sb = tu_new_session(b);
  assert_digest_kept(a);
  assert_int_equal(sync_pair(sa, sb, 4096, false, &p), 1);
  assert_int_equal(p.msgs_ab + p.msgs_ba, 2);
  crdt_sync_free(sa);
  crdt_sync_free(sb);
  /* a whole-state merge with no session forgets the digest; the next
   * session computes it by scan, right */
  crdt_object *c = tu_copy_as(a, "c");
  tu_add_items(c, 9000, 9005);
  assert_int_equal(crdt_object_merge(a, c), 0);
  assert_false(a->journal->digest_valid);
  sa = tu_new_session(a);
  sb = tu_new_session(b);
  assert_true(sync_pair(sa, sb, 4096, false, NULL) > 0);
  assert_true(crdt_object_equal(a, b));
  assert_digest_kept(a);
  crdt_sync_free(sa);
  crdt_sync_free(sb);
  crdt_object_free(a);
  crdt_object_free(b);
  crdt_object_free(c);
}

/* docs/verification.md's known issue, through sessions. A adds x (a1) and
 * again (a2 replaces a1); B has both and removes x; C got a1's and the
 * remove's deltas by hand (out of causal order) and so shows x with B's
 * context: equal contexts, unequal states. Through sessions the issue
 * cannot arise: C syncing with B repairs it (equal contexts, different
 * digests: the sketch finds a1), and replicas that only ever sync through
 * sessions, in any order, never show it. */
static void test_sync_orset_known_issue_cannot_arise_through_sessions(void **state) {
  (void)state;
  crdt_object *a = tu_new_object(CRDT_TYPE_ORSET, "A"), *b = tu_new_object(CRDT_TYPE_ORSET, "B"),
              *c = tu_new_object(CRDT_TYPE_ORSET, "C");
  crdt_object *d1 = tu_new_object(CRDT_TYPE_ORSET, NULL), *dr = tu_new_object(CRDT_TYPE_ORSET, NULL);
  assert_int_equal(crdt_orset_add(crdt_object_orset(a), S("x"), crdt_object_orset(d1)), 0);
  assert_int_equal(crdt_orset_add(crdt_object_orset(a), S("x"), NULL), 0);
  assert_int_equal(crdt_object_merge(b, a), 0);
  assert_int_equal(crdt_orset_remove(crdt_object_orset(b), S("x"), crdt_object_orset(dr)), 0);
  assert_int_equal(crdt_object_merge(c, d1), 0);
  assert_int_equal(crdt_object_merge(c, dr), 0);
  crdt_order o;
  assert_int_equal(crdt_object_compare(c, b, &o), 0);
  assert_int_equal(o, CRDT_EQUAL);             /* the issue, by raw deltas */
  assert_false(crdt_object_equal(c, b));
  crdt_sync *sc = tu_new_session(c), *sb = tu_new_session(b);
  assert_true(sync_pair(sc, sb, 1 << 16, false, NULL) > 0);
  assert_true(crdt_object_equal(c, b));        /* repaired */
  assert_false(crdt_orset_contains(crdt_object_orset(c), S("x")));
  crdt_sync_free(sc);
  crdt_sync_free(sb);

  /* the same updates, every transfer through sessions, C first meeting A
   * halfway through (it sees a1 but not a2), then B */
  crdt_object *a2 = tu_new_object(CRDT_TYPE_ORSET, "A"), *b2 = tu_new_object(CRDT_TYPE_ORSET, "B"),
              *c2 = tu_new_object(CRDT_TYPE_ORSET, "C");
  crdt_sync *ac = tu_new_session(a2), *ca = tu_new_session(c2), *ab = tu_new_session(a2),
            *ba = tu_new_session(b2), *bc = tu_new_session(b2), *cb = tu_new_session(c2);
  assert_int_equal(crdt_orset_add(crdt_object_orset(a2), S("x"), NULL), 0);
  assert_true(sync_pair(ac, ca, 1 << 16, false, NULL) > 0);
  assert_int_equal(crdt_orset_add(crdt_object_orset(a2), S("x"), NULL), 0);
  assert_true(sync_pair(ab, ba, 1 << 16, false, NULL) > 0);
  assert_int_equal(crdt_orset_remove(crdt_object_orset(b2), S("x"), NULL), 0);
  assert_true(sync_pair(bc, cb, 1 << 16, true, NULL) > 0);
  crdt_object *all[] = {a2, b2, c2};
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      assert_int_equal(crdt_object_compare(all[i], all[j], &o), 0);
      assert_int_equal(o == CRDT_EQUAL, crdt_object_equal(all[i], all[j]));
    }
  assert_true(crdt_object_equal(b2, c2));
  assert_false(crdt_orset_contains(crdt_object_orset(c2), S("x")));
  crdt_sync *s6[] = {ac, ca, ab, ba, bc, cb};
  for (int i = 0; i < 6; i++) crdt_sync_free(s6[i]);
  crdt_object *objs[] = {a, b, c, d1, dr, a2, b2, c2};
  for (int i = 0; i < 8; i++) crdt_object_free(objs[i]);
}

/* A session saved and restored on the same objects stays warm: the next
 * sync is a push of the change, not a cold round. */
static void test_sync_saved_session_stays_warm(void **state) {
  (void)state;
  crdt_object *a = tu_new_object(CRDT_TYPE_CART, "a"), *b = tu_new_object(CRDT_TYPE_CART, "b");
  for (int i = 0; i < 300; i++) {
    char k[16];
    snprintf(k, sizeof k, "item-%d", i);
    assert_int_equal(crdt_cart_add(crdt_object_cart(a), S(k), 1 + i % 3, NULL), 0);
  }
  crdt_sync *sa = tu_new_session(a), *sb = tu_new_session(b);
  assert_true(sync_pair(sa, sb, 4096, false, NULL) > 0);
  /* save both, free both, restore: a reconnect within the process */
  uint8_t ba[512], bb[512];
  size_t na, nb;
  assert_int_equal(crdt_sync_save(sa, ba, sizeof ba, &na), 0);
  assert_int_equal(crdt_sync_save(sb, bb, sizeof bb, &nb), 0);
  crdt_sync *keep_a = tu_new_session(a), *keep_b = tu_new_session(b); /* a mesh */
  crdt_sync_free(sa);
  crdt_sync_free(sb);
  assert_int_equal(crdt_sync_restore(a, ba, na, &sa), 0);
  assert_int_equal(crdt_sync_restore(b, bb, nb, &sb), 0);
  assert_int_equal(crdt_cart_add(crdt_object_cart(a), S("item-7"), 5, NULL), 0);
  assert_int_equal(crdt_cart_remove(crdt_object_cart(b), S("item-9"), NULL), 0);
  tu_pump p;
  assert_int_equal(sync_pair(sa, sb, 4096, false, &p), 1);
  assert_true(crdt_object_equal(a, b));
  crdt_sync_stats st;
  assert_int_equal(crdt_sync_get_stats(sa, &st), 0);
  assert_int_equal(st.cold_rounds, 0);
  printf("# restored warm: %llu + %llu bytes\n", (unsigned long long)p.ab,
         (unsigned long long)p.ba);
  assert_true(p.ab + p.ba < 400);
  /* restored on an older copy of the state: that history is dropped, and
   * the cold path still converges */
  crdt_object *old = tu_copy_as(b, "b");
  assert_int_equal(crdt_cart_add(crdt_object_cart(b), S("late"), 1, NULL), 0);
  assert_true(sync_pair(sa, sb, 4096, false, NULL) > 0);
  assert_int_equal(crdt_sync_save(sb, bb, sizeof bb, &nb), 0);
  crdt_sync *so;
  assert_int_equal(crdt_sync_restore(old, bb, nb, &so), 0);
  crdt_sync *sa2 = tu_new_session(a);
  assert_true(sync_pair(sa2, so, 4096, false, NULL) > 0);
  assert_true(crdt_object_equal(a, old));
  crdt_sync *s6[] = {sa, sb, keep_a, keep_b, so, sa2};
  for (int i = 0; i < 6; i++) crdt_sync_free(s6[i]);
  crdt_object_free(a);
  crdt_object_free(b);
  crdt_object_free(old);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sync_orset_cold_then_warm),
      cmocka_unit_test(test_sync_every_type_converges),
      cmocka_unit_test(test_sync_identical_replicas_send_contexts_only),
      cmocka_unit_test(test_sync_dead_parts_fill_the_cap),
      cmocka_unit_test(test_sync_digest_outlives_sessions),
      cmocka_unit_test(test_sync_orset_known_issue_cannot_arise_through_sessions),
      cmocka_unit_test(test_sync_saved_session_stays_warm),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
