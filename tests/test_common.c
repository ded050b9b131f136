/*
 * Kernel basics: version, the error table, the allocator hook, order names.
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

/* ---- a hook that records every live block with its size ------------------ */

#define MAX_BLOCKS 4096

typedef struct block {
  void *ptr;
  size_t size;
} block;

/* One instance per hook: the `user` pointer says which one is called. */
typedef struct tracker {
  block blocks[MAX_BLOCKS];
  size_t nblocks;
  size_t live;
  unsigned long allocs, reallocs, frees;
} tracker;

static size_t find_block(const tracker *t, const void *ptr) {
  for (size_t i = 0; i < t->nblocks; i++)
    if (t->blocks[i].ptr == ptr) return i;
  fail_msg("pointer %p was not allocated through this hook", ptr);
  return 0;
}

static void *track_alloc(void *user, size_t size) {
  tracker *t = user;
  assert_true(size > 0);
  assert_true(t->nblocks < MAX_BLOCKS);
  void *p = malloc(size);
  assert_non_null(p);
  t->blocks[t->nblocks++] = (block){p, size};
  t->live += size;
  t->allocs++;
  return p;
}

static void *track_realloc(void *user, void *ptr, size_t old_size,
                           size_t new_size) {
  tracker *t = user;
  assert_non_null(ptr);
  assert_true(new_size > 0);
  size_t i = find_block(t, ptr);
  /* The library promises the size it allocated, so a hook needs no header. */
  assert_int_equal(t->blocks[i].size, old_size);
  void *p = realloc(ptr, new_size);
  assert_non_null(p);
  t->blocks[i] = (block){p, new_size};
  t->live = t->live - old_size + new_size;
  t->reallocs++;
  return p;
}

static void track_free(void *user, void *ptr, size_t size) {
  tracker *t = user;
  assert_non_null(ptr);
  size_t i = find_block(t, ptr);
  assert_int_equal(t->blocks[i].size, size);
  t->blocks[i] = t->blocks[--t->nblocks];
  t->live -= size;
  t->frees++;
  free(ptr);
}

static crdt_allocator hook_for(tracker *t) {
  return (crdt_allocator){track_alloc, track_realloc, track_free, t};
}

static tracker *tracker_new(void) {
  tracker *t = calloc(1, sizeof *t);
  assert_non_null(t);
  return t;
}

/* Restores the libc default after every test, whatever happened. */
static int restore_default(void **state) {
  (void)state;
  return crdt_set_allocator(NULL);
}

/* ---- version ------------------------------------------------------------- */

static void test_common_version_matches_macros(void **state) {
  (void)state;
  assert_non_null(crdt_version());
  assert_string_equal(crdt_version(), CRDT_VERSION_STRING);
  char expected[64];
  snprintf(expected, sizeof expected, "%d.%d.%d", CRDT_VERSION_MAJOR,
           CRDT_VERSION_MINOR, CRDT_VERSION_PATCH);
  assert_string_equal(crdt_version(), expected);
  int major = -1, minor = -1, patch = -1;
  assert_int_equal(sscanf(crdt_version(), "%d.%d.%d", &major, &minor, &patch),
                   3);
  assert_int_equal(major * 10000 + minor * 100 + patch, CRDT_VERSION_NUMBER);
  assert_true(CRDT_VERSION_MINOR < 100 && CRDT_VERSION_PATCH < 100);
}

/* ---- error table --------------------------------------------------------- */

typedef struct err_row {
  const char *name; /* "CRDT_ENOMEM" */
  int value;
  const char *msg;
} err_row;

static const err_row err_table[] = {
#define ROW(name, value, msg) {"CRDT_" #name, CRDT_##name, msg},
    CRDT_ERRNO_MAP(ROW)
#undef ROW
};
#define NERR (sizeof err_table / sizeof err_table[0])

static bool in_table(int value) {
  for (size_t i = 0; i < NERR; i++)
    if (err_table[i].value == value) return true;
  return false;
}

static void test_common_error_table_is_consistent(void **state) {
  (void)state;
  assert_true(NERR >= 2);
  for (size_t i = 0; i < NERR; i++) {
    const err_row *e = &err_table[i];
    /* Errors are negative, so "rc < 0" is the failure test everywhere. */
    assert_true(e->value < 0);
    for (size_t j = i + 1; j < NERR; j++)
      if (err_table[j].value == e->value)
        fail_msg("%s and %s share the value %d", e->name, err_table[j].name,
                 e->value);
    const char *msg = crdt_strerror(e->value);
    assert_non_null(msg);
    assert_true(msg[0] != '\0');
    assert_string_equal(msg, e->msg);
    assert_string_equal(crdt_err_name(e->value), e->name);
    assert_true(strncmp(e->name, "CRDT_E", 6) == 0);
  }
  /* Spot checks that the table feeds the enum. */
  assert_string_equal(crdt_err_name(CRDT_ENOMEM), "CRDT_ENOMEM");
  assert_string_equal(crdt_err_name(CRDT_EFORMAT), "CRDT_EFORMAT");
  assert_string_equal(crdt_strerror(CRDT_ENOSPC), "buffer too small");
}

