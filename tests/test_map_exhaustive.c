/*
 * Exhaustive check of every map history up to a bound against the map's
 * reference model (tests/support/map_model.h), as tests/test_exhaustive.c
 * does for the flat types.
 *
 * A history of bound U over replicas A, B, C is u1 s1 u2 s2 ... s(U-1) uU:
 *  - each ui is an update: a replica and an operation from the scenario's
 *    alphabet (below), 3 x |alphabet| choices (u1 is A's: the replicas are
 *    interchangeable but for their ids); an update the model refuses
 *    (CRDT_ENOENT: removing what the replica does not see) is part of the
 *    history too, and checked to change nothing;
 *  - each si is one sync step: nothing; or a full state i -> j sent as
 *    bytes (6 choices); or the delta of one event made so far delivered to
 *    a replica other than its maker (2 per event: out of order, late,
 *    more than once); or the group of every delta so far, newest first,
 *    delivered to one replica (3 choices).
 * Every history is run depth first (replicas copied on write); after every
 * step the touched replica's value, context, compare() against the others
 * and the readers of the updated field are checked against the model, as
 * are each update's return code and delta. At each leaf every replica
 * merges the full states of the other two in turn (each step checked), and
 * at every 16th leaf also the laws, round trips and the group of all
 * deltas (ms_check_final).
 *
 * Scenarios (alphabets of three operations; "m" is a map field of the root):
 *  - remove_vs_nested_update: inc m/c by 2, remove map m, add x to m/s:
 *    a remove concurrent with a nested counter or set update (riak_dt #98's
 *    shape), re-creating a removed field, a remove that arrives first;
 *  - nested_remove_empties: add x to m/s, remove x from m/s, remove map m:
 *    a nested remove emptying the set and with it m, re-adds;
 *  - same_name_two_types: inc counter t, enable flag t, remove counter t;
 *  - remove_vs_registers: set MV-register m/r to x, set LWW-register m/r to
 *    y at timestamp 1, remove map m (one name, two register types);
 *  - remove_vs_flag: enable m/f, disable m/f, remove map m.
 * CRDT_EXHAUSTIVE_UPDATES=4 runs the next bound (hours under ASan), and
 * CRDT_EXHAUSTIVE_ONLY=<scenario> skips the others.
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
#include "map_model.h"
#include "testutil.h"

#define NREP 3

static void fail_hook(const char *what) { fail_msg("%s", what); }

static const char *const IDS[NREP] = {"A", "B", "C"};

/* One operation of an alphabet: kind, path (1 or 2 names), type for a
 * remove, argument, amount, timestamp. */
typedef struct op {
  mm_kind kind;
  const char *n1, *n2;
  crdt_field_type type;
  const char *arg;
  uint64_t n, ts;
} op;

typedef struct explore {
  map_sim *s;
  const op *alphabet;
  unsigned nops, bound;
  unsigned long histories, nodes;
} explore;

static void leaf(explore *x) {
  map_sim *s = x->s;
  x->histories++;
  if (x->histories % 16 == 0) ms_check_final(s);
  mm_mark mark;
  mm_save(&s->m, &mark);
  crdt_map *orig[NREP];
  for (unsigned r = 0; r < NREP; r++) orig[r] = ms_detach(s, r);
  ms_sync(s, 1, 0, 0);
  ms_sync(s, 2, 0, 0);
  ms_sync(s, 0, 1, 0);
  ms_sync(s, 0, 2, 0);
  for (unsigned r = 0; r < NREP; r++) ms_reattach(s, r, orig[r]);
  mm_restore(&s->m, &mark);
}

static void dfs(explore *x, unsigned depth);

/* Runs sync choice c after update `depth`, recurses, undoes it; false when
 * c is past the last choice. */
static bool sync_choice(explore *x, unsigned depth, unsigned c) {
  map_sim *s = x->s;
  mm_mark mark;
  mm_save(&s->m, &mark);
  unsigned nev = s->m.nevents;
  if (c == 0) {
    dfs(x, depth + 1);
    return true;
  }
  c--;
  unsigned dst;
  crdt_map *orig;
  if (c < NREP * (NREP - 1)) { /* full state src -> dst, as bytes */
    unsigned src = c / (NREP - 1);
    dst = (src + 1 + c % (NREP - 1)) % NREP;
    orig = ms_detach(s, dst);
    ms_sync(s, src, dst, 1);
  } else if ((c -= NREP * (NREP - 1)) < nev * (NREP - 1)) { /* one delta */
    unsigned e = c / (NREP - 1);
    dst = (s->m.ev[e].replica + 1 + c % (NREP - 1)) % NREP;
    orig = ms_detach(s, dst);
    ms_deliver(s, e, dst);
  } else if ((c -= nev * (NREP - 1)) < NREP) { /* every delta so far */
    if (nev == 0) return true; /* nothing to send: same as no sync */
    unsigned ev[MM_MAX_EVENTS];
    for (unsigned e = 0; e < nev; e++) ev[e] = nev - 1 - e;
    dst = c;
    orig = ms_detach(s, dst);
    ms_deliver_group(s, ev, nev, dst, false);
  } else {
    return false;
  }
  x->nodes++;
  dfs(x, depth + 1);
  ms_reattach(s, dst, orig);
  mm_restore(&s->m, &mark);
  return true;
}

