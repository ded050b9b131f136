/*
 * crdt_rows: rows of states as PostgreSQL's COPY text format writes them
 * (key TAB replica TAB hex blob), handled by the library alone. It is the
 * C-library side of the extension's tests and benchmark:
 *
 *   crdt_rows gen counter|orset ROWS KEYS [SEED]
 *       writes a data set: KEYS keys, ROWS/KEYS replicas per key, one row
 *       per (key, replica) holding that replica's state. counter: a
 *       G-counter incremented once by 1..100. orset: an OR-set with 10 adds
 *       of elements from a universe of 1000 per key, then the remove of
 *       one of them (9 elements, 11 dots of context).
 *   crdt_rows merge
 *       reads rows on stdin and prints, per key in byte order, key TAB the
 *       hex of the join of its rows.
 *   crdt_rows gen bigset ELEMENTS DELTAS SIZE
 *       writes one key's rows: first replica A's OR-set of ELEMENTS adds,
 *       then DELTAS deltas of SIZE further adds each at A (dots following
 *       the state's and each other's).
 *   crdt_rows merge --bench RUNS
 *       reads rows, then RUNS times decodes and merges every row into its
 *       key's join and encodes each join (what crdt_merge_agg does per
 *       group), and prints each run's time and the median.
 *   crdt_rows upsert --bench RUNS
 *       reads rows (a state, then deltas) and RUNS times applies each
 *       delta as an upsert does: decode the state's blob, decode the
 *       delta, merge, encode the new blob; prints the median per update.
 *
 * Only the public API; exit status 0, 1 (bad input or a library error,
 * with a message on stderr) or 2 (usage).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <crdt/crdt.h>

_Noreturn static void die(const char *what, int rc) {
  fprintf(stderr, "crdt_rows: %s: %s\n", what, rc ? crdt_strerror(rc) : "");
  exit(1);
}

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) die("out of memory", CRDT_ENOMEM);
  return p;
}

static void put_hex(const uint8_t *p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    putchar(digits[p[i] >> 4]);
    putchar(digits[p[i] & 15]);
  }
}

/* Encodes into *buf (grown as needed); returns the size. */
static size_t encode(const crdt_object *obj, uint8_t **buf, size_t *cap) {
  size_t size = 0;
  int rc = crdt_encode(obj, *buf, *cap, &size);
  if (rc == CRDT_ENOSPC) {
    free(*buf);
    *cap = size * 2;
    *buf = xmalloc(*cap);
    rc = crdt_encode(obj, *buf, *cap, &size);
  }
  if (rc) die("encode", rc);
  return size;
}

/* ---- gen ---------------------------------------------------------------------- */

static uint64_t rng_state;
static uint64_t rng(void) { /* xorshift64* */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1DULL;
}

static void check(int rc, const char *what) {
  if (rc) die(what, rc);
}

static int gen(const char *kind, long rows, long keys, uint64_t seed) {
  int counter = strcmp(kind, "counter") == 0;
  if (!counter && strcmp(kind, "orset") != 0) return 2;
  if (keys < 1 || rows < keys) return 2;
  rng_state = seed ? seed : 1;
  long replicas = rows / keys;
  uint8_t *buf = NULL;
  size_t cap = 0;
  char replica[32], elem[32];
  for (long k = 0; k < keys; k++) {
    for (long r = 0; r < replicas; r++) {
      snprintf(replica, sizeof replica, "node-%04ld", r);
      crdt_object *obj;
      check(crdt_object_new(counter ? CRDT_TYPE_GCOUNTER : CRDT_TYPE_ORSET,
                            replica, &obj), "new");
      if (counter) {
        crdt_update u = {.op = CRDT_OP_INC, .n = 1 + rng() % 100};
        check(crdt_object_update(obj, &u, NULL), "inc");
      } else {
        int added[10];
        for (int i = 0; i < 10; i++) {
          added[i] = (int)(rng() % 1000);
          int n = snprintf(elem, sizeof elem, "item-%03d", added[i]);
          crdt_update u = {.op = CRDT_OP_ADD, .arg = {elem, (size_t)n}};
          check(crdt_object_update(obj, &u, NULL), "add");
        }
        int n = snprintf(elem, sizeof elem, "item-%03d", added[rng() % 10]);
        crdt_update u = {.op = CRDT_OP_REMOVE, .arg = {elem, (size_t)n}};
        check(crdt_object_update(obj, &u, NULL), "remove");
      }
      size_t size = encode(obj, &buf, &cap);
      printf("k%05ld\t%s\t", k, replica);
      put_hex(buf, size);
      putchar('\n');
      crdt_object_free(obj);
    }
  }
  free(buf);
  return fflush(stdout) == 0 ? 0 : 1;
}

