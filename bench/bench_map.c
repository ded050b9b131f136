/*
 * The map's cases (shared/BENCH-CASES.md): map_counter_merge (the cart case
 * with a map of counters, the cart timed in the same run), map_nested_update
 * (per-update time beside a flat cart add, and the encoded size of one
 * update's delta) and map_mem (live heap per field beside the cart's per
 * item).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static crdt_path one_name(crdt_bytes *name, const char *s) {
  *name = (crdt_bytes){s, strlen(s)};
  return (crdt_path){name, 1};
}

/* The cart case's set-up on a map of counters (cart_setup: on a cart). */
static void map_setup(size_t n, crdt_map **pa, crdt_map **pb) {
  crdt_map *a, *b;
  crdt_bytes name;
  CHECK(crdt_map_new("a", &a));
  CHECK(crdt_map_new("b", &b));
  for (size_t i = 0; i < n; i++)
    CHECK(crdt_map_counter_inc(a, one_name(&name, item(i)), 1 + i % 5, NULL));
  CHECK(crdt_map_merge(b, a));
  for (size_t i = 0; i < n / 10; i++)
    CHECK(crdt_map_counter_inc(a, one_name(&name, item(i)), 2, NULL));
  for (size_t i = n / 20; i < 3 * n / 20; i++)
    CHECK(crdt_map_counter_dec(b, one_name(&name, item(i)), 1, NULL));
  for (size_t i = n / 2; i < n / 2 + n / 100; i++)
    CHECK(crdt_map_remove(b, one_name(&name, item(i)), CRDT_FIELD_COUNTER,
                          NULL));
  for (size_t i = n / 2; i < n / 2 + n / 200; i++)
    CHECK(crdt_map_counter_inc(a, one_name(&name, item(i)), 1, NULL));
  *pa = a;
  *pb = b;
}

/* A ⊔ B on fresh copies, the cart and the map alternating, so both meet the
 * same machine state; reports the map's median with the cart's beside it. */
void case_map_counter_merge(size_t n) {
  crdt_cart *ca, *cb;
  crdt_map *ma, *mb;
  cart_setup(n, &ca, &cb);
  map_setup(n, &ma, &mb);
  double tc[RUNS], tm[RUNS];
  for (int r = 0; r < RUNS; r++) {
    crdt_cart *x;
    CHECK(crdt_cart_copy(ca, &x));
    double t0 = now();
    CHECK(crdt_cart_merge(x, cb));
    tc[r] = now() - t0;
    crdt_cart_free(x);

    crdt_map *y;
    CHECK(crdt_map_copy(ma, &y));
    t0 = now();
    CHECK(crdt_map_merge(y, mb));
    tm[r] = now() - t0;
    if (r == 0) {
      crdt_map *z;
      CHECK(crdt_map_copy(mb, &z));
      CHECK(crdt_map_merge(z, ma));
      if (!crdt_map_equal(y, z))
        die("map_counter_merge: A merge B differs from B merge A", CRDT_EINVAL);
      /* and the map reads what the cart reads */
      crdt_bytes name;
      size_t probe[] = {0, n / 20, n / 2, n / 2 + n / 200, n - 1};
      crdt_cart *w;
      CHECK(crdt_cart_copy(ca, &w));
      CHECK(crdt_cart_merge(w, cb));
      for (size_t k = 0; k < sizeof probe / sizeof *probe; k++) {
        int64_t v = 0;
        int rc = crdt_map_counter_value(y, one_name(&name, item(probe[k])), &v);
        int64_t q = crdt_cart_quantity(w, item(probe[k]), strlen(item(probe[k])));
        if ((rc == 0 ? v : 0) != q)
          die("map_counter_merge: a counter differs from the cart's item",
              CRDT_EINVAL);
      }
      crdt_cart_free(w);
      crdt_map_free(z);
    }
    crdt_map_free(y);
  }
  stats c = summarize(tc, RUNS), m = summarize(tm, RUNS);
  char extra[96];
  snprintf(extra, sizeof extra, "cart_seconds=%.6f ratio_to_cart=%.2f",
           c.median, m.median / c.median);
  report("map_counter_merge", n, m, extra);
  crdt_cart_free(ca);
  crdt_cart_free(cb);
  crdt_map_free(ma);
  crdt_map_free(mb);
}

/* ["user-<i/10>", "profile"]: i even increments counter "visits", i odd adds
 * "tag-<i%7>" to OR-set "tags". */
typedef struct nested_names {
  char (*user)[32];
  char tag[7][8];
} nested_names;

static int nested_update(crdt_map *m, const nested_names *nm, size_t i,
                         crdt_map *delta) {
  const char *user = nm->user[i / 10];
  if (i % 2 == 0) {
    crdt_bytes p[3] = {{user, strlen(user)}, {"profile", 7}, {"visits", 6}};
    return crdt_map_counter_inc(m, (crdt_path){p, 3}, 1, delta);
  }
  crdt_bytes p[3] = {{user, strlen(user)}, {"profile", 7}, {"tags", 4}};
  const char *tag = nm->tag[i % 7];
  return crdt_map_orset_add(m, (crdt_path){p, 3}, tag, strlen(tag), delta);
}

