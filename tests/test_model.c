/*
 * Every type against its reference model (tests/support/model.h): random
 * histories over 3 to 5 replicas that update, sync full states as bytes,
 * deliver deltas out of order and duplicated, deliver delta groups, pass
 * MV-register read tokens between replicas and reload replicas from their
 * own encoding. After every step the touched replica's value and context
 * print what the model says, and compare() against every other replica is
 * inclusion of the sets of events seen. At the end: the laws, the join of
 * all replicas and the group of all deltas.
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
#include "model.h"
#include "testutil.h"

static void fail_hook(const char *what) { fail_msg("%s", what); }

/* Replica ids out of byte order, so sorting matters. */
static const char *const IDS[MODEL_MAX_REPLICAS] = {"r2", "r10", "A",
                                                    "zz-top", "r1"};

/* Keys: empty, plain, a prefix of another, needing JSON escapes, UTF-8,
 * and bytes that are not UTF-8. */
static const struct {
  const char *bytes;
  size_t len;
} KEYS[] = {{"", 0},        {"milk", 4},         {"mi", 2},
            {"\"q\\\n", 4}, {"\xc3\xa9t\xc3\xa9", 6}, {"\0\xff", 2}};
#define NKEYS (sizeof KEYS / sizeof *KEYS)

/* Amounts: mostly small, sometimes near the edges of the ranges. */
static uint64_t amount(tu_rng *g, crdt_type type) {
  unsigned pick = tu_below(g, 30);
  if (pick == 0) return UINT64_MAX / 3;
  if (pick == 1) return (uint64_t)INT64_MAX / 2;
  if (pick == 2 && type == CRDT_TYPE_CART) return UINT64_MAX;
  return 1 + tu_below(g, 5);
}

/* One random update at replica r. */
static void random_update(sim *s, tu_rng *g, unsigned r) {
  crdt_type type = s->m.type;
  unsigned k = tu_below(g, (unsigned)NKEYS);
  const char *key = KEYS[k].bytes;
  size_t len = KEYS[k].len;
  unsigned pick = tu_below(g, 10);
  switch (type) {
  case CRDT_TYPE_GCOUNTER:
    sim_update(s, r, SIM_INC, NULL, 0, amount(g, type), 0);
    break;
  case CRDT_TYPE_PNCOUNTER:
    sim_update(s, r, pick < 5 ? SIM_INC : SIM_DEC, NULL, 0, amount(g, type), 0);
    break;
  case CRDT_TYPE_ORSET:
    sim_update(s, r, pick < 6 ? SIM_ADD : SIM_REMOVE, key, len, 0, 0);
    break;
  case CRDT_TYPE_FLAG: /* enable, disable */
    sim_update(s, r, pick < 6 ? SIM_ADD : SIM_REMOVE, NULL, 0, 0, 0);
    break;
  case CRDT_TYPE_CART: {
    sim_kind kind = pick < 5 ? SIM_ADD : pick < 8 ? SIM_DEC : SIM_REMOVE;
    uint64_t n = amount(g, type);
    if (kind == SIM_ADD && n == UINT64_MAX) n = (uint64_t)INT64_MAX + 1;
    sim_update(s, r, kind, key, len, n, 0);
    break;
  }
  case CRDT_TYPE_MVREG:
    if (pick == 0) {
      sim_update(s, r, SIM_RESOLVE, NULL, 0, tu_rand(g), 0);
    } else {
      int token = pick < 4   ? SIM_OWN
                  : pick < 6 ? SIM_BLIND
                  : pick < 8 ? SIM_FROM(tu_below(g, s->m.nreplicas))
                             : (int)tu_below(g, SIM_TOKENS);
      sim_update(s, r, SIM_WRITE, key, len, 0, token);
    }
    break;
  case CRDT_TYPE_LWWREG:
    /* timestamps that mostly grow, with ties between writers and values
     * and stale writes; rarely the largest timestamp */
    sim_update(s, r, SIM_WRITE, key, len,
               tu_below(g, 200) == 0 ? UINT64_MAX
                                     : s->m.nevents / 2 + tu_below(g, 4),
               0);
    break;
  case CRDT_TYPE_MAP: /* tests/test_map_model.c */
    break;
  }
}

