/*
 * The wire format (docs/format.md): golden blobs written out by hand from the
 * specification, round trips as a property on random OR-sets, canonical
 * bytes, the encoder's buffer contract, crdt_peek, every decoder error, a
 * truncation and corruption sweep, allocation failure, the documented size
 * bounds, and memory while decoding hostile input.
 *
 * Expected bytes come from the specification, never from the encoder's
 * output: a golden vector is the blob minus its checksum, in hex, and the
 * checksum is computed here with XXH3_64bits. Malformed blobs are framed by
 * hand (blob_of) so a checksum can be made correct after editing a body.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <xxhash.h>

#include "crdt/crdt.h"
#include "testutil.h"

#define S(x) (x), strlen(x)

#define TAG_ORSET 0x03
#define TAG_CONTEXT 0x10
#define KEYED 0x01

/* ---- byte strings -------------------------------------------------------- */

typedef struct bytes {
  uint8_t *p;
  size_t n, cap;
} bytes;

static void by_put(bytes *b, const void *src, size_t n) {
  if (b->n + n > b->cap) {
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->n + n) cap *= 2;
    b->p = realloc(b->p, cap);
    assert_non_null(b->p);
    b->cap = cap;
  }
  if (n) memcpy(b->p + b->n, src, n);
  b->n += n;
}

static void by_u8(bytes *b, uint8_t v) { by_put(b, &v, 1); }

