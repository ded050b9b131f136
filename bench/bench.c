/*
 * libcrdt benchmark harness: the cases of shared/BENCH-CASES.md, defined so
 * the same workloads can be run against other CRDT libraries.
 *
 * Usage: crdt_bench [N] [case...]     (N defaults to 100000)
 * Each case: set-up untimed, the timed part repeated 5 times on fresh
 * copies, one line per case:
 *   case=<name> n=<N> seconds=<median> min=<min> max=<max> [extra=value ...]
 * Build with the release preset for meaningful figures.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench.h"
#include "crdt/codec.h"

/* ---- plumbing ------------------------------------------------------------- */

void die(const char *what, int rc) {
  fprintf(stderr, "crdt_bench: %s: %s\n", what, crdt_strerror(rc));
  exit(1);
}

double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

stats summarize(double *t, int n) {
  qsort(t, (size_t)n, sizeof *t, cmp_double);
  return (stats){t[n / 2], t[0], t[n - 1]};
}

void report(const char *name, size_t n, stats s, const char *extra) {
  printf("case=%s n=%zu seconds=%.6f min=%.6f max=%.6f%s%s\n", name, n,
         s.median, s.min, s.max, extra && *extra ? " " : "", extra ? extra : "");
  fflush(stdout);
}

size_t live_bytes;
static void *count_alloc(void *user, size_t size) {
  (void)user;
  void *p = malloc(size);
  if (p) live_bytes += size;
  return p;
}
static void *count_realloc(void *user, void *ptr, size_t old_size,
                           size_t new_size) {
  (void)user;
  void *p = realloc(ptr, new_size);
  if (p) live_bytes = live_bytes - old_size + new_size;
  return p;
}
static void count_free(void *user, void *ptr, size_t size) {
  (void)user;
  live_bytes -= size;
  free(ptr);
}

static char (*names)[32]; /* "item-0" .. */
static size_t names_n;

static void make_names(size_t n) {
  names = malloc(n * sizeof *names);
  if (!names) die("names", CRDT_ENOMEM);
  for (size_t i = 0; i < n; i++) snprintf(names[i], sizeof names[i], "item-%zu", i);
  names_n = n;
}

const char *item(size_t i) { return names[i]; }

static crdt_orset *orset(const char *replica) {
  crdt_orset *s;
  CHECK(crdt_orset_new(replica, &s));
  return s;
}

static crdt_orset *orset_copy(const crdt_orset *src) {
  crdt_orset *s;
  CHECK(crdt_orset_copy(src, &s));
  return s;
}

static void add_range(crdt_orset *s, size_t from, size_t to) {
  for (size_t i = from; i < to; i++) CHECK(crdt_orset_add(s, item(i), strlen(item(i)), NULL));
}

static void remove_range(crdt_orset *s, size_t from, size_t to) {
  for (size_t i = from; i < to; i++)
    CHECK(crdt_orset_remove(s, item(i), strlen(item(i)), NULL));
}

/* ---- OR-set cases ----------------------------------------------------------- */

/* N adds into a new set; `synced`: a set that has had a sync session
 * (attached, then freed), whose journal keeps the digest up to date on
 * every add (docs/sync.md, "Memory"). */
static void orset_add_run(size_t n, bool synced, const char *name) {
  double t[RUNS];
  size_t bytes = 0;
  for (int r = 0; r < RUNS; r++) {
    size_t before = live_bytes;
    crdt_orset *s = orset("a");
    if (synced) {
      crdt_sync *session;
      CHECK(crdt_sync_new(crdt_orset_object(s), &session));
      crdt_sync_free(session);
    }
    double t0 = now();
    add_range(s, 0, n);
    t[r] = now() - t0;
    bytes = live_bytes - before;
    crdt_orset_free(s);
  }
  char extra[64];
  snprintf(extra, sizeof extra, "bytes_per_element=%.1f", (double)bytes / (double)n);
  report(name, n, summarize(t, RUNS), extra);
}

static void case_orset_add(size_t n) { orset_add_run(n, false, "orset_add"); }

static void case_orset_add_synced(size_t n) {
  orset_add_run(n, true, "orset_add_synced");
}

static void case_orset_mem(size_t n) {
  size_t before = live_bytes;
  crdt_orset *s = orset("a");
  add_range(s, 0, n);
  size_t heap = live_bytes - before;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  char extra[128];
  snprintf(extra, sizeof extra, "heap_bytes_per_element=%.1f peak_rss_bytes_per_element=%.1f",
           (double)heap / (double)n, (double)ru.ru_maxrss * 1024.0 / (double)n);
  report("orset_mem", n, (stats){0, 0, 0}, extra);
  crdt_orset_free(s);
}