/* One key's big OR-set and the deltas that grow it (gen bigset). */
static int gen_bigset(long elements, long deltas, long size) {
  if (elements < 0 || deltas < 0 || size < 1) return 2;
  uint8_t *buf = NULL;
  size_t cap = 0;
  char elem[48];
  crdt_object *big;
  check(crdt_object_new(CRDT_TYPE_ORSET, "A", &big), "new");
  for (long i = 0; i < elements; i++) {
    int n = snprintf(elem, sizeof elem, "element-%07ld", i);
    crdt_update u = {.op = CRDT_OP_ADD, .arg = {elem, (size_t)n}};
    check(crdt_object_update(big, &u, NULL), "add");
  }
  size_t len = encode(big, &buf, &cap);
  fputs("big\tA\t", stdout);
  put_hex(buf, len);
  putchar('\n');
  for (long d = 0; d < deltas; d++) {
    crdt_object *delta;
    check(crdt_object_new(CRDT_TYPE_ORSET, NULL, &delta), "new");
    for (long j = 0; j < size; j++) {
      int n = snprintf(elem, sizeof elem, "delta-%05ld-%04ld", d, j);
      crdt_update u = {.op = CRDT_OP_ADD, .arg = {elem, (size_t)n}};
      check(crdt_object_update(big, &u, delta), "add");
    }
    len = encode(delta, &buf, &cap);
    fputs("big\tA\t", stdout);
    put_hex(buf, len);
    putchar('\n');
    crdt_object_free(delta);
  }
  crdt_object_free(big);
  free(buf);
  return fflush(stdout) == 0 ? 0 : 1;
}

/* ---- merge -------------------------------------------------------------------- */

typedef struct row {
  char *key;
  uint8_t *blob;
  size_t len;
  size_t line;
} row;

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int row_cmp(const void *a, const void *b) {
  const row *x = a, *y = b;
  int c = strcmp(x->key, y->key);
  if (c) return c;
  return (x->line > y->line) - (x->line < y->line); /* stable */
}

static row *read_rows(size_t *count) {
  row *rows = NULL;
  size_t n = 0, cap = 0, linecap = 0;
  char *line = NULL;
  ssize_t len;
  while ((len = getline(&line, &linecap, stdin)) > 0) {
    if (line[len - 1] == '\n') line[--len] = '\0';
    char *tab1 = strchr(line, '\t');
    char *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
    char *hex = tab2 ? tab2 + 1 : NULL;
    size_t hexlen = hex ? strlen(hex) : 0;
    if (!hex || hexlen == 0 || hexlen % 2) {
      fprintf(stderr, "crdt_rows: line %zu: expected key TAB replica TAB hex\n",
              n + 1);
      exit(1);
    }
    if (n == cap) {
      cap = cap ? 2 * cap : 1024;
      row *more = realloc(rows, cap * sizeof *rows);
      if (!more) die("out of memory", CRDT_ENOMEM);
      rows = more;
    }
    *tab1 = '\0';
    row *r = &rows[n];
    r->key = xmalloc(strlen(line) + 1);
    strcpy(r->key, line);
    r->len = hexlen / 2;
    r->blob = xmalloc(r->len);
    r->line = n;
    for (size_t i = 0; i < r->len; i++) {
      int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
      if (hi < 0 || lo < 0) {
        fprintf(stderr, "crdt_rows: line %zu: not hex\n", n + 1);
        exit(1);
      }
      r->blob[i] = (uint8_t)(hi << 4 | lo);
    }
    n++;
  }
  free(line);
  qsort(rows, n, sizeof *rows, row_cmp);
  *count = n;
  return rows;
}

/* Joins each key's rows and encodes the join; prints key TAB hex when
 * `print`. Returns the number of keys. */