static void by_rep(bytes *b, uint8_t v, size_t n) {
  for (size_t i = 0; i < n; i++) by_u8(b, v);
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Appends hex pairs; spaces and '|' (field separators) are ignored. */
static void by_hex(bytes *b, const char *hex) {
  while (*hex) {
    if (*hex == ' ' || *hex == '|' || *hex == '\n') {
      hex++;
      continue;
    }
    int hi = hex_digit(hex[0]), lo = hex_digit(hex[1]);
    assert_true(hi >= 0 && lo >= 0);
    by_u8(b, (uint8_t)(hi << 4 | lo));
    hex += 2;
  }
}

/* LEB128 as docs/format.md "Primitives" defines it. */
static void by_varint(bytes *b, uint64_t v) {
  while (v >= 0x80) {
    by_u8(b, (uint8_t)(v & 0x7F) | 0x80);
    v >>= 7;
  }
  by_u8(b, (uint8_t)v);
}

static bytes by_copy(const bytes *b) {
  bytes c = {0};
  by_put(&c, b->p, b->n);
  return c;
}

static void by_free(bytes *b) {
  free(b->p);
  b->p = NULL;
  b->n = b->cap = 0;
}

/* Appends XXH3-64 (seed 0) of everything so far, little-endian. */
static void by_checksum(bytes *b) {
  uint64_t sum = XXH3_64bits(b->p, b->n);
  for (int i = 0; i < 8; i++) by_u8(b, (uint8_t)(sum >> (8 * i)));
}

/* A blob framed by hand: magic, version 1, tag, flags, body length, body,
 * checksum. */
static bytes blob_of(uint8_t tag, uint8_t flags, const bytes *body) {
  bytes b = {0};
  by_hex(&b, "43 52 44 54 01");
  by_u8(&b, tag);
  by_u8(&b, flags);
  by_varint(&b, body->n);
  by_put(&b, body->p, body->n);
  by_checksum(&b);
  return b;
}

/* An OR-set blob around a body given in hex. */
static bytes orset_blob(uint8_t flags, const char *body_hex) {
  bytes body = {0};
  by_hex(&body, body_hex);
  bytes b = blob_of(TAG_ORSET, flags, &body);
  by_free(&body);
  return b;
}

/* Recomputes the checksum after an edit of the bytes before it. */
static void refresh_checksum(bytes *b) {
  assert_true(b->n >= 8);
  b->n -= 8;
  by_checksum(b);
}

static void assert_bytes_equal(const uint8_t *got, size_t got_n,
                               const uint8_t *want, size_t want_n) {
  size_t n = got_n < want_n ? got_n : want_n;
  size_t at = 0;
  while (at < n && got[at] == want[at]) at++;
  if (at == n && got_n == want_n) return;
  print_error("bytes differ at offset %zu (got %zu bytes, want %zu)\n", at,
              got_n, want_n);
  print_error("got: ");
  for (size_t i = 0; i < got_n && i < 200; i++) print_error(" %02x", got[i]);
  print_error("\nwant:");
  for (size_t i = 0; i < want_n && i < 200; i++) print_error(" %02x", want[i]);
  print_error("\n");
  fail();
}

/* Compares error codes by name, so a failure says which code came back. */
#define assert_code(rc, want)                                                  \
  assert_string_equal(crdt_err_name(rc), crdt_err_name(want))

/* ---- objects ------------------------------------------------------------- */

static crdt_orset *set_at(const char *replica) {
  crdt_orset *s = NULL;
  assert_int_equal(crdt_orset_new(replica, &s), 0);
  return s;
}

static crdt_object *obj(crdt_orset *s) { return crdt_orset_object(s); }

static void add(crdt_orset *s, const char *e, crdt_orset *delta) {
  assert_code(crdt_orset_add(s, S(e), delta), 0);
}

static void del(crdt_orset *s, const char *e, crdt_orset *delta) {
  assert_code(crdt_orset_remove(s, S(e), delta), 0);
}

static void merge(crdt_orset *dst, const crdt_orset *src) {
  assert_code(crdt_orset_merge(dst, src), 0);
}

static bytes encode(crdt_orset *s) {
  size_t need = 0;
  assert_code(crdt_encode(obj(s), NULL, 0, &need), CRDT_ENOSPC);
  bytes b = {0};
  by_rep(&b, 0, need);
  size_t size = 0;
  assert_code(crdt_encode(obj(s), b.p, b.n, &size), 0);
  assert_int_equal(size, need);
  return b;
}

static crdt_orset *decode(const bytes *b, const char *owner) {
  crdt_object *o = NULL;
  assert_code(crdt_decode(b->p, b->n, owner, &o), 0);
  crdt_orset *s = crdt_object_orset(o);
  assert_non_null(s);
  return s;
}

typedef int (*format_fn)(const crdt_object *, char *, size_t, size_t *);

static char *formatted(crdt_orset *s, format_fn fmt) {
  size_t need = 0;
  assert_code(fmt(obj(s), NULL, 0, &need), CRDT_ENOSPC);
  char *t = malloc(need + 1);
  assert_non_null(t);
  assert_code(fmt(obj(s), t, need + 1, NULL), 0);
  return t;
}

static void assert_context_text(crdt_orset *s, const char *want) {
  char *t = formatted(s, crdt_object_context_text);
  assert_string_equal(t, want);
  free(t);
}

static void assert_value(crdt_orset *s, const char *want) {
  char *t = formatted(s, crdt_object_value_json);
  assert_string_equal(t, want);
  free(t);
}

static bool is_delta_blob(const bytes *b) {
  crdt_blob_info info;
  assert_code(crdt_peek(b->p, b->n, &info), 0);
  assert_int_equal(info.version, 1);
  assert_int_equal(info.type, CRDT_TYPE_ORSET);
  assert_false(info.is_context);
  return info.is_delta;
}

/* ---- 1. golden vectors --------------------------------------------------- */

/* Checks that `s` encodes to `want` (the blob without its checksum) followed
 * by XXH3-64 of `want`, little-endian; returns the full golden blob. */
static bytes check_golden(crdt_orset *s, const bytes *want) {
  bytes got = encode(s);
  bytes full = by_copy(want);
  by_checksum(&full);
  assert_bytes_equal(got.p, got.n, full.p, full.n);
  uint64_t sum = XXH3_64bits(want->p, want->n);
  for (int i = 0; i < 8; i++)
    assert_int_equal(got.p[want->n + (size_t)i], (uint8_t)(sum >> (8 * i)));
  by_free(&got);
  return full;
}

/* Decodes a golden blob with and without an owner; both equal `s`, and the
 * receive-only copy re-encodes to the same bytes. */
static crdt_orset *check_golden_decodes(const bytes *blob, crdt_orset *s) {
  crdt_orset *d = decode(blob, NULL);
  assert_true(crdt_orset_equal(d, s));
  assert_null(crdt_object_replica(obj(d)));
  crdt_order o;
  assert_code(crdt_orset_compare(d, s, &o), 0);
  assert_int_equal(o, CRDT_EQUAL);
  bytes again = encode(d);
  assert_bytes_equal(again.p, again.n, blob->p, blob->n);
  by_free(&again);
  crdt_orset *owned = decode(blob, "A");
  assert_string_equal(crdt_object_replica(obj(owned)), "A");
  assert_true(crdt_orset_equal(owned, s));
  crdt_orset_free(owned);
  return d;
}

static void test_codec_golden_empty_set(void **state) {
  (void)state;
  crdt_orset *a = set_at("A");
  /* "A" is interned but refers to nothing: R = 0; no dot streams; M = 0. */
  bytes want = {0};
  by_hex(&want, "43 52 44 54 | 01 | 03 | 00 | 02 | 00 | 00");
  bytes blob = check_golden(a, &want);
  assert_false(is_delta_blob(&blob));
  crdt_orset *d = check_golden_decodes(&blob, a);
  assert_int_equal(crdt_orset_size(d), 0);
  assert_value(d, "[]");
  assert_context_text(d, "{}");
  crdt_orset_free(d);
  crdt_orset_free(a);
  by_free(&want);
  by_free(&blob);
}

static void test_codec_golden_empty_delta(void **state) {
  (void)state;
  crdt_orset *delta = set_at(NULL);
  bytes want = {0};
  by_hex(&want, "43 52 44 54 | 01 | 03 | 01 | 02 | 00 | 00");
  bytes blob = check_golden(delta, &want);
  assert_true(is_delta_blob(&blob));
  crdt_orset *d = check_golden_decodes(&blob, delta);
  assert_int_equal(crdt_orset_size(d), 0);
  crdt_orset_free(d);
  crdt_orset_free(delta);
  by_free(&want);
  by_free(&blob);
}

static void test_codec_golden_one_add(void **state) {
  (void)state;
  crdt_orset *a = set_at("A");
  add(a, "x", NULL); /* dot A1 */
  bytes want = {0};
  by_hex(&want, "43 52 44 54 01 03 00 | 0a"
                "| 01 01 41"   /* R = 1, "A" */
                "| 01 00"      /* A: prefix 1, no runs */
                "| 01 00 01 78" /* A: 1 dot, gap 0 new key "x" */
                "| 00");       /* no markers */
  bytes blob = check_golden(a, &want);
  crdt_orset *d = check_golden_decodes(&blob, a);
  assert_true(crdt_orset_contains(d, S("x")));
  assert_int_equal(crdt_orset_size(d), 1);
  assert_context_text(d, "{A:1}");
  crdt_orset_free(d);
  crdt_orset_free(a);
  by_free(&want);
  by_free(&blob);
}

static void test_codec_golden_add_add_remove(void **state) {
  (void)state;
  crdt_orset *a = set_at("A");
  add(a, "x", NULL); /* A1 */
  add(a, "y", NULL); /* A2 */
  del(a, "x", NULL); /* A3 */
  bytes want = {0};
  by_hex(&want, "43 52 44 54 01 03 00 | 0a"
                "| 01 01 41"
                "| 03 00"       /* A: prefix 3 */
                "| 01 02 01 79" /* one dot: counter 0+1+1 = 2, key "y" */
                "| 00");
  bytes blob = check_golden(a, &want);
  crdt_orset *d = check_golden_decodes(&blob, a);
  assert_false(crdt_orset_contains(d, S("x")));
  assert_true(crdt_orset_contains(d, S("y")));
  assert_int_equal(crdt_orset_size(d), 1);
  assert_context_text(d, "{A:3}");
  /* A state that saw only the first add is before this one. */
  crdt_orset *early = set_at("A");
  add(early, "x", NULL);
  crdt_order o;
  assert_code(crdt_orset_compare(early, d, &o), 0);
  assert_int_equal(o, CRDT_BEFORE);
  crdt_orset_free(early);
  crdt_orset_free(d);
  crdt_orset_free(a);
  by_free(&want);
  by_free(&blob);
}

static void test_codec_golden_keyed_delta_with_marker(void **state) {
  (void)state;
  crdt_orset *a = set_at("A"), *delta = set_at(NULL);
  add(a, "x", NULL);  /* A1 */
  add(a, "y", NULL);  /* A2 */
  del(a, "x", delta); /* A3; saw A1: context {A1, A3}, marker "x" */
  add(a, "z", delta); /* A4: z -> {A4} */
  bytes want = {0};
  by_hex(&want, "43 52 44 54 01 03 | 01 | 0e"
                "| 01 01 41"
                "| 01 01 00 01" /* prefix 1; 1 run: start 1+2+0 = 3, extra 1 */
                "| 01 06 01 7a" /* 1 dot: head 3*2 (counter 4), key "z" */
                "| 01 01 78");  /* markers: "x" */
  bytes blob = check_golden(delta, &want);
  assert_true(is_delta_blob(&blob));
  crdt_orset *d = check_golden_decodes(&blob, delta);
  assert_true(crdt_orset_contains(d, S("z")));
  assert_false(crdt_orset_contains(d, S("x")));
  assert_int_equal(crdt_orset_size(d), 1);
  assert_context_text(d, "{A:1} + {A:3, A:4}");
  /* The decoded delta does what the delta does. */
  crdt_orset *b = set_at("B"), *b2 = set_at("B"), *base = set_at("A");
  add(base, "x", NULL);
  add(base, "y", NULL);
  merge(b, base);
  merge(b2, base);
  merge(b, delta);
  merge(b2, d);
  assert_true(crdt_orset_equal(b, b2));
  assert_true(crdt_orset_equal(b, a));
  /* Decoded with an owner, the delta becomes a state: no markers. */
  crdt_orset *owned = decode(&blob, "A");
  bytes plain = encode(owned);
  assert_false(is_delta_blob(&plain));
  crdt_orset_free(owned);
  by_free(&plain);
  crdt_orset_free(b);
  crdt_orset_free(b2);
  crdt_orset_free(base);
  crdt_orset_free(d);
  crdt_orset_free(delta);
  crdt_orset_free(a);
  by_free(&want);
  by_free(&blob);
}

static void test_codec_golden_cloud_runs_after_lost_deltas(void **state) {
  (void)state;
  crdt_orset *b = set_at("B"), *d[5];
  const char *elems[5] = {"p", "q", "r", "s", "t"};
  for (int i = 0; i < 5; i++) {
    d[i] = set_at(NULL);
    add(b, elems[i], d[i]); /* B1..B5 */
  }
  /* A receives B's deltas 5, 2 and 4; 1 and 3 are lost. */
  crdt_orset *a = set_at("A");
  merge(a, d[4]);
  merge(a, d[1]);
  merge(a, d[3]);
  bytes want = {0};
  by_hex(&want, "43 52 44 54 01 03 00 | 14"
                "| 01 01 42"         /* only "B" is referred to */
                "| 00 02 00 00 00 01" /* prefix 0; runs {2} and {4,5} */
                "| 03 02 01 71 02 01 73 00 01 74" /* B2 q, B4 s, B5 t */
                "| 00");
  bytes blob = check_golden(a, &want);
  crdt_orset *dec = check_golden_decodes(&blob, a);
  assert_value(dec, "[\"q\", \"s\", \"t\"]");
  assert_context_text(dec, "{} + {B:2, B:4, B:5}");
  /* The lost deltas arrive: the cloud folds into the prefix. */
  merge(dec, d[0]);
  merge(dec, d[2]);
  assert_context_text(dec, "{B:5}");
  assert_true(crdt_orset_equal(dec, b));
  /* An owner that the blob does not list can update the decoded state. */
  crdt_orset *owned = decode(&blob, "A");
  add(owned, "u", NULL);
  assert_context_text(owned, "{A:1} + {B:2, B:4, B:5}");
  for (int i = 0; i < 5; i++) crdt_orset_free(d[i]);
  crdt_orset_free(owned);
  crdt_orset_free(dec);
  crdt_orset_free(a);
  crdt_orset_free(b);
  by_free(&want);
  by_free(&blob);
}

static void test_codec_golden_concurrent_add(void **state) {
  (void)state;
  crdt_orset *a = set_at("A"), *b = set_at("B");
  add(b, "x", NULL); /* B1 */
  add(b, "y", NULL); /* B2 */
  add(a, "x", NULL); /* A1, concurrent with B1 */
  merge(a, b);
  merge(b, a);
  bytes want = {0};
  by_hex(&want, "43 52 44 54 01 03 00 | 14"
                "| 02 01 41 01 42" /* "A" < "B" */
                "| 01 00 | 02 00"  /* A:1, B:2 */
                "| 01 00 01 78"    /* A: A1 defines entry 0 = "x" */
                "| 02 01 00 | 00 01 79" /* B: B1 refers to entry 0, B2 "y" */
                "| 00");
  bytes blob = check_golden(a, &want);
  bytes at_b = check_golden(b, &want); /* B interned the ids the other way */
  crdt_orset *d = check_golden_decodes(&blob, a);
  assert_value(d, "[\"x\", \"y\"]");
  assert_context_text(d, "{A:1, B:2}");
  /* Both adds of x survive: a remove at C that saw only A1 keeps x. */
  crdt_orset *c = set_at("C"), *a_only = set_at("A");
  add(a_only, "x", NULL);
  merge(c, a_only);
  del(c, "x", NULL);
  merge(d, c);
  assert_true(crdt_orset_contains(d, S("x")));
  crdt_orset_free(c);
  crdt_orset_free(a_only);
  crdt_orset_free(d);
  crdt_orset_free(a);
  crdt_orset_free(b);
  by_free(&want);
  by_free(&blob);
  by_free(&at_b);
}

static void test_codec_golden_prefix_ids_empty_and_long_elements(void **state) {
  (void)state;
  char longer[131];
  memset(longer, 'q', 130);
  longer[130] = '\0';
  crdt_orset *ab = set_at("AB"), *a = set_at("A");
  add(ab, "", NULL);     /* AB1 */
  add(ab, longer, NULL); /* AB2 */
  add(a, "z", NULL);     /* A1 */
  merge(ab, a);
  bytes want = {0};
  by_hex(&want, "43 52 44 54 01 03 00 | 97 01" /* body: 151 bytes */
                "| 02 01 41 02 41 42"          /* "A" < "AB" */
                "| 01 00 | 02 00"
                "| 01 00 01 7a"                /* A1 "z" */
                "| 02 00 00 | 00 82 01");      /* AB1 "", AB2 130 bytes */
  by_rep(&want, 'q', 130);
  by_hex(&want, "00");
  bytes blob = check_golden(ab, &want);
  crdt_orset *d = check_golden_decodes(&blob, ab);
  assert_true(crdt_orset_contains(d, "", 0));
  assert_true(crdt_orset_contains(d, longer, 130));
  assert_false(crdt_orset_contains(d, longer, 129));
  assert_int_equal(crdt_orset_size(d), 3);
  assert_context_text(d, "{A:1, AB:2}");
  crdt_orset_free(d);
  crdt_orset_free(a);
  crdt_orset_free(ab);
  by_free(&want);
  by_free(&blob);
}

/* ---- 2. round trip on random OR-sets ------------------------------------- */

#define NREP 4
#define NELEM 24

typedef struct elem {
  uint8_t b[300];
  size_t n;
} elem;

static char long_id[65];
static const char *rep_ids[NREP];

static void init_ids(void) {
  memset(long_id, 'z', 64);
  long_id[64] = '\0';
  rep_ids[0] = "A";
  rep_ids[1] = "AB";
  rep_ids[2] = "\xc3\xa9t\xc3\xa9\x01\xff";
  rep_ids[3] = long_id;
}

/* Elements: empty, short binary (NULs included), 127/128-byte lengths around
 * the varint boundary, long ones. */
static void make_pool(tu_rng *rng, elem *pool) {
  for (int i = 0; i < NELEM; i++) {
    elem *e = &pool[i];
    unsigned kind = (unsigned)i % 8;
    switch (kind) {
    case 0: e->n = (unsigned)i == 0 ? 0 : 1; break;
    case 1: case 2: e->n = 1 + tu_below(rng, 8); break;
    case 3: e->n = 127; break;
    case 4: e->n = 128; break;
    case 5: e->n = 129 + tu_below(rng, 171); break;
    default: e->n = 2 + tu_below(rng, 10); break;
    }
    for (size_t k = 0; k < e->n; k++) e->b[k] = (uint8_t)tu_rand(rng);
    if (e->n) e->b[0] = (uint8_t)i; /* distinct elements */
    if (kind == 1 && e->n > 1) e->b[1] = 0;
  }
}

/* encode → decode is the identity, the keyed flag survives, and encoding the
 * copy gives the same bytes; with an owner the copy equals too (a delta
 * becomes a plain state). */
static void check_round_trip(crdt_orset *x, bool expect_delta) {
  bytes b = encode(x);
  assert_int_equal(is_delta_blob(&b), expect_delta);
  crdt_orset *y = decode(&b, NULL);
  assert_true(crdt_orset_equal(x, y));
  assert_int_equal(crdt_orset_size(x), crdt_orset_size(y));
  char *tx = tu_object_text(obj(x)), *ty = tu_object_text(obj(y));
  assert_string_equal(tx, ty);
  free(tx);
  free(ty);
  bytes again = encode(y);
  assert_bytes_equal(again.p, again.n, b.p, b.n);
  crdt_orset *z = decode(&b, rep_ids[1]);
  assert_true(crdt_orset_equal(x, z));
  bytes owned = encode(z);
  assert_false(is_delta_blob(&owned));
  if (!expect_delta) assert_bytes_equal(owned.p, owned.n, b.p, b.n);
  by_free(&owned);
  by_free(&again);
  by_free(&b);
  crdt_orset_free(y);
  crdt_orset_free(z);
}

/* Two copies of the same system: `live` goes through the codec now and then
 * (states reloaded with their owner, deltas without), `twin` never does.
 * Every operation is applied to both; they must stay equal. */
typedef struct world {
  crdt_orset *st[NREP];  /* replica states */
  crdt_orset *dl[NREP];  /* deltas a replica has not sent yet */
  crdt_orset *group;     /* every delta sent, joined */
  crdt_orset *recv;      /* receive-only, fed full states */
  bool recv_keyed;       /* recv has not merged a full state yet */
} world;

static void world_init(world *w) {
  for (int r = 0; r < NREP; r++) {
    w->st[r] = set_at(rep_ids[r]);
    w->dl[r] = set_at(NULL);
  }
  w->group = set_at(NULL);
  w->recv = set_at(NULL);
  w->recv_keyed = true;
}

static void world_free(world *w) {
  for (int r = 0; r < NREP; r++) {
    crdt_orset_free(w->st[r]);
    crdt_orset_free(w->dl[r]);
  }
  crdt_orset_free(w->group);
  crdt_orset_free(w->recv);
}

static void reload(crdt_orset **x, const char *owner, bool expect_delta) {
  bytes b = encode(*x);
  assert_int_equal(is_delta_blob(&b), expect_delta);
  crdt_orset *y = decode(&b, owner);
  assert_true(crdt_orset_equal(*x, y));
  crdt_orset_free(*x);
  *x = y;
  by_free(&b);
}

typedef struct world_step {
  unsigned op, r, s, e; /* operation, replica, other replica, element */
  bool with_delta;
} world_step;

static void world_apply(world *w, const world_step *st, const elem *pool) {
  crdt_orset *s = w->st[st->r];
  crdt_orset *delta = st->with_delta ? w->dl[st->r] : NULL;
  const elem *e = &pool[st->e];
  switch (st->op) {
  case 0: case 1: case 2:
    assert_code(crdt_orset_add(s, e->b, e->n, delta), 0);
    break;
  case 3: case 4: {
    int rc = crdt_orset_remove(s, e->b, e->n, delta);
    assert_true(rc == 0 || rc == CRDT_ENOENT);
    assert_false(crdt_orset_contains(s, e->b, e->n));
    break;
  }
  case 5: merge(s, w->st[st->s]); break;
  case 6: /* send a delta group: to one replica and into the group */
    merge(s, w->dl[st->s]);
    merge(w->group, w->dl[st->s]);
    crdt_orset_free(w->dl[st->s]);
    w->dl[st->s] = set_at(NULL);
    break;
  case 7:
    merge(w->recv, w->st[st->s]);
    w->recv_keyed = false;
    break;
  default: break;
  }
}

static void world_check_equal(world *a, world *b) {
  for (int r = 0; r < NREP; r++) {
    assert_true(crdt_orset_equal(a->st[r], b->st[r]));
    assert_true(crdt_orset_equal(a->dl[r], b->dl[r]));
  }
  assert_true(crdt_orset_equal(a->group, b->group));
  assert_true(crdt_orset_equal(a->recv, b->recv));
}

static void run_world(unsigned long long seed, unsigned steps) {
  tu_rng rng = {seed};
  elem *pool = calloc(NELEM, sizeof *pool);
  assert_non_null(pool);
  make_pool(&rng, pool);
  world live, twin;
  world_init(&live);
  world_init(&twin);
  for (unsigned i = 0; i < steps; i++) {
    world_step st = {tu_below(&rng, 9), tu_below(&rng, NREP),
                     tu_below(&rng, NREP), tu_below(&rng, NELEM),
                     tu_below(&rng, 2) == 0};
    world_apply(&live, &st, pool);
    world_apply(&twin, &st, pool);
    if (st.op == 8) { /* live goes through the codec */
      reload(&live.st[st.r], rep_ids[st.r], false);
      reload(&live.dl[st.r], NULL, true);
      reload(&live.group, NULL, true);
      reload(&live.recv, NULL, live.recv_keyed);
    }
    world_check_equal(&live, &twin);
  }
  for (int r = 0; r < NREP; r++) {
    check_round_trip(live.st[r], false);
    check_round_trip(live.dl[r], true);
  }
  check_round_trip(live.group, true);
  check_round_trip(live.recv, live.recv_keyed);
  world_free(&live);
  world_free(&twin);
  free(pool);
}

static void test_codec_round_trip_random_orsets(void **state) {
  (void)state;
  init_ids();
  for (unsigned long long seed = 1; seed <= 12; seed++)
    run_world(seed * 7919, 300);
}

/* ---- 3. canonical bytes -------------------------------------------------- */

static void shuffle(tu_rng *rng, crdt_orset **v, size_t n) {
  for (size_t i = n; i > 1; i--) {
    size_t j = tu_below(rng, (unsigned)i);
    crdt_orset *t = v[i - 1];
    v[i - 1] = v[j];
    v[j] = t;
  }
}

static crdt_orset *copy_of(const crdt_orset *s) {
  crdt_orset *c = NULL;
  assert_code(crdt_orset_copy(s, &c), 0);
  return c;
}

/* The same state reached through different merge orders, at replicas that
 * interned the ids in different orders, and by applying every update's delta
 * in a shuffled order (some twice), encodes to identical bytes. */
static void test_codec_canonical_across_orders_and_replicas(void **state) {
  (void)state;
  init_ids();
  for (unsigned long long seed = 1; seed <= 8; seed++) {
    tu_rng rng = {seed * 104729};
    elem *pool = calloc(NELEM, sizeof *pool);
    assert_non_null(pool);
    make_pool(&rng, pool);
    const char *ids[3] = {rep_ids[2], rep_ids[0], rep_ids[3]};
    crdt_orset *st[3];
    for (int r = 0; r < 3; r++) st[r] = set_at(ids[r]);
    crdt_orset *deltas[400];
    size_t nd = 0;
    for (int i = 0; i < 150; i++) {
      unsigned r = tu_below(&rng, 3), op = tu_below(&rng, 5);
      const elem *e = &pool[tu_below(&rng, NELEM)];
      if (op <= 1) {
        crdt_orset *d = set_at(NULL);
        assert_code(crdt_orset_add(st[r], e->b, e->n, d), 0);
        deltas[nd++] = d;
      } else if (op == 2) {
        crdt_orset *d = set_at(NULL);
        if (crdt_orset_remove(st[r], e->b, e->n, d) == 0)
          deltas[nd++] = d;
        else
          crdt_orset_free(d);
      } else {
        merge(st[r], st[tu_below(&rng, 3)]);
      }
    }
    crdt_orset *x = copy_of(st[0]), *y = copy_of(st[2]), *z = set_at("Z");
    crdt_orset *q = set_at("Q"), *recv = set_at(NULL);
    merge(x, st[2]);
    merge(x, st[1]);
    merge(y, st[1]);
    merge(y, st[0]);
    merge(z, st[1]);
    merge(z, st[0]);
    merge(z, st[2]);
    merge(recv, st[2]);
    merge(recv, st[1]);
    merge(recv, st[0]);
    shuffle(&rng, deltas, nd);
    for (size_t i = 0; i < nd; i++) {
      merge(q, deltas[i]);
      if (tu_below(&rng, 4) == 0) /* a duplicate */
        merge(q, deltas[tu_below(&rng, (unsigned)nd)]);
    }
    bytes bx = encode(x), by = encode(y), bz = encode(z), bq = encode(q),
          br = encode(recv);
    assert_bytes_equal(by.p, by.n, bx.p, bx.n);
    assert_bytes_equal(bz.p, bz.n, bx.p, bx.n);
    assert_bytes_equal(bq.p, bq.n, bx.p, bx.n);
    assert_bytes_equal(br.p, br.n, bx.p, bx.n);
    /* and the bytes decode back to that state */
    crdt_orset *back = decode(&bx, NULL);
    assert_true(crdt_orset_equal(back, q));
    crdt_orset_free(back);
    by_free(&bx);
    by_free(&by);
    by_free(&bz);
    by_free(&bq);
    by_free(&br);
    for (size_t i = 0; i < nd; i++) crdt_orset_free(deltas[i]);
    for (int r = 0; r < 3; r++) crdt_orset_free(st[r]);
    crdt_orset_free(x);
    crdt_orset_free(y);
    crdt_orset_free(z);
    crdt_orset_free(q);
    crdt_orset_free(recv);
    free(pool);
  }
}

/* Equal keyed delta groups built in different orders give identical bytes,
 * markers included. */
static void test_codec_canonical_delta_groups(void **state) {
  (void)state;
  crdt_orset *a = set_at("A"), *b = set_at("B");
  crdt_orset *da[3], *db[2];
  for (int i = 0; i < 3; i++) da[i] = set_at(NULL);
  for (int i = 0; i < 2; i++) db[i] = set_at(NULL);
  add(a, "k1", da[0]);
  add(a, "k2", da[1]);
  del(a, "k1", da[2]);
  add(b, "m", db[0]);
  del(b, "m", db[1]);
  crdt_orset *g1 = set_at(NULL), *g2 = set_at(NULL);
  merge(g1, da[0]);
  merge(g1, da[1]);
  merge(g1, da[2]);
  merge(g1, db[0]);
  merge(g1, db[1]);
  merge(g2, db[1]);
  merge(g2, da[2]);
  merge(g2, db[0]);
  merge(g2, da[1]);
  merge(g2, da[0]);
  merge(g2, da[2]);
  bytes b1 = encode(g1), b2 = encode(g2);
  assert_true(is_delta_blob(&b1));
  assert_bytes_equal(b2.p, b2.n, b1.p, b1.n);
  check_round_trip(g1, true);
  by_free(&b1);
  by_free(&b2);
  for (int i = 0; i < 3; i++) crdt_orset_free(da[i]);
  for (int i = 0; i < 2; i++) crdt_orset_free(db[i]);
  crdt_orset_free(g1);
  crdt_orset_free(g2);
  crdt_orset_free(a);
  crdt_orset_free(b);
}

/* `x` encodes to the bytes of its decoded copy (whose entries are in
 * stream order), and that copy equals `x`. */
static void check_same_bytes_as_decoded(crdt_orset *x) {
  bytes b = encode(x);
  crdt_orset *back = decode(&b, NULL);
  assert_true(crdt_orset_equal(back, x));
  bytes again = encode(back);
  assert_bytes_equal(b.p, b.n, again.p, again.n);
  by_free(&again);
  by_free(&b);
  crdt_orset_free(back);
}

static void add_numbered(crdt_orset *s, const char *prefix, unsigned from,
                         unsigned to, unsigned step) {
  char e[32];
  for (unsigned i = from; i < to; i += step) {
    snprintf(e, sizeof e, "%s%u", prefix, i);
    add(s, e, NULL);
  }
}

static void del_numbered(crdt_orset *s, const char *prefix, unsigned from,
                         unsigned to, unsigned step) {
  char e[32];
  for (unsigned i = from; i < to; i += step) {
    snprintf(e, sizeof e, "%s%u", prefix, i);
    del(s, e, NULL);
  }
}

/* The encoder writes the dot stream straight from the entry array while
 * each replica's dots come in counter order there, and sorts otherwise:
 * entries moved by removals (a dense or a sparse counter range), several
 * replicas, elements with several dots. Every shape gives the bytes of
 * the same state decoded, and the plain one a body built by hand. */
static void test_codec_canonical_whatever_the_entry_order(void **state) {
  (void)state;
  enum { N = 3000 };
  crdt_orset *a = set_at("A");
  add_numbered(a, "e", 0, N, 1); /* dots A1..A3000, in order */
  bytes want = {0}, body = {0};
  by_hex(&body, "01 01 41"); /* R = 1, "A" */
  by_varint(&body, N);       /* prefix */
  by_u8(&body, 0);           /* no runs */
  by_varint(&body, N);       /* dots of A */
  for (unsigned i = 0; i < N; i++) {
    char e[32];
    int len = snprintf(e, sizeof e, "e%u", i);
    by_u8(&body, 0); /* gap 0, new key */
    by_varint(&body, (uint64_t)len);
    by_put(&body, e, (size_t)len);
  }
  by_u8(&body, 0); /* no markers */
  want = blob_of(TAG_ORSET, 0, &body);
  bytes got = encode(a);
  assert_bytes_equal(got.p, got.n, want.p, want.n);
  by_free(&got);
  by_free(&want);
  by_free(&body);

  del_numbered(a, "e", 5, N, 7); /* the last entries move into the holes */
  check_same_bytes_as_decoded(a);
  crdt_orset *sparse = copy_of(a);
  for (unsigned i = 0; i < N; i++) {
    char e[32];
    snprintf(e, sizeof e, "e%u", i);
    if (i % 100 != 3 && i % 7 != 5) del(sparse, e, NULL);
  }
  check_same_bytes_as_decoded(sparse); /* 30 dots over 3000 counters */

  crdt_orset *b = set_at("B");
  add_numbered(b, "f", 0, N, 1);
  merge(b, sparse);
  merge(a, b); /* two replicas; A's dots out of order */
  check_same_bytes_as_decoded(a);
  crdt_orset *in_order = set_at("C");
  add_numbered(in_order, "g", 0, 100, 1);
  merge(b, in_order); /* three replicas, each in order */
  check_same_bytes_as_decoded(b);

  crdt_orset *c = set_at("D");
  add_numbered(c, "e", 0, N, 3); /* concurrent with A's adds: two dots */
  merge(c, a);
  check_same_bytes_as_decoded(c);
  del_numbered(c, "f", 1, N, 2);
  check_same_bytes_as_decoded(c);

  crdt_orset_free(a);
  crdt_orset_free(sparse);
  crdt_orset_free(b);
  crdt_orset_free(in_order);
  crdt_orset_free(c);
}

/* ---- 4. crdt_encode's buffer contract ------------------------------------ */

static void test_codec_encode_buffer_contract(void **state) {
  (void)state;
  crdt_orset *a = set_at("A");
  add(a, "x", NULL);
  add(a, "y", NULL);
  /* 7 header + 1 length + 13 body (01 01 41 02 00 02 00 01 78 00 01 79 00)
   * + 8 checksum */
  const size_t want = 29;
  size_t size = 0;
  assert_code(crdt_encode(obj(a), NULL, 0, &size), CRDT_ENOSPC);
  assert_int_equal(size, want);

  uint8_t *exact = malloc(want); /* exactly sized: ASan sees any overrun */
  assert_non_null(exact);
  size = 0;
  assert_code(crdt_encode(obj(a), exact, want, &size), 0);
  assert_int_equal(size, want);
  assert_true(memcmp(exact, "CRDT\x01\x03\x00\x0d", 8) == 0);

  uint8_t *small = malloc(want - 1);
  assert_non_null(small);
  size = 0;
  assert_code(crdt_encode(obj(a), small, want - 1, &size), CRDT_ENOSPC);
  assert_int_equal(size, want);
  uint8_t one;
  size = 0;
  assert_code(crdt_encode(obj(a), &one, 0, &size), CRDT_ENOSPC);
  assert_int_equal(size, want);

  uint8_t big[64];
  memset(big, 0xEE, sizeof big);
  size = 0;
  assert_code(crdt_encode(obj(a), big, sizeof big, &size), 0);
  assert_int_equal(size, want);
  assert_memory_equal(big, exact, want);
  for (size_t i = want; i < sizeof big; i++) assert_int_equal(big[i], 0xEE);

  assert_code(crdt_encode(NULL, big, sizeof big, &size), CRDT_EINVAL);
  assert_code(crdt_encode(obj(a), big, sizeof big, NULL), CRDT_EINVAL);
  assert_code(crdt_encode(obj(a), NULL, 1, &size), CRDT_EINVAL);
  free(exact);
  free(small);
  crdt_orset_free(a);
}

static int sentinel_storage;
#define SENTINEL ((crdt_object *)(void *)&sentinel_storage)

static void test_codec_decode_invalid_arguments(void **state) {
  (void)state;
  init_ids();
  crdt_orset *a = set_at("A");
  add(a, "x", NULL);
  bytes b = encode(a);
  crdt_object *out = SENTINEL;
  assert_code(crdt_decode(b.p, b.n, NULL, NULL), CRDT_EINVAL);
  assert_code(crdt_decode(NULL, b.n, NULL, &out), CRDT_EINVAL);
  assert_ptr_equal(out, SENTINEL);
  assert_code(crdt_decode(b.p, b.n, "", &out), CRDT_EINVAL);
  assert_ptr_equal(out, SENTINEL);
  assert_code(crdt_decode(b.p, b.n, long_id, &out), 0); /* 64 bytes: fine */
  assert_string_equal(crdt_object_replica(out), long_id);
  crdt_object_free(out);
  char too_long[66];
  memset(too_long, 'r', 65);
  too_long[65] = '\0';
  out = SENTINEL;
  size_t live = tu_alloc_live();
  assert_code(crdt_decode(b.p, b.n, too_long, &out), CRDT_EINVAL);
  assert_ptr_equal(out, SENTINEL);
  assert_int_equal(tu_alloc_live(), live);
  /* No input at all is a blob cut short before its magic. */
  assert_code(crdt_decode(NULL, 0, NULL, &out), CRDT_ETRUNC);
  assert_ptr_equal(out, SENTINEL);
  by_free(&b);
  crdt_orset_free(a);
}

/* The format writes a dot as a gap of at most 2^63 - 1 from the previous
 * one: a first dot at 2^63 encodes, one at 2^63 + 1 is CRDT_ERANGE (only
 * reachable from a decoded context that is already that far). */
static void test_codec_encode_erange_counter_past_2_63(void **state) {
  (void)state;
  /* context {A: 2^63 - 1}; "A" adds x as dot 2^63 */
  bytes b = orset_blob(0, "01 01 41 ff ff ff ff ff ff ff ff 7f 00 00 00");
  crdt_orset *a = decode(&b, "A");
  add(a, "x", NULL);
  bytes want = orset_blob(0, "01 01 41 80 80 80 80 80 80 80 80 80 01 00"
                             "01 fe ff ff ff ff ff ff ff ff 01 01 78 00");
  bytes got = encode(a);
  assert_bytes_equal(got.p, got.n, want.p, want.n);
  crdt_orset_free(a);
  by_free(&b);
  by_free(&got);
  by_free(&want);
  /* context {A: 2^63}; the add is dot 2^63 + 1: gap 2^63 */
  b = orset_blob(0, "01 01 41 80 80 80 80 80 80 80 80 80 01 00 00 00");
  a = decode(&b, "A");
  add(a, "x", NULL);
  size_t live = tu_alloc_live(), size = 7;
  uint8_t buf[64];
  assert_code(crdt_encode(obj(a), buf, sizeof buf, &size), CRDT_ERANGE);
  assert_code(crdt_encode(obj(a), NULL, 0, &size), CRDT_ERANGE);
  assert_int_equal(tu_alloc_live(), live);
  crdt_orset_free(a);
  by_free(&b);
}

/* ---- 5. crdt_peek -------------------------------------------------------- */

static void test_codec_peek_valid_blobs(void **state) {
  (void)state;
  crdt_blob_info info;
  bytes state_blob = orset_blob(0, "01 01 41 01 00 01 00 01 78 00");
  memset(&info, 0x5a, sizeof info);
  assert_code(crdt_peek(state_blob.p, state_blob.n, &info), 0);
  assert_int_equal(info.version, 1);
  assert_int_equal(info.type, CRDT_TYPE_ORSET);
  assert_false(info.is_context);
  assert_false(info.is_delta);

  bytes delta_blob = orset_blob(KEYED, "00 01 01 78");
  assert_code(crdt_peek(delta_blob.p, delta_blob.n, &info), 0);
  assert_int_equal(info.type, CRDT_TYPE_ORSET);
  assert_true(info.is_delta);

  bytes ctx_body = {0};
  by_hex(&ctx_body, "01 01 41 01 00");
  bytes token = blob_of(TAG_CONTEXT, 0, &ctx_body);
  assert_code(crdt_peek(token.p, token.n, &info), 0);
  assert_true(info.is_context);
  assert_int_equal(info.type, 0);
  assert_false(info.is_delta);

  /* Every known type tag. */
  for (uint8_t tag = 1; tag <= 7; tag++) {
    bytes t = blob_of(tag, 0, &ctx_body);
    assert_code(crdt_peek(t.p, t.n, &info), 0);
    assert_int_equal(info.type, tag);
    assert_false(info.is_context);
    by_free(&t);
  }

  /* The header alone is enough: peek reads neither length nor checksum. */
  assert_code(crdt_peek(state_blob.p, 7, &info), 0);
  state_blob.p[state_blob.n - 1] ^= 0x01;
  assert_code(crdt_peek(state_blob.p, state_blob.n, &info), 0);
  by_free(&state_blob);
  by_free(&delta_blob);
  by_free(&ctx_body);
  by_free(&token);
}

static void expect_peek(const char *hex, size_t extra_len, int code) {
  bytes b = {0};
  by_hex(&b, hex);
  size_t n = b.n;
  by_rep(&b, 0, extra_len);
  crdt_blob_info info;
  assert_code(crdt_peek(b.p, n + extra_len, &info), code);
  by_free(&b);
}

static void test_codec_peek_header_errors(void **state) {
  (void)state;
  crdt_blob_info info;
  uint8_t ok[] = {'C', 'R', 'D', 'T', 1, 3, 0};
  assert_code(crdt_peek(ok, sizeof ok, NULL), CRDT_EINVAL);
  assert_code(crdt_peek(NULL, 7, &info), CRDT_EINVAL);
  assert_code(crdt_peek(NULL, 0, &info), CRDT_ETRUNC);
  assert_code(crdt_peek(ok, 0, &info), CRDT_ETRUNC);
  expect_peek("43 52", 0, CRDT_ETRUNC);            /* "CR": magic so far */
  expect_peek("43 52 44", 0, CRDT_ETRUNC);
  expect_peek("58", 0, CRDT_EMAGIC);               /* "X" */
  expect_peek("43 52 44 58 01 03 00", 0, CRDT_EMAGIC); /* "CRDX" */
  expect_peek("63 72 64 74 01 03 00", 0, CRDT_EMAGIC); /* "crdt" */
  expect_peek("43 52 44 54", 0, CRDT_ETRUNC);      /* magic, no header */
  expect_peek("43 52 44 54 01 03", 0, CRDT_ETRUNC);
  expect_peek("43 52 44 54 00 03 00", 0, CRDT_EVERSION);
  expect_peek("43 52 44 54 02 03 00", 0, CRDT_EVERSION);
  expect_peek("43 52 44 54 ff 03 00", 0, CRDT_EVERSION);
  expect_peek("43 52 44 54 01 00 00", 0, CRDT_EBADTYPE);
  expect_peek("43 52 44 54 01 09 00", 0, CRDT_EBADTYPE);
  expect_peek("43 52 44 54 01 0f 00", 0, CRDT_EBADTYPE);
  expect_peek("43 52 44 54 01 11 00", 0, CRDT_EBADTYPE);
  expect_peek("43 52 44 54 01 ff 00", 0, CRDT_EBADTYPE);
  expect_peek("43 52 44 54 01 03 02", 0, CRDT_EFORMAT);
  expect_peek("43 52 44 54 01 03 80", 0, CRDT_EFORMAT);
  expect_peek("43 52 44 54 01 03 03", 0, CRDT_EFORMAT);
  expect_peek("43 52 44 54 01 10 01", 0, CRDT_EFORMAT); /* token: flags 0 */
  /* In the order the spec gives: version, then tag, then flags. */
  expect_peek("43 52 44 54 02 63 80", 0, CRDT_EVERSION);
  expect_peek("43 52 44 54 01 63 80", 0, CRDT_EBADTYPE);
}

/* ---- 6. decoder errors, one by one --------------------------------------- */

/* Decoding fails with exactly `code`, leaves *out alone and frees what it
 * allocated; the same with an owner replica. */
static void expect_decode_error(const bytes *b, int code) {
  size_t live = tu_alloc_live();
  crdt_object *out = SENTINEL;
  /* an exact copy, so ASan flags any read past the input */
  uint8_t *copy = malloc(b->n ? b->n : 1);
  assert_non_null(copy);
  if (b->n) memcpy(copy, b->p, b->n);
  assert_code(crdt_decode(copy, b->n, NULL, &out), code);
  assert_ptr_equal(out, SENTINEL);
  assert_code(crdt_decode(copy, b->n, "A", &out), code);
  assert_ptr_equal(out, SENTINEL);
  assert_int_equal(tu_alloc_live(), live);
  free(copy);
}

static void expect_raw(const char *hex, int code) {
  bytes b = {0};
  by_hex(&b, hex);
  expect_decode_error(&b, code);
  by_free(&b);
}

static void expect_body(uint8_t flags, const char *body_hex, int code) {
  bytes b = orset_blob(flags, body_hex);
  expect_decode_error(&b, code);
  by_free(&b);
}

static void expect_body_ok(uint8_t flags, const char *body_hex) {
  bytes b = orset_blob(flags, body_hex);
  crdt_orset *s = decode(&b, NULL);
  bytes again = encode(s);
  assert_bytes_equal(again.p, again.n, b.p, b.n);
  by_free(&again);
  crdt_orset_free(s);
  by_free(&b);
}

/* G2 of the golden vectors: {"x"} added at "A". */
#define ONE_ADD_BODY "01 01 41 01 00 01 00 01 78 00"
/* The same with a marker "y" (valid only in a keyed delta). */
#define ONE_ADD_BODY_MARKED "01 01 41 01 00 01 00 01 78 01 01 79"

static bytes one_add_blob(void) { return orset_blob(0, ONE_ADD_BODY); }

static void test_codec_decode_emagic(void **state) {
  (void)state;
  bytes b = one_add_blob();
  b.p[0] = 'X';
  expect_decode_error(&b, CRDT_EMAGIC);
  b.p[0] = 'C';
  b.p[3] = 'X';
  expect_decode_error(&b, CRDT_EMAGIC);
  expect_raw("58", CRDT_EMAGIC); /* shorter than the magic, not matching */
  by_free(&b);
}

static void test_codec_decode_etrunc_in_header(void **state) {
  (void)state;
  expect_raw("", CRDT_ETRUNC);
  expect_raw("43 52 44", CRDT_ETRUNC);
  expect_raw("43 52 44 54 01 03", CRDT_ETRUNC);
  expect_raw("43 52 44 54 01 03 00", CRDT_ETRUNC); /* no body length */
}

static void test_codec_decode_etrunc_in_body_length(void **state) {
  (void)state;
  expect_raw("43 52 44 54 01 03 00 80", CRDT_ETRUNC);
  expect_raw("43 52 44 54 01 03 00 97", CRDT_ETRUNC);
  expect_raw("43 52 44 54 01 03 00 ff ff ff", CRDT_ETRUNC);
}

static void test_codec_decode_etrunc_blob_cut_short(void **state) {
  (void)state;
  bytes b = one_add_blob();
  size_t n = b.n;
  b.n = n - 1; /* last checksum byte missing */
  expect_decode_error(&b, CRDT_ETRUNC);
  b.n = n - 8; /* no checksum */
  expect_decode_error(&b, CRDT_ETRUNC);
  b.n = n - 9; /* body cut */
  expect_decode_error(&b, CRDT_ETRUNC);
  by_free(&b);
}

static void test_codec_decode_etrunc_structure_past_body(void **state) {
  (void)state;
  expect_body(0, "01 01 41 01", CRDT_ETRUNC);             /* runs missing */
  expect_body(0, "01 01 41 00 01 00 80", CRDT_ETRUNC);    /* extra cut */
  expect_body(0, "01 01 41 01 00 01 80", CRDT_ETRUNC);    /* dot head cut */
  expect_body(0, "01 01 41 01 00 01 01", CRDT_ETRUNC);    /* entry missing */
  expect_body(0, "01 01 41 01 00 01 00 01 78", CRDT_ETRUNC); /* no markers */
  expect_body(0, "00", CRDT_ETRUNC);
  expect_body(0, "", CRDT_ETRUNC);
}

static void test_codec_decode_etrailing_after_checksum(void **state) {
  (void)state;
  bytes b = one_add_blob();
  by_u8(&b, 0x00);
  expect_decode_error(&b, CRDT_ETRAILING);
  by_free(&b);
}

static void test_codec_decode_etrailing_inside_body(void **state) {
  (void)state;
  expect_body(0, "00 00 00", CRDT_ETRAILING);
  expect_body(0, ONE_ADD_BODY " 00", CRDT_ETRAILING);
  expect_body(KEYED, "00 01 01 78 78", CRDT_ETRAILING);
}

static void test_codec_decode_echecksum(void **state) {
  (void)state;
  bytes b = one_add_blob();
  b.p[10] ^= 0x01; /* a body byte: "A" becomes "@" */
  expect_decode_error(&b, CRDT_ECHECKSUM);
  b.p[10] ^= 0x01;
  b.p[b.n - 8] ^= 0x80; /* the checksum itself */
  expect_decode_error(&b, CRDT_ECHECKSUM);
  b.p[b.n - 8] ^= 0x80;
  b.p[6] = KEYED; /* header bytes are covered too */
  expect_decode_error(&b, CRDT_ECHECKSUM);
  by_free(&b);
}

static void test_codec_decode_eversion(void **state) {
  (void)state;
  bytes b = one_add_blob();
  b.p[4] = 2;
  refresh_checksum(&b);
  expect_decode_error(&b, CRDT_EVERSION);
  b.p[4] = 0;
  expect_decode_error(&b, CRDT_EVERSION); /* before the checksum */
  by_free(&b);
}

static void test_codec_decode_ebadtype_unknown_tag(void **state) {
  (void)state;
  const uint8_t tags[] = {0, 9, 0x0f, 0x11, 0x80, 0xff}; /* 7, 8: flag, map */
  for (size_t i = 0; i < sizeof tags; i++) {
    bytes b = one_add_blob();
    b.p[5] = tags[i];
    refresh_checksum(&b);
    expect_decode_error(&b, CRDT_EBADTYPE);
    by_free(&b);
  }
}

static void test_codec_decode_ebadtype_context_token(void **state) {
  (void)state;
  bytes body = {0};
  by_hex(&body, "01 01 41 01 00"); /* a well-formed context {A:1} */
  bytes token = blob_of(TAG_CONTEXT, 0, &body);
  expect_decode_error(&token, CRDT_EBADTYPE);
  by_free(&token);
  /* a token with the keyed flag is malformed before it is unexpected */
  token = blob_of(TAG_CONTEXT, KEYED, &body);
  expect_decode_error(&token, CRDT_EFORMAT);
  by_free(&body);
  by_free(&token);
}

static void test_codec_decode_eformat_unknown_flag(void **state) {
  (void)state;
  const uint8_t flags[] = {0x02, 0x03, 0x80, 0xff};
  for (size_t i = 0; i < sizeof flags; i++) {
    bytes body = {0};
    by_hex(&body, ONE_ADD_BODY);
    bytes b = blob_of(TAG_ORSET, flags[i], &body);
    expect_decode_error(&b, CRDT_EFORMAT);
    by_free(&b);
    by_free(&body);
  }
}

static void test_codec_decode_eformat_overlong_varint(void **state) {
  (void)state;
  /* body length 10 written as 8a 00 */
  bytes b = {0};
  by_hex(&b, "43 52 44 54 01 03 00 8a 00 " ONE_ADD_BODY);
  by_checksum(&b);
  expect_decode_error(&b, CRDT_EFORMAT);
  by_free(&b);
  expect_body(0, "81 00 01 41 01 00 01 00 01 78 00", CRDT_EFORMAT); /* R */
  expect_body(0, "01 01 41 81 00 00 01 00 01 78 00", CRDT_EFORMAT); /* prefix */
  expect_body(0, "80 00 00", CRDT_EFORMAT);                  /* zero, 2 bytes */
  expect_body(0, "01 01 41 01 00 01 00 01 78 80 80 00", CRDT_EFORMAT);
}

static void test_codec_decode_eformat_unreferenced_replica(void **state) {
  (void)state;
  expect_body(0, "01 01 41 00 00 00 00", CRDT_EFORMAT);
  /* a second, unreferenced id after a referenced one */
  expect_body(0, "02 01 41 01 42 01 00 00 00 01 00 01 78 00 00", CRDT_EFORMAT);
}

static void test_codec_decode_eformat_markers_without_keyed_flag(void **state) {
  (void)state;
  expect_body(0, "00 01 01 78", CRDT_EFORMAT);
  expect_body(0, ONE_ADD_BODY_MARKED, CRDT_EFORMAT);
  expect_body_ok(KEYED, "00 01 01 78");
  expect_body_ok(KEYED, ONE_ADD_BODY_MARKED);
}

static void test_codec_decode_eformat_undefined_entry(void **state) {
  (void)state;
  expect_body(0, "01 01 41 01 00 01 01 00 00", CRDT_EFORMAT);
  expect_body(0, "01 01 41 02 00 02 00 01 78 01 01 00", CRDT_EFORMAT);
  expect_body_ok(0, "01 01 41 02 00 02 00 01 78 01 00 00"); /* entry 0: ok */
}

static void test_codec_decode_eformat_bad_replica_id(void **state) {
  (void)state;
  expect_body(0, "01 01 00 01 00 00 00", CRDT_EFORMAT);       /* "\0" */
  expect_body(0, "01 03 41 00 42 01 00 00 00", CRDT_EFORMAT); /* "A\0B" */
  expect_body(0, "01 00 01 00 00 00", CRDT_EFORMAT);          /* empty */
  bytes body = {0};
  by_hex(&body, "01 41");
  by_rep(&body, 'a', 65);
  by_hex(&body, "01 00 00 00");
  bytes b = blob_of(TAG_ORSET, 0, &body);
  expect_decode_error(&b, CRDT_EFORMAT);
  by_free(&b);
  by_free(&body);
  /* 64 bytes is the longest valid id */
  by_hex(&body, "01 40");
  by_rep(&body, 'a', 64);
  by_hex(&body, "01 00 00 00");
  b = blob_of(TAG_ORSET, 0, &body);
  crdt_orset *s = decode(&b, NULL);
  crdt_orset_free(s);
  by_free(&b);
  by_free(&body);
}

static void test_codec_decode_eorder_replica_ids(void **state) {
  (void)state;
  /* "B" before "A" */
  expect_body(0, "02 01 42 01 41 01 00 01 00 00 00 00", CRDT_EORDER);
  /* "A" twice */
  expect_body(0, "02 01 41 01 41 01 00 01 00 00 00 00", CRDT_EORDER);
  /* "AB" before its prefix "A" */
  expect_body(0, "02 02 41 42 01 41 01 00 01 00 00 00 00", CRDT_EORDER);
  expect_body_ok(0, "02 01 41 02 41 42 01 00 01 00 00 00 00");
}

static void test_codec_decode_eorder_key_defined_twice(void **state) {
  (void)state;
  expect_body(0, "01 01 41 02 00 02 00 01 78 00 01 78 00", CRDT_EORDER);
  /* across replicas too */
  expect_body(0, "02 01 41 01 42 01 00 01 00 01 00 01 78 01 00 01 78 00",
              CRDT_EORDER);
}

static void test_codec_decode_eorder_markers(void **state) {
  (void)state;
  expect_body(KEYED, "00 02 01 62 01 61", CRDT_EORDER);    /* "b", "a" */
  expect_body(KEYED, "00 02 01 61 01 61", CRDT_EORDER);    /* duplicate */
  expect_body(KEYED, "00 02 02 61 62 01 61", CRDT_EORDER); /* "ab", "a" */
  expect_body(KEYED, "00 02 01 61 00", CRDT_EORDER);       /* "a", "" */
  expect_body_ok(KEYED, "00 03 00 01 61 02 61 62");       /* "", "a", "ab" */
}

static void test_codec_decode_eorder_marker_with_dots(void **state) {
  (void)state;
  expect_body(KEYED, "01 01 41 01 00 01 00 01 78 01 01 78", CRDT_EORDER);
}

static void test_codec_decode_edot(void **state) {
  (void)state;
  /* context {A:1}, dot A2 */
  expect_body(0, "01 01 41 01 00 01 02 01 78 00", CRDT_EDOT);
  /* context {} + {A:3}, dot A2 (in the hole) and dot A4 (past the run) */
  expect_body(0, "01 01 41 00 01 01 00 01 02 01 78 00", CRDT_EDOT);
  expect_body(0, "01 01 41 00 01 01 00 01 06 01 78 00", CRDT_EDOT);
  expect_body_ok(0, "01 01 41 00 01 01 00 01 04 01 78 00"); /* A3: ok */
}

static void test_codec_decode_eoverflow_varint(void **state) {
  (void)state;
  /* prefix written with 11 bytes; then with a 10th byte of 2 */
  expect_body(0, "01 01 41 ff ff ff ff ff ff ff ff ff ff 01 00 00 00",
              CRDT_EOVERFLOW);
  expect_body(0, "01 01 41 ff ff ff ff ff ff ff ff ff 02 00 00 00",
              CRDT_EOVERFLOW);
  /* the body length, too */
  expect_raw("43 52 44 54 01 03 00 ff ff ff ff ff ff ff ff ff 02",
             CRDT_EOVERFLOW);
  /* 2^64 - 1 is the largest prefix: valid */
  expect_body_ok(0, "01 01 41 ff ff ff ff ff ff ff ff ff 01 00 00 00");
}

static void test_codec_decode_eoverflow_context_counter(void **state) {
  (void)state;
  /* prefix 2^64-1, then a run: its start would be 2^64 + 1 */
  expect_body(0, "01 01 41 ff ff ff ff ff ff ff ff ff 01 01 00 00 00 00",
              CRDT_EOVERFLOW);
  /* prefix 2^64-2: the run would start at 2^64 */
  expect_body(0, "01 01 41 fe ff ff ff ff ff ff ff ff 01 01 00 00 00 00",
              CRDT_EOVERFLOW);
  /* prefix 2^64-3: a run at 2^64-1 fits, one more dot (extra 1) does not,
   * nor does a gap of 1 */
  expect_body_ok(0, "01 01 41 fd ff ff ff ff ff ff ff ff 01 01 00 00 00 00");
  expect_body(0, "01 01 41 fd ff ff ff ff ff ff ff ff 01 01 00 01 00 00",
              CRDT_EOVERFLOW);
  expect_body(0, "01 01 41 fd ff ff ff ff ff ff ff ff 01 01 01 00 00 00",
              CRDT_EOVERFLOW);
  /* read tokens share the context decoder */
  bytes body = {0};
  by_hex(&body, "01 01 41 ff ff ff ff ff ff ff ff ff 01 01 00 00");
  bytes token = blob_of(TAG_CONTEXT, 0, &body);
  crdt_context *ctx = NULL;
  size_t live = tu_alloc_live();
  assert_code(crdt_context_decode(token.p, token.n, &ctx), CRDT_EOVERFLOW);
  assert_null(ctx);
  assert_int_equal(tu_alloc_live(), live);
  by_free(&token);
  by_free(&body);
  by_hex(&body, "01 01 41 fd ff ff ff ff ff ff ff ff 01 01 00 00");
  token = blob_of(TAG_CONTEXT, 0, &body);
  assert_code(crdt_context_decode(token.p, token.n, &ctx), 0);
  assert_int_equal(crdt_context_prefix(ctx, "A"), UINT64_MAX - 2);
  assert_int_equal(crdt_context_cloud_size(ctx), 1);
  crdt_context_free(ctx);
  by_free(&token);
  by_free(&body);
}

static void test_codec_decode_eoverflow_dot_counter(void **state) {
  (void)state;
  /* context {A:2^64-1}; dots at 2^63 and 2^64-1, then one more */
  expect_body(0, "01 01 41 ff ff ff ff ff ff ff ff ff 01 00"
                 "03 fe ff ff ff ff ff ff ff ff 01 01 61"
                 "   fc ff ff ff ff ff ff ff ff 01 01 62"
                 "   00 01 63 00",
              CRDT_EOVERFLOW);
  /* the same with the third dot referring to an entry */
  expect_body(0, "01 01 41 ff ff ff ff ff ff ff ff ff 01 00"
                 "03 fe ff ff ff ff ff ff ff ff 01 01 61"
                 "   fc ff ff ff ff ff ff ff ff 01 01 62"
                 "   01 00 00",
              CRDT_EOVERFLOW);
  /* two gaps of 2^63-1: the second dot would be 2^64 */
  expect_body(0, "01 01 41 ff ff ff ff ff ff ff ff ff 01 00"
                 "02 fe ff ff ff ff ff ff ff ff 01 01 61"
                 "   fe ff ff ff ff ff ff ff ff 01 01 62 00",
              CRDT_EOVERFLOW);
  /* the first two alone are fine */
  expect_body_ok(0, "01 01 41 ff ff ff ff ff ff ff ff ff 01 00"
                    "02 fe ff ff ff ff ff ff ff ff 01 01 61"
                    "   fc ff ff ff ff ff ff ff ff 01 01 62 00");
}

static void test_codec_decode_elength_key(void **state) {
  (void)state;
  expect_body(0, "01 01 41 01 00 01 00 05 78 00", CRDT_ELENGTH);
  /* longer than any key may be (2^35 - 1 bytes) */
  expect_body(0, "01 01 41 01 00 01 00 ff ff ff ff 7f 78 00", CRDT_ELENGTH);
  expect_body(KEYED, "00 01 05 61", CRDT_ELENGTH); /* a marker key */
  expect_body(0, "01 05 41 01 00", CRDT_ELENGTH);  /* a replica id */
}

static void test_codec_decode_elength_count(void **state) {
  (void)state;
  expect_body(0, "05 01 41 01 00 00 00", CRDT_ELENGTH);       /* replicas */
  expect_body(0, "01 01 41 00 05 00 00 00 00", CRDT_ELENGTH); /* runs */
  expect_body(0, "01 01 41 01 00 05 00 01 78 00", CRDT_ELENGTH); /* dots */
  expect_body(KEYED, "00 05 01 61 00", CRDT_ELENGTH);         /* markers */
}

/* R = 1 "A", prefix 0, one run per extra (gap 0), no dots, no markers. */
static bytes cloud_body(const uint64_t *extra, size_t runs) {
  bytes body = {0};
  by_hex(&body, "01 01 41 00");
  by_varint(&body, runs);
  for (size_t i = 0; i < runs; i++) {
    by_hex(&body, "00");
    by_varint(&body, extra[i]);
  }
  by_hex(&body, "00 00");
  return body;
}

static uint64_t cloud_budget(size_t body_len) {
  return 16 * (uint64_t)body_len + 4096;
}

static void test_codec_decode_etoomany_cloud(void **state) {
  (void)state;
  /* The budget is 16 dots per body byte plus 4096. A 10-byte body (extra
   * takes 2 bytes) may hold 4256 cloud dots: a run of 4256 is fine, 4257
   * is not. */
  uint64_t extra = 4255;
  bytes body = cloud_body(&extra, 1);
  assert_int_equal(body.n, 10);
  assert_int_equal(cloud_budget(body.n), extra + 1);
  bytes b = blob_of(TAG_ORSET, 0, &body);
  crdt_orset *s = decode(&b, NULL);
  bytes again = encode(s);
  assert_bytes_equal(again.p, again.n, b.p, b.n);
  crdt_orset_free(s);
  by_free(&again);
  by_free(&b);
  by_free(&body);
  extra = 4256;
  body = cloud_body(&extra, 1);
  assert_int_equal(body.n, 10);
  b = blob_of(TAG_ORSET, 0, &body);
  expect_decode_error(&b, CRDT_ETOOMANY);
  by_free(&b);
  by_free(&body);
  /* the budget counts every run: two runs under it, together over it */
  uint64_t two[2] = {3000, 1400};
  body = cloud_body(two, 2);
  assert_true(two[0] + two[1] + 2 > cloud_budget(body.n));
  b = blob_of(TAG_ORSET, 0, &body);
  expect_decode_error(&b, CRDT_ETOOMANY);
  by_free(&b);
  by_free(&body);
  /* and every replica */
  bytes two_reps = {0};
  by_hex(&two_reps, "02 01 41 01 42 00 01 00");
  by_varint(&two_reps, 2199);
  by_hex(&two_reps, "00 01 00");
  by_varint(&two_reps, 2199);
  by_hex(&two_reps, "00 00 00");
  assert_true(4400 > cloud_budget(two_reps.n));
  b = blob_of(TAG_ORSET, 0, &two_reps);
  expect_decode_error(&b, CRDT_ETOOMANY);
  by_free(&b);
  by_free(&two_reps);
  /* a run of 2^40 dots */
  extra = (uint64_t)1 << 40;
  body = cloud_body(&extra, 1);
  b = blob_of(TAG_ORSET, 0, &body);
  expect_decode_error(&b, CRDT_ETOOMANY);
  by_free(&b);
  by_free(&body);
}

/* ---- 7. truncation and corruption sweep ---------------------------------- */

/* A mid-size state: three replicas, concurrent adds, removes, a cloud from
 * lost deltas, empty, binary and long elements. keyed: a delta group of the
 * same history instead. */
static crdt_orset *mid_state(bool keyed) {
  crdt_orset *a = set_at("A"), *b = set_at("B"), *c = set_at("C");
  crdt_orset *group = set_at(NULL);
  char e[200];
  for (int i = 0; i < 30; i++) {
    int n = snprintf(e, sizeof e, "element-%d", i);
    assert_code(crdt_orset_add(a, e, (size_t)n, group), 0);
  }
  memset(e, 'L', sizeof e);
  assert_code(crdt_orset_add(b, e, sizeof e, group), 0);
  assert_code(crdt_orset_add(b, "", 0, group), 0);
  assert_code(crdt_orset_add(b, "\0\x01\xff", 3, group), 0);
  add(b, "element-3", group); /* concurrent with A's */
  for (int i = 0; i < 30; i += 4) {
    snprintf(e, sizeof e, "element-%d", i);
    del(a, e, group);
  }
  for (int i = 0; i < 6; i++) {
    crdt_orset *d = set_at(NULL);
    snprintf(e, sizeof e, "c-%d", i);
    add(c, e, d);
    if (i % 3 != 1) {
      merge(a, d); /* C's deltas 2 and 5 are lost on the way to A */
      merge(group, d);
    }
    crdt_orset_free(d);
  }
  merge(a, b);
  crdt_orset *out = keyed ? group : a;
  if (keyed)
    crdt_orset_free(a);
  else
    crdt_orset_free(group);
  crdt_orset_free(b);
  crdt_orset_free(c);
  return out;
}

/* Decoding `data` either fails with a negative code and leaves *out alone,
 * or succeeds with a state that re-encodes to exactly `data`. */
static void decode_fails_or_is_canonical(const uint8_t *data, size_t n) {
  uint8_t *copy = malloc(n ? n : 1);
  assert_non_null(copy);
  if (n) memcpy(copy, data, n);
  crdt_object *out = SENTINEL;
  int rc = crdt_decode(copy, n, NULL, &out);
  if (rc == 0) {
    size_t size = 0;
    assert_code(crdt_encode(out, NULL, 0, &size), CRDT_ENOSPC);
    uint8_t *again = malloc(size);
    assert_non_null(again);
    assert_code(crdt_encode(out, again, size, &size), 0);
    assert_bytes_equal(again, size, data, n);
    free(again);
    crdt_object_free(out);
  } else {
    assert_true(rc < 0);
    assert_ptr_equal(out, SENTINEL);
  }
  free(copy);
}

static void sweep(const bytes *blob) {
  size_t live = tu_alloc_live();
  /* every strict prefix is a truncated blob */
  for (size_t n = 0; n < blob->n; n++) {
    bytes cut = {0};
    by_put(&cut, blob->p, n);
    expect_decode_error(&cut, CRDT_ETRUNC);
    by_free(&cut);
  }
  /* single-byte flips, checksum left as it was: always rejected */
  const uint8_t masks[] = {0x01, 0x80, 0xff};
  for (size_t at = 0; at < blob->n; at++)
    for (size_t m = 0; m < sizeof masks; m++) {
      bytes bad = by_copy(blob);
      bad.p[at] ^= masks[m];
      crdt_object *out = SENTINEL;
      assert_true(crdt_decode(bad.p, bad.n, NULL, &out) < 0);
      assert_ptr_equal(out, SENTINEL);
      by_free(&bad);
    }
  /* every value at every position before the checksum, checksum made
   * right: rejected, or canonical */
  for (size_t at = 0; at + 8 < blob->n; at++)
    for (unsigned v = 0; v < 256; v++) {
      bytes edit = by_copy(blob);
      edit.p[at] = (uint8_t)v;
      refresh_checksum(&edit);
      decode_fails_or_is_canonical(edit.p, edit.n);
      by_free(&edit);
    }
  assert_int_equal(tu_alloc_live(), live);
}

static void test_codec_sweep_small_blobs(void **state) {
  (void)state;
  const char *bodies[] = {
      ONE_ADD_BODY,
      "01 01 41 01 01 00 01 01 06 01 7a 01 01 78", /* keyed, with a marker */
      "01 01 42 00 02 00 00 00 01 03 02 01 71 02 01 73 00 01 74 00",
      "02 01 41 01 42 01 00 02 00 01 00 01 78 02 01 00 00 01 79 00",
  };
  const uint8_t flags[] = {0, KEYED, 0, 0};
  for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
    bytes b = orset_blob(flags[i], bodies[i]);
    crdt_orset *s = decode(&b, NULL); /* each is valid to begin with */
    crdt_orset_free(s);
    sweep(&b);
    by_free(&b);
  }
}