static void case_orset_merge_disjoint(size_t n) {
  crdt_orset *a = orset("a"), *b = orset("b");
  add_range(a, 0, n);
  add_range(b, n, 2 * n);
  double t[RUNS];
  for (int r = 0; r < RUNS; r++) {
    crdt_orset *x = orset_copy(a);
    double t0 = now();
    CHECK(crdt_orset_merge(x, b));
    t[r] = now() - t0;
    if (crdt_orset_size(x) != 2 * n) die("merge_disjoint size", CRDT_EINVAL);
    crdt_orset_free(x);
  }
  report("orset_merge_disjoint", n, summarize(t, RUNS), NULL);
  crdt_orset_free(a);
  crdt_orset_free(b);
}

static void case_orset_merge_overlap(size_t n) {
  size_t k = n / 10;
  crdt_orset *s = orset("a");
  add_range(s, 0, n);
  crdt_orset *a = orset_copy(s), *b = orset("b");
  CHECK(crdt_orset_merge(b, s));
  remove_range(a, 0, k);
  add_range(a, n, n + k);
  remove_range(b, k, 2 * k);
  add_range(b, 2 * n, 2 * n + k);
  double t[RUNS];
  for (int r = 0; r < RUNS; r++) {
    crdt_orset *x = orset_copy(a);
    double t0 = now();
    CHECK(crdt_orset_merge(x, b));
    t[r] = now() - t0;
    if (crdt_orset_size(x) != n) die("merge_overlap size", CRDT_EINVAL);
    crdt_orset_free(x);
  }
  report("orset_merge_overlap", n, summarize(t, RUNS), NULL);
  crdt_orset_free(s);
  crdt_orset_free(a);
  crdt_orset_free(b);
}

static void case_orset_remove(size_t n) {
  crdt_orset *s = orset("a");
  add_range(s, 0, n);
  double t[RUNS];
  for (int r = 0; r < RUNS; r++) {
    crdt_orset *x = orset_copy(s);
    double t0 = now();
    remove_range(x, 0, n);
    t[r] = now() - t0;
    crdt_orset_free(x);
  }
  report("orset_remove", n, summarize(t, RUNS), NULL);
  crdt_orset_free(s);
}

/* delta_sync and state_sync share their set-up. */
static void sync_setup(size_t n, crdt_orset **a, crdt_orset **b) {
  *a = orset("a");
  add_range(*a, 0, n);
  *b = orset("b");
  CHECK(crdt_orset_merge(*b, *a));
}

static void case_delta_sync(size_t n) {
  double produce[RUNS], join[RUNS], total[RUNS];
  for (int r = 0; r < RUNS; r++) {
    crdt_orset *a, *b, *group = orset(NULL);
    sync_setup(n, &a, &b);
    double t0 = now();
    for (size_t i = n; i < n + 100; i++)
      CHECK(crdt_orset_add(a, item(i), strlen(item(i)), group));
    double t1 = now();
    CHECK(crdt_orset_merge(b, group));
    double t2 = now();
    produce[r] = t1 - t0;
    join[r] = t2 - t1;
    total[r] = t2 - t0;
    if (!crdt_orset_equal(a, b)) die("delta_sync result", CRDT_EINVAL);
    crdt_orset_free(a);
    crdt_orset_free(b);
    crdt_orset_free(group);
  }
  stats p = summarize(produce, RUNS), j = summarize(join, RUNS);
  char extra[96];
  snprintf(extra, sizeof extra, "produce_us=%.1f join_us=%.1f", p.median * 1e6,
           j.median * 1e6);
  report("delta_sync", n, summarize(total, RUNS), extra);
}

static void case_state_sync(size_t n) {
  double t[RUNS];
  for (int r = 0; r < RUNS; r++) {
    crdt_orset *a, *b;
    sync_setup(n, &a, &b);
    add_range(a, n, n + 100);
    double t0 = now();
    CHECK(crdt_orset_merge(b, a));
    t[r] = now() - t0;
    crdt_orset_free(a);
    crdt_orset_free(b);
  }
  report("state_sync", n, summarize(t, RUNS), NULL);
}