/* Histories per type: about 2 s per type under ASan. */
#define HISTORIES 150

/* One random history of `steps` steps; returns the number of events. */
/* deltas: deliver deltas and groups; without, replicas sync full states
 * only (every seen set is then causally closed) and the laws are checked
 * with tu_check_laws as well. */
static unsigned run_history(crdt_type type, unsigned nrep,
                            unsigned long long seed, unsigned steps,
                            bool deltas, unsigned long *checks) {
  /* sim_new skips model_determined for the OR-set and the flag: the known
   * issue (test_model_orset_known_issue_...) */
  sim *s = sim_new(type, nrep, IDS, fail_hook);
  assert_non_null(s);
  tu_rng g = {seed};
  for (unsigned step = 0; step < steps && !model_full(&s->m); step++) {
    unsigned r = tu_below(&g, nrep);
    unsigned what = tu_below(&g, 100);
    unsigned nev = s->m.nevents;
    if (what < 45) {
      random_update(s, &g, r);
    } else if (what < 60 || (!deltas && what < 90)) {
      sim_sync(s, tu_below(&g, nrep), r, what % 3 != 0);
    } else if (what < 78 && nev) {
      /* an old delta, possibly already delivered: out of order, duplicated */
      sim_deliver(s, tu_below(&g, nev), r);
    } else if (what < 90 && nev) {
      unsigned ev[8];
      size_t n = 1 + tu_below(&g, 8);
      for (size_t i = 0; i < n; i++) ev[i] = tu_below(&g, nev);
      sim_deliver_group(s, ev, n, r, tu_below(&g, 2));
    } else if (what < 95) {
      sim_take_token(s, r, tu_below(&g, SIM_TOKENS),
                     tu_below(&g, 3) ? -1 : (int)tu_below(&g, SIM_TOKENS));
    } else {
      sim_restart(s, r);
    }
  }
  /* bring some replicas up to date so finals see equal states too */
  sim_sync(s, 0, 1, true);
  sim_sync(s, 1, 0, false);
  sim_check_final(s);
  if (!deltas) {
    crdt_object *states[MODEL_MAX_REPLICAS];
    for (unsigned r = 0; r < nrep; r++) states[r] = s->rep[r];
    tu_check_laws(states, nrep);
  }
  unsigned events = s->m.nevents;
  *checks += s->checks;
  sim_free(s);
  return events;
}

/* Churn with long keys: enough bytes of keys are added and dropped that
 * the library's key storage compacts itself (several KiB of dead keys). */
static void run_churn(crdt_type type, unsigned long long seed) {
  static const char *const ids[] = {"A", "B", "C"};
  sim *s = sim_new(type, 3, ids, fail_hook);
  assert_non_null(s);
  tu_rng g = {seed};
  char key[MODEL_KEY_MAX];
  while (!model_full(&s->m)) {
    unsigned r = tu_below(&g, 3), what = tu_below(&g, 10);
    unsigned k = tu_below(&g, 12);
    size_t len = 100 + 13 * k;
    memset(key, 'a' + (int)k, len);
    key[len - 1] = (char)('0' + (int)k);
    if (what < 4) {
      sim_update(s, r,
                 type == CRDT_TYPE_MVREG ? SIM_WRITE : SIM_ADD, key, len, 1,
                 tu_below(&g, 2) ? SIM_OWN : SIM_BLIND);
    } else if (what < 7) {
      if (type == CRDT_TYPE_MVREG)
        sim_update(s, r, SIM_WRITE, key, len, 0, SIM_FROM((r + 1) % 3));
      else
        sim_update(s, r, SIM_REMOVE, key, len, 0, 0);
    } else if (what < 9) {
      sim_sync(s, tu_below(&g, 3), r, what == 7);
    } else if (s->m.nevents) {
      sim_deliver(s, tu_below(&g, s->m.nevents), r);
    }
  }
  sim_check_final(s);
  sim_free(s);
}