/* The body of a blob framed by blob_of / crdt_encode. */
static bytes body_of(const bytes *blob) {
  size_t at = 7;
  uint64_t len = 0;
  for (unsigned shift = 0;; shift += 7) {
    uint8_t byte = blob->p[at++];
    len |= (uint64_t)(byte & 0x7F) << shift;
    if (!(byte & 0x80)) break;
  }
  assert_int_equal(at + len + 8, blob->n);
  bytes body = {0};
  by_put(&body, blob->p + at, (size_t)len);
  return body;
}

/* Random edits of a mid-size body, framed again with the right length and
 * checksum, so the body checks are what is exercised. */
static void test_codec_sweep_mid_size_blobs(void **state) {
  (void)state;
  tu_rng rng = {0x5eed};
  for (int keyed = 0; keyed <= 1; keyed++) {
    crdt_orset *s = mid_state(keyed);
    bytes blob = encode(s);
    assert_true(blob.n > 300);
    for (size_t n = 0; n < blob.n; n += 1 + blob.n / 97) {
      bytes cut = {0};
      by_put(&cut, blob.p, n);
      expect_decode_error(&cut, CRDT_ETRUNC);
      by_free(&cut);
    }
    bytes body = body_of(&blob);
    for (int iter = 0; iter < 3000; iter++) {
      bytes edit = by_copy(&body);
      unsigned edits = 1 + tu_below(&rng, 3);
      for (unsigned k = 0; k < edits && edit.n; k++) {
        size_t at = tu_below(&rng, (unsigned)edit.n);
        switch (tu_below(&rng, 4)) {
        case 0: edit.p[at] = (uint8_t)tu_rand(&rng); break;
        case 1: edit.p[at] ^= (uint8_t)(1u << tu_below(&rng, 8)); break;
        case 2: /* delete a byte */
          memmove(edit.p + at, edit.p + at + 1, edit.n - at - 1);
          edit.n--;
          break;
        default: { /* insert a byte */
          by_u8(&edit, 0);
          memmove(edit.p + at + 1, edit.p + at, edit.n - at - 1);
          edit.p[at] = (uint8_t)tu_rand(&rng);
          break;
        }
        }
      }
      bytes framed = blob_of(TAG_ORSET, keyed ? KEYED : 0, &edit);
      decode_fails_or_is_canonical(framed.p, framed.n);
      by_free(&framed);
      by_free(&edit);
    }
    /* every value at a few positions */
    for (int k = 0; k < 8; k++) {
      size_t at = tu_below(&rng, (unsigned)body.n);
      for (unsigned v = 0; v < 256; v++) {
        bytes edit = by_copy(&body);
        edit.p[at] = (uint8_t)v;
        bytes framed = blob_of(TAG_ORSET, keyed ? KEYED : 0, &edit);
        decode_fails_or_is_canonical(framed.p, framed.n);
        by_free(&framed);
        by_free(&edit);
      }
    }
    by_free(&body);
    by_free(&blob);
    crdt_orset_free(s);
  }
}