static void dfs(explore *x, unsigned depth) {
  map_sim *s = x->s;
  /* The first update is A's: the replicas are interchangeable but for
   * their ids, so histories that start at B or C repeat these. */
  for (unsigned r = 0; r < (depth ? NREP : 1); r++)
    for (unsigned i = 0; i < x->nops; i++) {
      const op *o = &x->alphabet[i];
      crdt_bytes names[2] = {CRDT_STR(o->n1),
                             CRDT_STR(o->n2 ? o->n2 : "")};
      mm_op u = {o->kind, {names, o->n2 ? 2 : 1}, o->type,
                 CRDT_STR(o->arg ? o->arg : ""), o->n, o->ts};
      mm_mark mark;
      mm_save(&s->m, &mark);
      crdt_map *orig = ms_detach(s, r);
      ms_update(s, r, &u, (depth + i) % 2 == 1);
      x->nodes++;
      if (depth + 1 == x->bound)
        leaf(x);
      else
        for (unsigned c = 0; sync_choice(x, depth, c); c++) {
        }
      ms_reattach(s, r, orig);
      ms_rewind(s, &mark);
    }
}

static unsigned bound_from_env(unsigned dflt) {
  const char *v = getenv("CRDT_EXHAUSTIVE_UPDATES");
  if (!v || !*v) return dflt;
  unsigned b = (unsigned)strtoul(v, NULL, 10);
  return b >= 1 && b <= 8 ? b : dflt;
}

static void explore_scenario(const char *name, const op *alphabet,
                             unsigned nops) {
  const char *only = getenv("CRDT_EXHAUSTIVE_ONLY");
  if (only && *only && strcmp(only, name) != 0) {
    print_message("%s: skipped (CRDT_EXHAUSTIVE_ONLY=%s)\n", name, only);
    return;
  }
  explore x = {0};
  x.s = ms_new(NREP, IDS, fail_hook);
  assert_non_null(x.s);
  /* Deltas arrive out of causal order here: "equal contexts mean equal
   * states" does not hold then (docs/verification.md, known issue). */
  x.s->check_determined = false;
  x.s->check_readers = false; /* the updated field's readers only */
  x.alphabet = alphabet;
  x.nops = nops;
  x.bound = bound_from_env(3);
  dfs(&x, 0);
  print_message("%s: %u replicas, %u updates from %u operations: %lu "
                "histories, %lu steps, %lu states checked, %lu updates "
                "refused\n",
                name, NREP, x.bound, nops, x.histories, x.nodes, x.s->checks,
                x.s->refused);
  assert_true(x.histories > 0);
  ms_free(x.s);
}

static void test_map_exhaustive_remove_vs_nested_update(void **state) {
  (void)state;
  static const op alphabet[] = {
      {MM_INC, "m", "c", 0, NULL, 2, 0},
      {MM_REMOVE, "m", NULL, CRDT_FIELD_MAP, NULL, 0, 0},
      {MM_ADD, "m", "s", 0, "x", 0, 0},
  };
  explore_scenario("remove_vs_nested_update", alphabet, 3);
}

static void test_map_exhaustive_nested_remove_empties(void **state) {
  (void)state;
  static const op alphabet[] = {
      {MM_ADD, "m", "s", 0, "x", 0, 0},
      {MM_RMELEM, "m", "s", 0, "x", 0, 0},
      {MM_REMOVE, "m", NULL, CRDT_FIELD_MAP, NULL, 0, 0},
  };
  explore_scenario("nested_remove_empties", alphabet, 3);
}

static void test_map_exhaustive_same_name_two_types(void **state) {
  (void)state;
  static const op alphabet[] = {
      {MM_INC, "t", NULL, 0, NULL, 1, 0},
      {MM_ENABLE, "t", NULL, 0, NULL, 0, 0},
      {MM_REMOVE, "t", NULL, CRDT_FIELD_COUNTER, NULL, 0, 0},
  };
  explore_scenario("same_name_two_types", alphabet, 3);
}

static void test_map_exhaustive_remove_vs_registers(void **state) {
  (void)state;
  static const op alphabet[] = {
      {MM_MVSET, "m", "r", 0, "x", 0, 0},
      {MM_LWWSET, "m", "r", 0, "y", 0, 1},
      {MM_REMOVE, "m", NULL, CRDT_FIELD_MAP, NULL, 0, 0},
  };
  explore_scenario("remove_vs_registers", alphabet, 3);
}

static void test_map_exhaustive_remove_vs_flag(void **state) {
  (void)state;
  static const op alphabet[] = {
      {MM_ENABLE, "m", "f", 0, NULL, 0, 0},
      {MM_DISABLE, "m", "f", 0, NULL, 0, 0},
      {MM_REMOVE, "m", NULL, CRDT_FIELD_MAP, NULL, 0, 0},
  };
  explore_scenario("remove_vs_flag", alphabet, 3);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_map_exhaustive_remove_vs_nested_update),
      cmocka_unit_test(test_map_exhaustive_nested_remove_empties),
      cmocka_unit_test(test_map_exhaustive_same_name_two_types),
      cmocka_unit_test(test_map_exhaustive_remove_vs_registers),
      cmocka_unit_test(test_map_exhaustive_remove_vs_flag),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