static void test_model_long_keys_churn(void **state) {
  (void)state;
  for (unsigned long long seed = 1; seed <= 3; seed++) {
    run_churn(CRDT_TYPE_ORSET, seed);
    run_churn(CRDT_TYPE_CART, seed);
    run_churn(CRDT_TYPE_MVREG, seed);
  }
}

static void run_type(crdt_type type, unsigned histories, unsigned steps) {
  unsigned long checks = 0, events = 0;
  for (unsigned h = 0; h < histories; h++) {
    unsigned nrep = 3 + h % 3;
    events += run_history(type, nrep, 0x9E3779B97F4A7C15ull * (h + 1) + type,
                          steps, h % 4 != 0, &checks);
  }
  print_message("%s: %u histories, %lu events, %lu states checked\n",
                crdt_type_name(type), histories, events, checks);
  assert_true(events > 0);
}

static void test_model_gcounter_random_histories(void **state) {
  (void)state;
  run_type(CRDT_TYPE_GCOUNTER, HISTORIES, 150);
}

static void test_model_pncounter_random_histories(void **state) {
  (void)state;
  run_type(CRDT_TYPE_PNCOUNTER, HISTORIES, 150);
}

static void test_model_orset_random_histories(void **state) {
  (void)state;
  run_type(CRDT_TYPE_ORSET, HISTORIES, 150);
}

static void test_model_mvreg_random_histories(void **state) {
  (void)state;
  run_type(CRDT_TYPE_MVREG, HISTORIES, 150);
}

static void test_model_cart_random_histories(void **state) {
  (void)state;
  run_type(CRDT_TYPE_CART, HISTORIES, 150);
}

static void test_model_lwwreg_random_histories(void **state) {
  (void)state;
  run_type(CRDT_TYPE_LWWREG, HISTORIES, 150);
}

static void test_model_flag_random_histories(void **state) {
  (void)state;
  run_type(CRDT_TYPE_FLAG, HISTORIES, 150);
}

/* ---- the model itself ---------------------------------------------------------- */

/* The OR-set rules, and the scenario behind the known issue pinned in
 * test_model_orset_known_issue_equal_context_unequal_state: A adds x twice
 * (a2 replaces a1), B sees both and removes x (killing a2 only: a1 is
 * already dead there); C receives the deltas of a1 and of the remove. C's
 * context names a1, a2 and the remove, like B's, but C never saw a2
 * replace a1: x is still in at C. */
static void test_model_orset_rules(void **state) {
  (void)state;
  static const char *const ids[] = {"A", "B", "C"};
  model *m = malloc(sizeof *m);
  assert_non_null(m);
  model_init(m, CRDT_TYPE_ORSET, 3, ids);
  unsigned a1, a2, rm;
  assert_int_equal(model_orset_add(m, 0, "x", 1, &a1), 0);
  assert_int_equal(model_orset_add(m, 0, "x", 1, &a2), 0);
  assert_true(model_set_has(&m->ev[a2].kill, a1)); /* the re-add replaces */
  assert_int_equal(model_orset_remove(m, 1, "x", 1, NULL), CRDT_ENOENT);
  model_receive(m, 1, model_seen(m, 0));
  assert_int_equal(model_orset_remove(m, 1, "x", 1, &rm), 0);
  assert_true(model_set_has(&m->ev[rm].kill, a2));
  assert_false(model_set_has(&m->ev[rm].kill, a1));
  model_receive(m, 2, model_delta(m, a1));
  model_receive(m, 2, model_delta(m, rm));
  char *v = model_value_json(m, model_seen(m, 2));
  assert_string_equal(v, "[\"x\"]");
  free(v);
  v = model_value_json(m, model_seen(m, 1));
  assert_string_equal(v, "[]");
  free(v);
  char *c = model_context_text(m, model_seen(m, 2));
  assert_string_equal(c, "{A:2, B:1}");
  free(c);
  assert_int_equal(model_order(m, model_seen(m, 2), model_seen(m, 1)),
                   CRDT_EQUAL);
  assert_false(model_closed(m, model_seen(m, 2)));
  assert_false(model_determined(m, model_seen(m, 2)));
  assert_true(model_determined(m, model_seen(m, 1)));
  /* a concurrent add at C survives the remove (add wins) */
  assert_int_equal(model_orset_add(m, 2, "x", 1, NULL), 0);
  model_receive(m, 1, model_seen(m, 2));
  v = model_value_json(m, model_seen(m, 1));
  assert_string_equal(v, "[\"x\"]");
  free(v);
  assert_int_equal(model_order(m, model_seen(m, 0), model_seen(m, 1)),
                   CRDT_BEFORE);
  free(m);
}