/* ---- 8. allocation failure ----------------------------------------------- */

static char *text_dup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  assert_non_null(d);
  memcpy(d, s, n);
  return d;
}

static bytes oom_blob;
static const char *oom_owner;

typedef struct decode_fixture {
  crdt_object *out;
} decode_fixture;

static void *decode_setup(void) {
  decode_fixture *f = malloc(sizeof *f);
  assert_non_null(f);
  f->out = SENTINEL;
  return f;
}

static int decode_run(void *p) {
  decode_fixture *f = p;
  return crdt_decode(oom_blob.p, oom_blob.n, oom_owner, &f->out);
}

static char *decode_snapshot(void *p) {
  decode_fixture *f = p;
  return f->out == SENTINEL ? text_dup("untouched") : tu_object_text(f->out);
}

static void decode_teardown(void *p) {
  decode_fixture *f = p;
  if (f->out != SENTINEL) crdt_object_free(f->out);
  free(f);
}

static void test_codec_decode_out_of_memory(void **state) {
  (void)state;
  static const tu_oom_case c = {"crdt_decode", decode_setup, decode_run,
                                decode_snapshot, decode_teardown};
  for (int keyed = 0; keyed <= 1; keyed++)
    for (int owned = 0; owned <= 1; owned++) {
      crdt_orset *s = mid_state(keyed);
      oom_blob = encode(s);
      crdt_orset_free(s);
      oom_owner = owned ? "A" : NULL;
      unsigned points = tu_check_oom(&c);
      assert_true(points >= 5);
      by_free(&oom_blob);
    }
}