static size_t merge_all(const row *rows, size_t n, int print, uint8_t **buf,
                        size_t *cap) {
  size_t keys = 0;
  for (size_t i = 0; i < n;) {
    crdt_object *acc = NULL;
    size_t j = i;
    for (; j < n && strcmp(rows[j].key, rows[i].key) == 0; j++) {
      crdt_object *obj;
      int rc = crdt_decode(rows[j].blob, rows[j].len, NULL, &obj);
      if (rc) die("decode", rc);
      if (!acc) {
        acc = obj;
        continue;
      }
      if ((rc = crdt_object_merge(acc, obj))) die("merge", rc);
      crdt_object_free(obj);
    }
    size_t size = encode(acc, buf, cap);
    if (print) {
      printf("%s\t", rows[i].key);
      put_hex(*buf, size);
      putchar('\n');
    }
    crdt_object_free(acc);
    keys++;
    i = j;
  }
  return keys;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The first row is a state, the others deltas: each applied as an upsert
 * does it (decode the stored blob, decode the delta, merge, encode). */
static int upsert(int runs) {
  size_t n;
  row *rows = read_rows(&n);
  if (n < 2) {
    fputs("crdt_rows: upsert needs a state and at least one delta\n", stderr);
    exit(1);
  }
  uint8_t *state = NULL, *next = NULL;
  size_t state_cap = 0, next_cap = 0, state_len = 0;
  double *t = xmalloc((size_t)runs * sizeof *t);
  for (int r = 0; r < runs; r++) {
    free(state);
    state = xmalloc(rows[0].len);
    memcpy(state, rows[0].blob, rows[0].len);
    state_cap = state_len = rows[0].len;
    double start = now();
    for (size_t i = 1; i < n; i++) {
      crdt_object *obj, *delta;
      int rc = crdt_decode(state, state_len, NULL, &obj);
      if (!rc) rc = crdt_decode(rows[i].blob, rows[i].len, NULL, &delta);
      if (rc) die("decode", rc);
      if ((rc = crdt_object_merge(obj, delta))) die("merge", rc);
      crdt_object_free(delta);
      size_t len = encode(obj, &next, &next_cap);
      crdt_object_free(obj);
      uint8_t *swap = state;
      size_t swap_cap = state_cap;
      state = next;
      state_cap = next_cap;
      state_len = len;
      next = swap;
      next_cap = swap_cap;
    }
    t[r] = (now() - start) / (double)(n - 1);
    printf("run=%d updates=%zu final_bytes=%zu ms_per_update=%.3f\n", r + 1,
           n - 1, state_len, t[r] * 1e3);
  }
  qsort(t, (size_t)runs, sizeof *t, cmp_double);
  double median = runs % 2 ? t[runs / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2;
  printf("median updates=%zu ms_per_update=%.3f\n", n - 1, median * 1e3);
  free(t);
  free(state);
  free(next);
  for (size_t i = 0; i < n; i++) {
    free(rows[i].key);
    free(rows[i].blob);
  }
  free(rows);
  return fflush(stdout) == 0 ? 0 : 1;
}

static int merge(int runs) {
  size_t n;
  row *rows = read_rows(&n);
  uint8_t *buf = NULL;
  size_t cap = 0;
  if (runs == 0) {
    merge_all(rows, n, 1, &buf, &cap);
  } else {
    double *t = xmalloc((size_t)runs * sizeof *t);
    size_t keys = 0;
    for (int i = 0; i < runs; i++) {
      double start = now();
      keys = merge_all(rows, n, 0, &buf, &cap);
      t[i] = now() - start;
      printf("run=%d rows=%zu keys=%zu seconds=%.4f\n", i + 1, n, keys, t[i]);
    }
    qsort(t, (size_t)runs, sizeof *t, cmp_double);
    double median = runs % 2 ? t[runs / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2;
    printf("median rows=%zu keys=%zu seconds=%.4f rows_per_second=%.0f\n", n,
           keys, median, (double)n / median);
    free(t);
  }
  for (size_t i = 0; i < n; i++) {
    free(rows[i].key);
    free(rows[i].blob);
  }
  free(rows);
  free(buf);
  return fflush(stdout) == 0 ? 0 : 1;
}

static int usage(void) {
  fputs("usage: crdt_rows gen counter|orset ROWS KEYS [SEED]\n"
        "       crdt_rows gen bigset ELEMENTS DELTAS SIZE\n"
        "       crdt_rows merge [--bench RUNS]\n"
        "       crdt_rows upsert --bench RUNS\n",
        stderr);
  return 2;
}

int main(int argc, char **argv) {
  if (argc == 6 && strcmp(argv[1], "gen") == 0 &&
      strcmp(argv[2], "bigset") == 0) {
    int rc = gen_bigset(atol(argv[3]), atol(argv[4]), atol(argv[5]));
    return rc == 2 ? usage() : rc;
  }
  if (argc == 4 && strcmp(argv[1], "upsert") == 0 &&
      strcmp(argv[2], "--bench") == 0 && atoi(argv[3]) > 0)
    return upsert(atoi(argv[3]));
  if (argc >= 5 && strcmp(argv[1], "gen") == 0 && argc <= 6) {
    int rc = gen(argv[2], atol(argv[3]), atol(argv[4]),
                 argc == 6 ? strtoull(argv[5], NULL, 10) : 1);
    return rc == 2 ? usage() : rc;
  }
  if (argc == 2 && strcmp(argv[1], "merge") == 0) return merge(0);
  if (argc == 4 && strcmp(argv[1], "merge") == 0 &&
      strcmp(argv[2], "--bench") == 0 && atoi(argv[3]) > 0)
    return merge(atoi(argv[3]));
  return usage();
}