/* KNOWN ISSUE (found by the model tests, see docs/verification.md): with
 * deltas delivered out of causal order, an OR-set replica can hold a
 * context equal to another's and a different state. compare() then says
 * EQUAL, equal() says false, and anti-entropy that compares contexts never
 * repairs the replica. This test pins the current behaviour; when the
 * issue is fixed, flip the two marked assertions. */
static void test_model_orset_known_issue_equal_context_unequal_state(
    void **state) {
  (void)state;
  crdt_orset *a, *b, *c, *d1, *d2, *drm;
  assert_int_equal(crdt_orset_new("A", &a), 0);
  assert_int_equal(crdt_orset_new("B", &b), 0);
  assert_int_equal(crdt_orset_new("C", &c), 0);
  assert_int_equal(crdt_orset_new(NULL, &d1), 0);
  assert_int_equal(crdt_orset_new(NULL, &d2), 0);
  assert_int_equal(crdt_orset_new(NULL, &drm), 0);
  assert_int_equal(crdt_orset_add(a, "x", 1, d1), 0); /* A1 */
  assert_int_equal(crdt_orset_add(a, "x", 1, d2), 0); /* A2 replaces A1 */
  assert_int_equal(crdt_orset_merge(b, a), 0);
  assert_int_equal(crdt_orset_remove(b, "x", 1, drm), 0); /* B1 drops A2 */
  assert_int_equal(crdt_orset_merge(c, d1), 0);  /* A1's delta */
  assert_int_equal(crdt_orset_merge(c, drm), 0); /* B1's, before A2's */
  crdt_order o;
  assert_int_equal(crdt_orset_compare(c, b, &o), 0);
  assert_int_equal(o, CRDT_EQUAL);               /* same context ... */
  assert_true(crdt_orset_contains(c, "x", 1));   /* KNOWN ISSUE: flip */
  assert_false(crdt_orset_contains(b, "x", 1));
  assert_false(crdt_orset_equal(c, b));          /* KNOWN ISSUE: flip */
  /* A2's delta repairs C */
  assert_int_equal(crdt_orset_merge(c, d2), 0);
  assert_false(crdt_orset_contains(c, "x", 1));
  assert_true(crdt_orset_equal(c, b));
  crdt_orset_free(a);
  crdt_orset_free(b);
  crdt_orset_free(c);
  crdt_orset_free(d1);
  crdt_orset_free(d2);
  crdt_orset_free(drm);
}

/* The flag's rules in the model itself: a re-enable replaces its replica's
 * enable, a disable kills only the enables it saw, so an enable concurrent
 * with it wins; disabling what is not enabled is CRDT_ENOENT, no event. */