static bool oom_keyed;

typedef struct encode_fixture {
  crdt_orset *set;
  uint8_t *buf;
  size_t cap;
} encode_fixture;

static void *encode_setup(void) {
  encode_fixture *f = malloc(sizeof *f);
  assert_non_null(f);
  f->set = mid_state(oom_keyed);
  f->cap = 0;
  assert_code(crdt_encode(obj(f->set), NULL, 0, &f->cap), CRDT_ENOSPC);
  f->buf = malloc(f->cap);
  assert_non_null(f->buf);
  return f;
}

static int encode_run(void *p) {
  encode_fixture *f = p;
  size_t size = 0;
  int rc = crdt_encode(obj(f->set), f->buf, f->cap, &size);
  if (rc == 0) assert_int_equal(size, f->cap);
  return rc;
}

static char *encode_snapshot(void *p) {
  encode_fixture *f = p;
  return tu_object_text(obj(f->set));
}

static void encode_teardown(void *p) {
  encode_fixture *f = p;
  crdt_orset_free(f->set);
  free(f->buf);
  free(f);
}

static void test_codec_encode_out_of_memory(void **state) {
  (void)state;
  static const tu_oom_case c = {"crdt_encode", encode_setup, encode_run,
                                encode_snapshot, encode_teardown};
  for (int keyed = 0; keyed <= 1; keyed++) {
    oom_keyed = keyed;
    assert_true(tu_check_oom(&c) >= 2);
  }
}