static size_t encoded_size(crdt_map *m) {
  size_t size = 0;
  int rc = crdt_encode(crdt_map_object(m), NULL, 0, &size);
  if (rc != CRDT_ENOSPC) die("encode", rc);
  return size;
}

/* The frame around every blob: magic, version, tag, flags, a one-byte body
 * length and the 8-byte checksum (docs/format.md). */
#define FRAME_BYTES 16

void case_map_nested_update(size_t n) {
  nested_names nm;
  nm.user = malloc((n / 10 + 2) * sizeof *nm.user);
  if (!nm.user) die("names", CRDT_ENOMEM);
  for (size_t k = 0; k < n / 10 + 2; k++)
    snprintf(nm.user[k], sizeof nm.user[k], "user-%zu", k);
  for (int k = 0; k < 7; k++) snprintf(nm.tag[k], sizeof nm.tag[k], "tag-%d", k);

  /* Each update joins its delta into a delta group, as an application
   * collecting deltas between syncs does; the flat cart add does the same. */
  double tm[RUNS], tc[RUNS], tm0[RUNS], tc0[RUNS];
  for (int r = 0; r < RUNS; r++) {
    crdt_map *m, *group;
    CHECK(crdt_map_new("a", &m));
    CHECK(crdt_map_new(NULL, &group));
    double t0 = now();
    for (size_t i = 0; i < n; i++) CHECK(nested_update(m, &nm, i, group));
    tm[r] = now() - t0;
    crdt_map_free(group);
    crdt_map_free(m);

    crdt_cart *c, *cgroup;
    CHECK(crdt_cart_new("a", &c));
    CHECK(crdt_cart_new(NULL, &cgroup));
    t0 = now();
    for (size_t i = 0; i < n; i++)
      CHECK(crdt_cart_add(c, item(i), strlen(item(i)), 1, cgroup));
    tc[r] = now() - t0;
    crdt_cart_free(cgroup);
    crdt_cart_free(c);

    CHECK(crdt_map_new("a", &m));
    t0 = now();
    for (size_t i = 0; i < n; i++) CHECK(nested_update(m, &nm, i, NULL));
    tm0[r] = now() - t0;
    if (r == RUNS - 1) {
      /* One more update of each kind into a fresh delta: its size. */
      size_t sizes[2], names[2];
      for (size_t k = 0; k < 2; k++) {
        crdt_map *one;
        CHECK(crdt_map_new(NULL, &one));
        CHECK(nested_update(m, &nm, n + k, one));
        sizes[k] = encoded_size(one);
        names[k] = strlen(nm.user[(n + k) / 10]) + 7 + (k ? 4 + 5 : 6);
        crdt_map_free(one);
      }
      char extra[320];
      stats sm = summarize(tm, r + 1), sc = summarize(tc, r + 1);
      stats sm0 = summarize(tm0, r + 1);
      CHECK(crdt_cart_new("a", &c));
      t0 = now();
      for (size_t i = 0; i < n; i++)
        CHECK(crdt_cart_add(c, item(i), strlen(item(i)), 1, NULL));
      tc0[0] = now() - t0;
      crdt_cart_free(c);
      snprintf(extra, sizeof extra,
               "ns_per_update=%.1f cart_add_ns=%.1f ratio_to_cart=%.2f "
               "ns_per_update_no_delta=%.1f cart_add_no_delta_ns=%.1f "
               "inc_delta_bytes=%zu inc_path_name_bytes=%zu "
               "add_delta_bytes=%zu add_path_and_element_bytes=%zu "
               "frame_bytes=%d",
               sm.median * 1e9 / (double)n, sc.median * 1e9 / (double)n,
               sm.median / sc.median, sm0.median * 1e9 / (double)n,
               tc0[0] * 1e9 / (double)n, sizes[0], names[0], sizes[1],
               names[1], FRAME_BYTES);
      report("map_nested_update", n, sm, extra);
    }
    crdt_map_free(m);
  }
  free(nm.user);
}

void case_map_mem(size_t n) {
  crdt_bytes name;
  size_t before = live_bytes;
  crdt_cart *c;
  CHECK(crdt_cart_new("a", &c));
  for (size_t i = 0; i < n; i++)
    CHECK(crdt_cart_add(c, item(i), strlen(item(i)), 1 + i % 5, NULL));
  size_t cart = live_bytes - before;
  crdt_cart_free(c);
  before = live_bytes;
  crdt_map *m;
  CHECK(crdt_map_new("a", &m));
  for (size_t i = 0; i < n; i++)
    CHECK(crdt_map_counter_inc(m, one_name(&name, item(i)), 1 + i % 5, NULL));
  size_t map = live_bytes - before;
  crdt_map_free(m);
  char extra[128];
  snprintf(extra, sizeof extra,
           "heap_bytes_per_field=%.1f cart_heap_bytes_per_item=%.1f "
           "ratio_to_cart=%.2f",
           (double)map / (double)n, (double)cart / (double)n,
           (double)map / (double)cart);
  report("map_mem", n, (stats){0, 0, 0}, extra);
}