static void test_model_flag_rules(void **state) {
  (void)state;
  static const char *const ids[] = {"A", "B", "C"};
  model *m = malloc(sizeof *m);
  assert_non_null(m);
  model_init(m, CRDT_TYPE_FLAG, 3, ids);
  unsigned a1, a2, off;
  assert_int_equal(model_flag_disable(m, 0, NULL), CRDT_ENOENT);
  assert_int_equal(m->nevents, 0);
  assert_int_equal(model_flag_enable(m, 0, &a1), 0);
  model_receive(m, 1, model_seen(m, 0));
  assert_int_equal(model_flag_disable(m, 1, &off), 0);
  assert_true(model_set_has(&m->ev[off].kill, a1));
  assert_false(model_flag_enabled(m, model_seen(m, 1)));
  assert_int_equal(model_flag_enable(m, 0, &a2), 0); /* concurrent */
  assert_true(model_set_has(&m->ev[a2].kill, a1));
  model_receive(m, 0, model_seen(m, 1));
  model_receive(m, 1, model_seen(m, 0));
  char *v = model_value_json(m, model_seen(m, 1));
  assert_string_equal(v, "true"); /* enable wins */
  free(v);
  char *c = model_context_text(m, model_seen(m, 1));
  assert_string_equal(c, "{A:2, B:1}");
  free(c);
  /* C saw only A's first enable and B's disable: disabled */
  model_set first;
  model_set_clear(&first);
  model_set_add(&first, a1);
  model_set_add(&first, off);
  v = model_value_json(m, &first);
  assert_string_equal(v, "false");
  free(v);
  assert_int_equal(model_flag_disable(m, 2, NULL), CRDT_ENOENT);
  free(m);
}

/* The DDIA scenario through the model: [eggs, bacon] and [milk]. */
static void test_model_mvreg_ddia(void **state) {
  (void)state;
  static const char *const ids[] = {"S"};
  model *m = malloc(sizeof *m);
  assert_non_null(m);
  model_init(m, CRDT_TYPE_MVREG, 1, ids);
  model_set none, client1;
  model_set_clear(&none);
  assert_int_equal(model_mvreg_write(m, 0, "eggs", 4, &none, NULL), 0);
  client1 = *model_seen(m, 0);
  assert_int_equal(model_mvreg_write(m, 0, "milk", 4, &none, NULL), 0);
  assert_int_equal(model_mvreg_write(m, 0, "eggs, bacon", 11, &client1, NULL),
                   0);
  char *v = model_value_json(m, model_seen(m, 0));
  assert_string_equal(v, "[\"eggs, bacon\", \"milk\"]");
  free(v);
  assert_int_equal(model_mvreg_count(m, model_seen(m, 0)), 2);
  free(m);
}

/* Cart: the remove resets what it saw; a concurrent add keeps its amount;
 * dec takes at most what is seen; quantities are exact and clamped. */
static void test_model_cart_rules(void **state) {
  (void)state;
  static const char *const ids[] = {"A", "B"};
  model *m = malloc(sizeof *m);
  assert_non_null(m);
  model_init(m, CRDT_TYPE_CART, 2, ids);
  uint64_t taken;
  assert_int_equal(model_cart_add(m, 0, "apple", 5, 3, NULL), 0);
  model_receive(m, 1, model_seen(m, 0));
  assert_int_equal(model_cart_remove(m, 1, "apple", 5, NULL), 0);
  assert_int_equal(model_cart_add(m, 0, "apple", 5, 2, NULL), 0);
  model_receive(m, 0, model_seen(m, 1));
  assert_int_equal(model_cart_quantity(m, model_seen(m, 0), "apple", 5), 2);
  assert_int_equal(model_cart_dec(m, 0, "apple", 5, 9, &taken, NULL), 0);
  assert_int_equal(taken, 2);
  assert_int_equal(model_cart_dec(m, 0, "apple", 5, 1, NULL, NULL),
                   CRDT_ENOENT);
  assert_int_equal(model_cart_remove(m, 0, "pear", 4, NULL), CRDT_ENOENT);
  assert_int_equal(model_cart_add(m, 0, "x", 1, INT64_MAX, NULL), 0);
  assert_int_equal(model_cart_add(m, 0, "x", 1, 1, NULL), CRDT_ERANGE);
  assert_int_equal(model_cart_add(m, 0, "y", 1, (uint64_t)INT64_MAX + 1, NULL),
                   CRDT_ERANGE);
  char *v = model_value_json(m, model_seen(m, 0));
  assert_string_equal(v, "{\"x\": 9223372036854775807}");
  free(v);
  free(m);
}