/* ---- 9. size bounds (docs/format.md, "Size, by construction") ------------ */

#define BASE_N 10000

static crdt_orset *items_at_a(size_t *element_bytes) {
  crdt_orset *a = set_at("a");
  char e[32];
  size_t sum = 0;
  for (int i = 0; i < BASE_N; i++) {
    int n = snprintf(e, sizeof e, "item-%d", i);
    assert_code(crdt_orset_add(a, e, (size_t)n, NULL), 0); /* dot a(i+1) */
    sum += (size_t)n;
  }
  if (element_bytes) *element_bytes = sum;
  return a;
}

static size_t encoded_size(crdt_orset *s) {
  size_t size = 0;
  assert_code(crdt_encode(obj(s), NULL, 0, &size), CRDT_ENOSPC);
  return size;
}

static void test_codec_size_full_state(void **state) {
  (void)state;
  size_t sum;
  crdt_orset *a = items_at_a(&sum);
  assert_int_equal(sum, 88890);
  size_t size = encoded_size(a);
  assert_true(size <= sum + 2 * BASE_N + 64);
  /* 7 header + 3 length + body (R 1, "a" 2, prefix 10000: 2, runs 1, dot
   * count 2, per element 1 head + 1 length + key, markers 1) + 8 checksum */
  size_t body = 1 + 2 + 2 + 1 + 2 + sum + 2 * BASE_N + 1;
  assert_int_equal(size, 7 + 3 + body + 8);
  crdt_orset_free(a);
}

