/*
 * Sync sessions against the reference models (tests/support/syncworld.h):
 * random histories over 3 to 5 replicas of every type (the map against
 * its own model, tests/support/map_model.h), each pair of
 * replicas joined by a pair of sessions, with concurrent updates and
 * messages lost, duplicated and delivered out of order, sessions restarted,
 * saved and restored, or forgotten, replicas reloaded from their encoding
 * (their sessions saved first, or lost), and full-state merges meanwhile.
 * After every received message the receiver is checked against the model
 * (never behind, closed context, and when in step, value, context and
 * compare()); at the end every pair syncs until quiet and all equal the
 * model of all events.
 *
 * CRDT_SYNC_MODEL_HISTORIES=N runs N histories per type (60 by default; a
 * soak: 600); CRDT_SYNC_MODEL_FROM=H starts at history H (to rerun one).
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
#include "syncworld.h"
#include "testutil.h"

static unsigned long current; /* the history running, for a failure */

static void fail_hook(const char *what) {
  fail_msg("history %lu (CRDT_SYNC_MODEL_FROM=%lu): %s", current, current, what);
}

static void run(crdt_type type, unsigned nrep, unsigned long long seed,
                unsigned steps, unsigned long *checks) {
  sworld *w = sworld_new(type, nrep, fail_hook);
  assert_non_null(w);
  tu_rng g = {seed};
  for (unsigned step = 0; step < steps; step++) {
    unsigned i = tu_below(&g, nrep), j = (i + 1 + tu_below(&g, nrep - 1)) % nrep;
    unsigned what = tu_below(&g, 100), arg = tu_below(&g, 1u << 16);
    sworld_op op = what < 30   ? SW_UPDATE
                   : what < 55 ? SW_PRODUCE
                   : what < 85 ? SW_DELIVER
                   : what < 90 ? SW_DROP
                   : what < 93 ? SW_RESTART
                   : what < 96 ? SW_BOUNCE
                   : what < 98 ? SW_RELOAD
                               : SW_MERGE;
    if (op == SW_BOUNCE) arg = tu_below(&g, 3) != 0; /* mostly restored */
    sworld_step(w, op, i, j, arg);
  }
  sworld_converge(w);
  *checks += sworld_checks(w);
  sworld_free(w);
}

static void run_type(crdt_type type) {
  unsigned long checks = 0;
  const char *env = getenv("CRDT_SYNC_MODEL_HISTORIES");
  const char *from = getenv("CRDT_SYNC_MODEL_FROM");
  unsigned n = env ? (unsigned)atoi(env) : 60;
  for (unsigned h = from ? (unsigned)atoi(from) : 0; h < n; h++) {
    current = h;
    run(type, 3 + h % 3, 0x5eed0000ull + h * 7919 + type, 500, &checks);
  }
  printf("# %s: %lu states checked\n", crdt_type_name(type), checks);
}

static void test_sync_model_gcounter(void **state) { (void)state; run_type(CRDT_TYPE_GCOUNTER); }
static void test_sync_model_pncounter(void **state) { (void)state; run_type(CRDT_TYPE_PNCOUNTER); }
static void test_sync_model_orset(void **state) { (void)state; run_type(CRDT_TYPE_ORSET); }
static void test_sync_model_mvreg(void **state) { (void)state; run_type(CRDT_TYPE_MVREG); }
static void test_sync_model_cart(void **state) { (void)state; run_type(CRDT_TYPE_CART); }
static void test_sync_model_lwwreg(void **state) { (void)state; run_type(CRDT_TYPE_LWWREG); }
static void test_sync_model_flag(void **state) { (void)state; run_type(CRDT_TYPE_FLAG); }
static void test_sync_model_map(void **state) { (void)state; run_type(CRDT_TYPE_MAP); }

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sync_model_gcounter),
      cmocka_unit_test(test_sync_model_pncounter),
      cmocka_unit_test(test_sync_model_orset),
      cmocka_unit_test(test_sync_model_mvreg),
      cmocka_unit_test(test_sync_model_cart),
      cmocka_unit_test(test_sync_model_lwwreg),
      cmocka_unit_test(test_sync_model_flag),
      cmocka_unit_test(test_sync_model_map),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