static void case_codec(size_t n) {
  crdt_orset *s = orset("a");
  add_range(s, 0, n);
  size_t size, element_bytes = 0;
  for (size_t i = 0; i < n; i++) element_bytes += strlen(item(i));
  crdt_encode(crdt_orset_object(s), NULL, 0, &size);
  char *buf = malloc(size);
  if (!buf) die("buffer", CRDT_ENOMEM);
  double enc[RUNS], dec[RUNS];
  for (int r = 0; r < RUNS; r++) {
    double t0 = now();
    CHECK(crdt_encode(crdt_orset_object(s), buf, size, &size));
    double t1 = now();
    crdt_object *back;
    CHECK(crdt_decode(buf, size, NULL, &back));
    double t2 = now();
    enc[r] = t1 - t0;
    dec[r] = t2 - t1;
    crdt_object_free(back);
  }
  stats e = summarize(enc, RUNS), d = summarize(dec, RUNS);
  char extra[160];
  snprintf(extra, sizeof extra,
           "bytes_per_element=%.2f overhead_per_element=%.2f encode_mb_s=%.0f",
           (double)size / (double)n, (double)(size - element_bytes) / (double)n,
           (double)size / e.median / 1e6);
  report("encode", n, e, extra);
  snprintf(extra, sizeof extra, "decode_mb_s=%.0f", (double)size / d.median / 1e6);
  report("decode", n, d, extra);
  free(buf);
  crdt_orset_free(s);
}

/* ---- MV-register, counter and cart cases ----------------------------------- */

#define INNER 2000 /* scenarios per timed run, for the per-scenario cases */

static void case_mvreg_concurrent(size_t n) {
  (void)n;
  crdt_mvreg *reg[64];
  for (int i = 0; i < 64; i++) {
    char id[32], value[32];
    snprintf(id, sizeof id, "replica-%d", i);
    snprintf(value, sizeof value, "value-%d", i);
    CHECK(crdt_mvreg_new(id, &reg[i]));
    CHECK(crdt_mvreg_write(reg[i], value, strlen(value), NULL, NULL));
  }
  double t[RUNS];
  for (int r = 0; r < RUNS; r++) {
    double total = 0;
    for (int k = 0; k < INNER; k++) {
      crdt_mvreg *x;
      CHECK(crdt_mvreg_copy(reg[0], &x)); /* a fresh register 0, untimed */
      double t0 = now();
      for (int i = 1; i < 64; i++) CHECK(crdt_mvreg_merge(x, reg[i]));
      size_t siblings = crdt_mvreg_count(x);
      total += now() - t0;
      if (siblings != 64) die("mvreg_concurrent siblings", CRDT_EINVAL);
      crdt_mvreg_free(x);
    }
    t[r] = total / INNER;
  }
  stats st = summarize(t, RUNS);
  char extra[64];
  snprintf(extra, sizeof extra, "us_per_scenario=%.2f", st.median * 1e6);
  report("mvreg_concurrent", 64, st, extra);
  for (int i = 0; i < 64; i++) crdt_mvreg_free(reg[i]);
}

static void case_gcounter_merge(size_t n) {
  (void)n;
  enum { COUNTERS = 1000 };
  static crdt_gcounter *c[COUNTERS];
  for (int i = 0; i < COUNTERS; i++) {
    char id[32];
    snprintf(id, sizeof id, "replica-%d", i);
    CHECK(crdt_gcounter_new(id, &c[i]));
    CHECK(crdt_gcounter_inc(c[i], (uint64_t)i + 1, NULL));
  }
  double t[RUNS];
  for (int r = 0; r < RUNS; r++) {
    double total = 0;
    int inner = INNER / 10;
    for (int k = 0; k < inner; k++) {
      crdt_gcounter *x;
      CHECK(crdt_gcounter_copy(c[0], &x));
      double t0 = now();
      for (int i = 1; i < COUNTERS; i++) CHECK(crdt_gcounter_merge(x, c[i]));
      uint64_t value;
      CHECK(crdt_gcounter_value(x, &value));
      total += now() - t0;
      if (value != 500500) die("gcounter_merge value", CRDT_EINVAL);
      crdt_gcounter_free(x);
    }
    t[r] = total / inner;
  }
  stats st = summarize(t, RUNS);
  char extra[64];
  snprintf(extra, sizeof extra, "us_per_scenario=%.2f", st.median * 1e6);
  report("gcounter_merge", COUNTERS, st, extra);
  for (int i = 0; i < COUNTERS; i++) crdt_gcounter_free(c[i]);
}