static void test_codec_size_delta_of_adds(void **state) {
  (void)state;
  crdt_orset *a = items_at_a(NULL), *delta = set_at(NULL);
  const size_t k = 100;
  char e[32];
  size_t sum = 0;
  for (size_t i = 0; i < k; i++) {
    int n = snprintf(e, sizeof e, "new-%zu", i);
    assert_code(crdt_orset_add(a, e, (size_t)n, delta), 0); /* a10001.. */
    sum += (size_t)n;
  }
  size_t size = encoded_size(delta);
  assert_true(size <= k * 2 + sum + 32);
  /* context: prefix 0, one run (gap 9999: 2 bytes, extra 99); dots: count
   * 1, first head 20000 (3 bytes) then 1 byte each, 1 length + key each */
  size_t body = 1 + 2 + 1 + 1 + 2 + 1 + 1 + 3 + (k - 1) + k + sum + 1;
  assert_int_equal(size, 7 + 2 + body + 8);
  crdt_orset_free(delta);
  crdt_orset_free(a);
}

/* Removes item-first, item-(first+step), ... (k of them) into one delta;
 * returns the encoded size, and the element bytes in *sum. */
static size_t removes_delta_size(size_t k, size_t step, size_t *sum) {
  crdt_orset *a = items_at_a(NULL), *delta = set_at(NULL);
  char e[32];
  *sum = 0;
  for (size_t i = 0; i < k; i++) {
    int n = snprintf(e, sizeof e, "item-%zu", i * step);
    assert_code(crdt_orset_remove(a, e, (size_t)n, delta), 0);
    *sum += (size_t)n;
  }
  size_t size = encoded_size(delta);
  bytes b = encode(delta);
  assert_true(is_delta_blob(&b));
  crdt_orset *back = decode(&b, NULL);
  assert_true(crdt_orset_equal(back, delta));
  by_free(&b);
  crdt_orset_free(back);
  crdt_orset_free(delta);
  crdt_orset_free(a);
  return size;
}

