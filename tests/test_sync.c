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
#include "syncpump.h"
#include "testutil.h"

#define S(x) (x), strlen(x)

static void pump_fail(const char *what, int rc) {
  fail_msg("%s: %s", what, crdt_err_name(rc));
}

static crdt_object *obj(crdt_type t, const char *id) {
  crdt_object *o;
  assert_int_equal(crdt_object_new(t, id, &o), 0);
  return o;
}

static crdt_sync *session(crdt_object *o) {
  crdt_sync *s;
  assert_int_equal(crdt_sync_new(o, &s), 0);
  return s;
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

static void add_items(crdt_object *o, unsigned from, unsigned to) {
  char key[32];
  for (unsigned i = from; i < to; i++) {
    snprintf(key, sizeof key, "item-%u", i);
    assert_int_equal(crdt_orset_add(crdt_object_orset(o), S(key), NULL), 0);
  }
}

static void remove_items(crdt_object *o, unsigned from, unsigned to,
                         unsigned step) {
  char key[32];
  for (unsigned i = from; i < to; i += step) {
    snprintf(key, sizeof key, "item-%u", i);
    assert_int_equal(crdt_orset_remove(crdt_object_orset(o), S(key), NULL), 0);
  }
}

static void test_sync_orset_cold_then_warm(void **state) {
  (void)state;
  crdt_object *a = obj(CRDT_TYPE_ORSET, "a"), *b = obj(CRDT_TYPE_ORSET, "b");
  add_items(a, 0, 300);
  add_items(b, 200, 400);
  remove_items(a, 0, 50, 7);
  crdt_sync *sa = session(a), *sb = session(b);
  tu_pump p;
  int t = sync_pair(sa, sb, 1 << 20, false, &p);
  assert_true(t > 0);
  assert_true(crdt_object_equal(a, b));
  printf("# cold: %d ticks, %llu + %llu bytes\n", t, (unsigned long long)p.ab,
         (unsigned long long)p.ba);
  /* both change, concurrently; the sessions are warm now */
  add_items(a, 1000, 1010);
  remove_items(a, 100, 200, 10);
  add_items(b, 2000, 2005);
  remove_items(b, 300, 310, 1);
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
  }
  int rc = crdt_object_update(o, &u, NULL);
  assert_true(rc == 0 || rc == CRDT_ENOENT);
}

static const crdt_type all_types[] = {CRDT_TYPE_GCOUNTER, CRDT_TYPE_PNCOUNTER,
                                      CRDT_TYPE_ORSET,    CRDT_TYPE_MVREG,
                                      CRDT_TYPE_CART,     CRDT_TYPE_LWWREG};

/* Every type: random concurrent histories, synced again and again through
 * the same sessions (cold first, warm after), with caps from tiny to large,
 * one side starting or both: always equal states and equal contexts. */
static void test_sync_every_type_converges(void **state) {
  (void)state;
  tu_rng rng = {12345};
  for (size_t t = 0; t < sizeof all_types / sizeof *all_types; t++) {
    for (int trial = 0; trial < 6; trial++) {
      crdt_object *a = obj(all_types[t], "alpha"), *b = obj(all_types[t], "b");
      uint64_t clock = 0;
      crdt_sync *sa = session(a), *sb = session(b);
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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sync_orset_cold_then_warm),
      cmocka_unit_test(test_sync_every_type_converges),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