static void test_common_unknown_code_is_named_unknown(void **state) {
  (void)state;
  unsigned unknown = 0;
  for (int v = -200; v <= 200; v++) {
    if (v == 0 || in_table(v)) continue;
    unknown++;
    assert_string_equal(crdt_strerror(v), "unknown error");
    assert_string_equal(crdt_err_name(v), "CRDT_UNKNOWN");
  }
  /* 401 candidates minus 0 and the table. */
  assert_int_equal(unknown, 400 - NERR);
  const int extremes[] = {INT32_MIN, INT32_MAX, 1, -11, -19, -31};
  for (size_t i = 0; i < sizeof extremes / sizeof extremes[0]; i++) {
    assert_false(in_table(extremes[i]));
    assert_string_equal(crdt_strerror(extremes[i]), "unknown error");
    assert_string_equal(crdt_err_name(extremes[i]), "CRDT_UNKNOWN");
  }
}

static void test_common_zero_is_success(void **state) {
  (void)state;
  assert_int_equal(CRDT_OK, 0);
  assert_false(in_table(0));
  assert_string_equal(crdt_strerror(0), "success");
  assert_string_equal(crdt_err_name(0), "CRDT_OK");
  assert_string_equal(crdt_strerror(CRDT_OK), "success");
}

/* ---- allocator hook ------------------------------------------------------ */

static void test_common_set_allocator_rejects_null_function(void **state) {
  (void)state;
  tracker *t = tracker_new();
  crdt_allocator good = hook_for(t);
  assert_int_equal(crdt_set_allocator(&good), 0);

  crdt_allocator no_alloc = good, no_realloc = good, no_free = good;
  no_alloc.alloc = NULL;
  no_realloc.realloc = NULL;
  no_free.free = NULL;
  assert_int_equal(crdt_set_allocator(&no_alloc), CRDT_EINVAL);
  assert_int_equal(crdt_set_allocator(&no_realloc), CRDT_EINVAL);
  assert_int_equal(crdt_set_allocator(&no_free), CRDT_EINVAL);

  /* The rejected hooks did not replace the good one. */
  crdt_vv *vv = NULL;
  assert_int_equal(crdt_vv_new(&vv), 0);
  assert_true(t->allocs >= 1);
  assert_int_equal(crdt_vv_tick(vv, "A", NULL), 0);
  assert_true(t->allocs > 1);
  crdt_vv_free(vv);
  assert_int_equal(t->live, 0);
  assert_int_equal(t->nblocks, 0);
  assert_int_equal(crdt_set_allocator(NULL), 0);
  free(t);
}

static void test_common_set_allocator_null_restores_default(void **state) {
  (void)state;
  tracker *t = tracker_new();
  crdt_allocator hook = hook_for(t);
  assert_int_equal(crdt_set_allocator(&hook), 0);
  assert_int_equal(crdt_set_allocator(NULL), 0);
  crdt_vv *vv = NULL;
  crdt_context *ctx = NULL;
  assert_int_equal(crdt_vv_new(&vv), 0);
  assert_int_equal(crdt_vv_tick(vv, "A", NULL), 0);
  assert_int_equal(crdt_context_new(&ctx), 0);
  assert_int_equal(crdt_context_add(ctx, "B", 3), 0);
  crdt_vv_free(vv);
  crdt_context_free(ctx);
  assert_int_equal(t->allocs + t->reallocs + t->frees, 0);
  free(t);
}

static void test_common_hook_receives_user_pointer_and_struct_is_copied(
    void **state) {
  (void)state;
  tracker *t = tracker_new();
  crdt_allocator hook = hook_for(t);
  assert_int_equal(crdt_set_allocator(&hook), 0);
  /* The library copied the struct: clobbering ours changes nothing. */
  memset(&hook, 0, sizeof hook);
  crdt_vv *vv = NULL;
  assert_int_equal(crdt_vv_new(&vv), 0);
  assert_int_equal(crdt_vv_tick(vv, "A", NULL), 0);
  assert_true(t->allocs >= 2);
  crdt_vv_free(vv);
  assert_int_equal(t->live, 0);
  assert_int_equal(crdt_set_allocator(NULL), 0);
  free(t);
}