static void test_codec_size_delta_of_contiguous_removes(void **state) {
  (void)state;
  const size_t k = 100;
  size_t sum;
  size_t size = removes_delta_size(k, 1, &sum);
  assert_int_equal(sum, 690);
  assert_true(size <= k * 3 + sum + 32);
  /* context: prefix 100, one run for the removes' own dots (gap 9899: 2
   * bytes, extra 1); no dots; 100 markers */
  size_t body = 1 + 2 + 1 + 1 + 2 + 1 + 1 + 1 + (k + sum);
  assert_int_equal(size, 7 + 2 + body + 8);
}

static void test_codec_size_delta_of_every_other_removes(void **state) {
  (void)state;
  const size_t k = 100;
  size_t sum;
  size_t size = removes_delta_size(k, 2, &sum);
  assert_int_equal(sum, 745);
  assert_true(size <= k * 3 + sum + 32);
  /* prefix 1; 99 one-dot runs of 2 bytes; the own run (gap 9800: 2 bytes,
   * extra 1); run count 1 */
  size_t body = 1 + 2 + 1 + 1 + 99 * 2 + 3 + 1 + 1 + (k + sum);
  assert_int_equal(size, 7 + 2 + body + 8);
}

/* Removed elements added 200 updates apart: each removed dot is a run whose
 * gap (198) takes 2 bytes, so 4 bytes per element on top of its key bytes
 * (docs/format.md). */
static void test_codec_size_delta_of_sparse_removes(void **state) {
  (void)state;
  const size_t k = 50;
  size_t sum;
  size_t size = removes_delta_size(k, 200, &sum);
  assert_int_equal(sum, 443);
  assert_true(size <= k * 4 + sum + 32);
  size_t body = 1 + 2 + 1 + 1 + 49 * 3 + 3 + 1 + 1 + (k + sum);
  assert_int_equal(size, 7 + 2 + body + 8);
}

/* ---- 10. memory while decoding hostile input ----------------------------- */

static size_t peak_live, peak_max;

static void *peak_alloc(void *user, size_t size) {
  (void)user;
  void *p = malloc(size);
  if (p && (peak_live += size) > peak_max) peak_max = peak_live;
  return p;
}

static void *peak_realloc(void *user, void *ptr, size_t old_size,
                          size_t new_size) {
  (void)user;
  void *p = realloc(ptr, new_size);
  if (p && (peak_live = peak_live - old_size + new_size) > peak_max)
    peak_max = peak_live;
  return p;
}

static void peak_free(void *user, void *ptr, size_t size) {
  (void)user;
  peak_live -= size;
  free(ptr);
}

/* Decodes with an allocator that records the peak of live bytes. */
static size_t decode_peak(const bytes *b, int code) {
  crdt_allocator a = {peak_alloc, peak_realloc, peak_free, NULL};
  assert_code(crdt_set_allocator(&a), 0);
  peak_live = peak_max = 0;
  crdt_object *out = SENTINEL;
  int rc = crdt_decode(b->p, b->n, NULL, &out);
  if (rc == 0) crdt_object_free(out);
  else assert_ptr_equal(out, SENTINEL);
  assert_int_equal(peak_live, 0);
  tu_alloc_install();
  assert_code(rc, code);
  return peak_max;
}

static bytes huge_count_body(const char *before, uint64_t count,
                             const char *after) {
  bytes body = {0};
  by_hex(&body, before);
  by_varint(&body, count);
  by_hex(&body, after);
  return body;
}

static void test_codec_hostile_counts_rejected_before_allocating(void **state) {
  (void)state;
  const uint64_t huge = (uint64_t)1 << 40;
  struct {
    const char *before, *after;
    uint8_t flags;
    int code;
  } cases[] = {
      {"", "01 41 01 00 00 00", 0, CRDT_ELENGTH},            /* replicas */
      {"01 01 41 00", "00 00 00 00", 0, CRDT_ELENGTH},       /* runs */
      {"01 01 41 01 00", "00 01 78 00", 0, CRDT_ELENGTH},    /* dots */
      {"00", "01 78", KEYED, CRDT_ELENGTH},                  /* markers */
      {"01 01 41 01 00 01 00", "78 00", 0, CRDT_ELENGTH},    /* key length */
      {"01 01 41 00 01 00", "00 00", 0, CRDT_ETOOMANY},      /* cloud run */
      {"01", "41 01 00 00 00", 0, CRDT_EFORMAT},             /* id length */
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    bytes body = huge_count_body(cases[i].before, huge, cases[i].after);
    bytes b = blob_of(TAG_ORSET, cases[i].flags, &body);
    size_t peak = decode_peak(&b, cases[i].code);
    if (peak > 4096) fail_msg("case %zu: %zu bytes allocated", i, peak);
    by_free(&b);
    by_free(&body);
  }
}

/* What a blob may make the decoder allocate grows with the blob: a cloud run
 * at the budget (16 dots per body byte + 4096), a large replica table. */
static void test_codec_hostile_memory_proportional_to_input(void **state) {
  (void)state;
  uint64_t extra = 4255;
  bytes body = cloud_body(&extra, 1);
  bytes b = blob_of(TAG_ORSET, 0, &body);
  size_t peak = decode_peak(&b, 0);
  if (peak > 256 * 1024) fail_msg("cloud: peak %zu bytes", peak);
  by_free(&b);
  by_free(&body);
  /* 5000 one-byte-counter replicas, ids 2 bytes: ~30 kB of input */
  bytes reps = {0};
  by_varint(&reps, 5000);
  for (unsigned i = 0; i < 5000; i++) {
    by_u8(&reps, 2);
    by_u8(&reps, (uint8_t)(1 + i / 255));
    by_u8(&reps, (uint8_t)(1 + i % 255));
  }
  for (unsigned i = 0; i < 5000; i++) by_hex(&reps, "01 00");
  for (unsigned i = 0; i < 5000; i++) by_hex(&reps, "00");
  by_hex(&reps, "00");
  b = blob_of(TAG_ORSET, 0, &reps);
  peak = decode_peak(&b, 0);
  if (peak > 64 * b.n) fail_msg("replicas: peak %zu bytes for %zu", peak, b.n);
  by_free(&b);
  by_free(&reps);
}

int main(void) {
  tu_alloc_install();
  init_ids();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_codec_golden_empty_set),
      cmocka_unit_test(test_codec_golden_empty_delta),
      cmocka_unit_test(test_codec_golden_one_add),
      cmocka_unit_test(test_codec_golden_add_add_remove),
      cmocka_unit_test(test_codec_golden_keyed_delta_with_marker),
      cmocka_unit_test(test_codec_golden_cloud_runs_after_lost_deltas),
      cmocka_unit_test(test_codec_golden_concurrent_add),
      cmocka_unit_test(test_codec_golden_prefix_ids_empty_and_long_elements),
      cmocka_unit_test(test_codec_round_trip_random_orsets),
      cmocka_unit_test(test_codec_canonical_across_orders_and_replicas),
      cmocka_unit_test(test_codec_canonical_delta_groups),
      cmocka_unit_test(test_codec_canonical_whatever_the_entry_order),
      cmocka_unit_test(test_codec_encode_buffer_contract),
      cmocka_unit_test(test_codec_encode_erange_counter_past_2_63),
      cmocka_unit_test(test_codec_decode_invalid_arguments),
      cmocka_unit_test(test_codec_peek_valid_blobs),
      cmocka_unit_test(test_codec_peek_header_errors),
      cmocka_unit_test(test_codec_decode_emagic),
      cmocka_unit_test(test_codec_decode_etrunc_in_header),
      cmocka_unit_test(test_codec_decode_etrunc_in_body_length),
      cmocka_unit_test(test_codec_decode_etrunc_blob_cut_short),
      cmocka_unit_test(test_codec_decode_etrunc_structure_past_body),
      cmocka_unit_test(test_codec_decode_etrailing_after_checksum),
      cmocka_unit_test(test_codec_decode_etrailing_inside_body),
      cmocka_unit_test(test_codec_decode_echecksum),
      cmocka_unit_test(test_codec_decode_eversion),
      cmocka_unit_test(test_codec_decode_ebadtype_unknown_tag),
      cmocka_unit_test(test_codec_decode_ebadtype_context_token),
      cmocka_unit_test(test_codec_decode_eformat_unknown_flag),
      cmocka_unit_test(test_codec_decode_eformat_overlong_varint),
      cmocka_unit_test(test_codec_decode_eformat_unreferenced_replica),
      cmocka_unit_test(test_codec_decode_eformat_markers_without_keyed_flag),
      cmocka_unit_test(test_codec_decode_eformat_undefined_entry),
      cmocka_unit_test(test_codec_decode_eformat_bad_replica_id),
      cmocka_unit_test(test_codec_decode_eorder_replica_ids),
      cmocka_unit_test(test_codec_decode_eorder_key_defined_twice),
      cmocka_unit_test(test_codec_decode_eorder_markers),
      cmocka_unit_test(test_codec_decode_eorder_marker_with_dots),
      cmocka_unit_test(test_codec_decode_edot),
      cmocka_unit_test(test_codec_decode_eoverflow_varint),
      cmocka_unit_test(test_codec_decode_eoverflow_context_counter),
      cmocka_unit_test(test_codec_decode_eoverflow_dot_counter),
      cmocka_unit_test(test_codec_decode_elength_key),
      cmocka_unit_test(test_codec_decode_elength_count),
      cmocka_unit_test(test_codec_decode_etoomany_cloud),
      cmocka_unit_test(test_codec_sweep_small_blobs),
      cmocka_unit_test(test_codec_sweep_mid_size_blobs),
      cmocka_unit_test(test_codec_decode_out_of_memory),
      cmocka_unit_test(test_codec_encode_out_of_memory),
      cmocka_unit_test(test_codec_size_full_state),
      cmocka_unit_test(test_codec_size_delta_of_adds),
      cmocka_unit_test(test_codec_size_delta_of_contiguous_removes),
      cmocka_unit_test(test_codec_size_delta_of_every_other_removes),
      cmocka_unit_test(test_codec_size_delta_of_sparse_removes),
      cmocka_unit_test(test_codec_hostile_counts_rejected_before_allocating),
      cmocka_unit_test(test_codec_hostile_memory_proportional_to_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