void cart_setup(size_t n, crdt_cart **pa, crdt_cart **pb) {
  crdt_cart *a, *b;
  CHECK(crdt_cart_new("a", &a));
  CHECK(crdt_cart_new("b", &b));
  for (size_t i = 0; i < n; i++)
    CHECK(crdt_cart_add(a, item(i), strlen(item(i)), 1 + i % 5, NULL));
  CHECK(crdt_cart_merge(b, a));
  for (size_t i = 0; i < n / 10; i++)
    CHECK(crdt_cart_add(a, item(i), strlen(item(i)), 2, NULL));
  for (size_t i = n / 20; i < 3 * n / 20; i++)
    CHECK(crdt_cart_dec(b, item(i), strlen(item(i)), 1, NULL, NULL));
  for (size_t i = n / 2; i < n / 2 + n / 100; i++)
    CHECK(crdt_cart_remove(b, item(i), strlen(item(i)), NULL));
  for (size_t i = n / 2; i < n / 2 + n / 200; i++)
    CHECK(crdt_cart_add(a, item(i), strlen(item(i)), 1, NULL));
  *pa = a;
  *pb = b;
}

static void case_cart(size_t n) {
  crdt_cart *a, *b;
  cart_setup(n, &a, &b);
  double t[RUNS];
  for (int r = 0; r < RUNS; r++) {
    crdt_cart *x;
    CHECK(crdt_cart_copy(a, &x));
    double t0 = now();
    CHECK(crdt_cart_merge(x, b));
    t[r] = now() - t0;
    if (r == 0) {
      crdt_cart *y;
      CHECK(crdt_cart_copy(b, &y));
      CHECK(crdt_cart_merge(y, a));
      if (!crdt_cart_equal(x, y)) die("cart: A merge B differs from B merge A", CRDT_EINVAL);
      crdt_cart_free(y);
    }
    crdt_cart_free(x);
  }
  report("cart", n, summarize(t, RUNS), NULL);
  crdt_cart_free(a);
  crdt_cart_free(b);
}

/* ---- driver ------------------------------------------------------------------- */

typedef struct bench_case {
  const char *name;
  void (*run)(size_t n);
} bench_case;

static const bench_case cases[] = {
    {"orset_add", case_orset_add},
    {"orset_add_synced", case_orset_add_synced},
    {"orset_mem", case_orset_mem},
    {"orset_merge_disjoint", case_orset_merge_disjoint},
    {"orset_merge_overlap", case_orset_merge_overlap},
    {"orset_remove", case_orset_remove},
    {"delta_sync", case_delta_sync},
    {"state_sync", case_state_sync},
    {"encode", case_codec},
    {"mvreg_concurrent", case_mvreg_concurrent},
    {"gcounter_merge", case_gcounter_merge},
    {"cart", case_cart},
    {"map_counter_merge", case_map_counter_merge},
    {"map_nested_update", case_map_nested_update},
    {"map_mem", case_map_mem},
    {"sync", case_sync_orset},
    {"sync_cart", case_sync_cart},
    {"sync_map", case_sync_map},
};

int main(int argc, char **argv) {
  size_t n = 100000;
  int first_case = 1;
  if (argc > 1 && argv[1][0] >= '0' && argv[1][0] <= '9') {
    char *end;
    unsigned long long v = strtoull(argv[1], &end, 10);
    if (*end || v == 0 || v > 100000000ull) {
      fprintf(stderr, "crdt_bench: N must be a number from 1 to 100000000\n");
      return 2;
    }
    n = (size_t)v;
    first_case = 2;
  }
  crdt_allocator counting = {count_alloc, count_realloc, count_free, NULL};
  CHECK(crdt_set_allocator(&counting));
  make_names(3 * n + 200);
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    int wanted = first_case >= argc;
    for (int a = first_case; a < argc && !wanted; a++)
      wanted = strcmp(argv[a], cases[i].name) == 0 ||
               (strcmp(argv[a], "decode") == 0 && strcmp(cases[i].name, "encode") == 0);
    if (wanted) cases[i].run(n);
  }
  for (int a = first_case; a < argc; a++) {
    int known = strcmp(argv[a], "decode") == 0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
      known |= strcmp(argv[a], cases[i].name) == 0;
    if (!known) {
      fprintf(stderr, "crdt_bench: unknown case '%s'\n", argv[a]);
      return 2;
    }
  }
  free(names);
  return 0;
}