static void test_common_objects_keep_their_allocator(void **state) {
  (void)state;
  tracker *first = tracker_new(), *second = tracker_new();
  crdt_allocator h1 = hook_for(first), h2 = hook_for(second);

  assert_int_equal(crdt_set_allocator(&h1), 0);
  crdt_vv *vv = NULL;
  crdt_context *ctx = NULL;
  assert_int_equal(crdt_vv_new(&vv), 0);
  assert_int_equal(crdt_context_new(&ctx), 0);
  assert_int_equal(crdt_vv_tick(vv, "A", NULL), 0);
  unsigned long first_allocs = first->allocs;

  /* A new default: live objects keep allocating through h1. */
  assert_int_equal(crdt_set_allocator(&h2), 0);
  char id[8];
  for (int i = 0; i < 40; i++) {
    snprintf(id, sizeof id, "r%d", i);
    assert_int_equal(crdt_vv_tick(vv, id, NULL), 0);
    assert_int_equal(crdt_context_add(ctx, id, (uint64_t)(2 * i + 3)), 0);
  }
  assert_true(first->allocs + first->reallocs > first_allocs);
  assert_int_equal(second->allocs + second->reallocs, 0);

  /* A copy is a new object: it takes the default in force now (h2). */
  crdt_vv *copy = NULL;
  assert_int_equal(crdt_vv_copy(vv, &copy), 0);
  assert_true(second->allocs > 0);
  assert_int_equal(crdt_vv_get(copy, "r39"), 1);

  /* Back to libc: freeing still goes through each object's own hook. */
  assert_int_equal(crdt_set_allocator(NULL), 0);
  assert_int_equal(crdt_vv_tick(copy, "late", NULL), 0);
  crdt_vv_free(vv);
  crdt_context_free(ctx);
  assert_int_equal(first->live, 0);
  assert_int_equal(first->nblocks, 0);
  assert_true(first->frees > 0);
  assert_true(second->live > 0);
  crdt_vv_free(copy);
  assert_int_equal(second->live, 0);
  assert_int_equal(second->nblocks, 0);
  free(first);
  free(second);
}

/* Every size handed to realloc and free is the size allocated (the tracker
 * asserts it), across operations that grow tables and vectors. */
static void test_common_allocator_sizes_are_exact(void **state) {
  (void)state;
  tracker *t = tracker_new();
  crdt_allocator hook = hook_for(t);
  assert_int_equal(crdt_set_allocator(&hook), 0);
  crdt_vv *a = NULL, *b = NULL;
  crdt_context *c = NULL, *d = NULL;
  assert_int_equal(crdt_vv_new(&a), 0);
  assert_int_equal(crdt_vv_new(&b), 0);
  assert_int_equal(crdt_context_new(&c), 0);
  assert_int_equal(crdt_context_new(&d), 0);
  char id[16];
  for (int i = 0; i < 300; i++) {
    snprintf(id, sizeof id, "replica-%d", i);
    assert_int_equal(crdt_vv_tick(i % 2 ? a : b, id, NULL), 0);
    /* Every other counter: the cloud grows and never compacts. */
    assert_int_equal(crdt_context_add(i % 3 ? c : d, i % 7 ? "X" : "Y",
                                      (uint64_t)(2 * i + 2)),
                     0);
  }
  assert_int_equal(crdt_vv_merge(a, b), 0);
  assert_int_equal(crdt_context_join(c, d), 0);
  assert_int_equal(crdt_vv_size(a), 300);
  char buf[16];
  size_t need = 0;
  assert_int_equal(crdt_context_format(c, buf, sizeof buf, &need), CRDT_ENOSPC);
  assert_true(need > sizeof buf);
  assert_true(t->reallocs > 0); /* growth went through realloc */
  crdt_vv_free(a);
  crdt_vv_free(b);
  crdt_context_free(c);
  crdt_context_free(d);
  assert_int_equal(t->live, 0);
  assert_int_equal(t->nblocks, 0);
  assert_int_equal(t->allocs, t->frees);
  assert_int_equal(crdt_set_allocator(NULL), 0);
  free(t);
}

/* ---- order names --------------------------------------------------------- */

static void test_common_order_name(void **state) {
  (void)state;
  assert_string_equal(crdt_order_name(CRDT_EQUAL), "equal");
  assert_string_equal(crdt_order_name(CRDT_BEFORE), "before");
  assert_string_equal(crdt_order_name(CRDT_AFTER), "after");
  assert_string_equal(crdt_order_name(CRDT_CONCURRENT), "concurrent");
  assert_string_equal(crdt_order_name((crdt_order)4), "?");
  assert_string_equal(crdt_order_name((crdt_order)-1), "?");
  /* The four values are distinct and 0 is EQUAL. */
  assert_int_equal(CRDT_EQUAL, 0);
  assert_true(CRDT_BEFORE != CRDT_AFTER && CRDT_AFTER != CRDT_CONCURRENT &&
              CRDT_BEFORE != CRDT_CONCURRENT && CRDT_BEFORE != CRDT_EQUAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_common_version_matches_macros),
      cmocka_unit_test(test_common_error_table_is_consistent),
      cmocka_unit_test(test_common_unknown_code_is_named_unknown),
      cmocka_unit_test(test_common_zero_is_success),
      cmocka_unit_test_teardown(test_common_set_allocator_rejects_null_function,
                                restore_default),
      cmocka_unit_test_teardown(test_common_set_allocator_null_restores_default,
                                restore_default),
      cmocka_unit_test_teardown(
          test_common_hook_receives_user_pointer_and_struct_is_copied,
          restore_default),
      cmocka_unit_test_teardown(test_common_objects_keep_their_allocator,
                                restore_default),
      cmocka_unit_test_teardown(test_common_allocator_sizes_are_exact,
                                restore_default),
      cmocka_unit_test(test_common_order_name),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