/* Counters print exact sums beyond 64 bits; LWW orders by (ts, id, value). */
static void test_model_counters_and_lww(void **state) {
  (void)state;
  static const char *const ids[] = {"A", "B"};
  model *m = malloc(sizeof *m);
  assert_non_null(m);
  model_init(m, CRDT_TYPE_GCOUNTER, 2, ids);
  assert_int_equal(model_counter_inc(m, 0, UINT64_MAX, NULL), 0);
  assert_int_equal(model_counter_inc(m, 0, 1, NULL), CRDT_ERANGE);
  assert_int_equal(model_counter_inc(m, 1, 2, NULL), 0);
  model_receive(m, 0, model_seen(m, 1));
  char *v = model_value_json(m, model_seen(m, 0));
  assert_string_equal(v, "18446744073709551617");
  free(v);
  char *c = model_context_text(m, model_seen(m, 0));
  assert_string_equal(c, "{A:1, B:1}");
  free(c);

  model_init(m, CRDT_TYPE_LWWREG, 2, ids);
  assert_int_equal(model_lwwreg_write(m, 0, "v", 1, 5, NULL), 0);
  assert_int_equal(model_lwwreg_write(m, 0, "v", 1, 5, NULL), CRDT_ESTALE);
  assert_int_equal(model_lwwreg_write(m, 0, "u", 1, 5, NULL), CRDT_ESTALE);
  assert_int_equal(model_lwwreg_write(m, 1, "a", 1, 5, NULL), 0);
  model_receive(m, 0, model_seen(m, 1));
  v = model_value_json(m, model_seen(m, 0));
  assert_string_equal(v, "\"a\""); /* B > A at equal timestamps */
  free(v);
  assert_null(model_context_text(m, model_seen(m, 0)));
  free(m);
}

/* Every type the runner drives is named, and names map back to tags (the
 * fuzzers and the CLI pick types by tag and by name). */
static void test_model_type_names(void **state) {
  (void)state;
  for (int t = CRDT_TYPE_GCOUNTER; t <= CRDT_TYPE_FLAG; t++) {
    const char *name = crdt_type_name((crdt_type)t);
    assert_non_null(name);
    crdt_type back;
    assert_int_equal(crdt_type_from_name(name, &back), 0);
    assert_int_equal(back, t);
  }
  crdt_type back = CRDT_TYPE_CART;
  assert_null(crdt_type_name((crdt_type)0));
  assert_null(crdt_type_name((crdt_type)0x10));
  assert_int_equal(crdt_type_from_name("context", &back), CRDT_EBADTYPE);
  assert_int_equal(crdt_type_from_name("", &back), CRDT_EBADTYPE);
  assert_int_equal(back, CRDT_TYPE_CART);
  assert_int_equal(crdt_type_from_name(NULL, &back), CRDT_EINVAL);
  assert_int_equal(crdt_type_from_name("orset", NULL), CRDT_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_model_type_names),
      cmocka_unit_test(test_model_orset_rules),
      cmocka_unit_test(test_model_orset_known_issue_equal_context_unequal_state),
      cmocka_unit_test(test_model_flag_rules),
      cmocka_unit_test(test_model_mvreg_ddia),
      cmocka_unit_test(test_model_cart_rules),
      cmocka_unit_test(test_model_counters_and_lww),
      cmocka_unit_test(test_model_long_keys_churn),
      cmocka_unit_test(test_model_gcounter_random_histories),
      cmocka_unit_test(test_model_pncounter_random_histories),
      cmocka_unit_test(test_model_orset_random_histories),
      cmocka_unit_test(test_model_mvreg_random_histories),
      cmocka_unit_test(test_model_cart_random_histories),
      cmocka_unit_test(test_model_lwwreg_random_histories),
      cmocka_unit_test(test_model_flag_random_histories),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
