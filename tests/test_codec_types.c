/*
 * The wire format for every type: golden blobs worked out by hand from
 * docs/format.md (counters, LWW-register, cart, MV-register, flag, context
 * token), the flag decoder's one-key rule, and the round-trip property on
 * random histories of every type:
 * decode(encode(x)) equals x and re-encodes to the same bytes.
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
#include "map_gen.h"
#include "testutil.h"

#define S(x) (x), strlen(x)

static unsigned char *encoded(const crdt_object *o, size_t *len) {
  assert_int_equal(crdt_encode(o, NULL, 0, len), CRDT_ENOSPC);
  unsigned char *b = malloc(*len);
  assert_non_null(b);
  assert_int_equal(crdt_encode(o, b, *len, len), 0);
  return b;
}

/* Frames a body by hand: header, body length, body, and a checksum
 * computed here with XXH3 (not taken from the encoder). Returns the size of
 * the blob written to want[256]. */
static size_t frame(unsigned char *want, uint8_t tag, uint8_t flags,
                    const unsigned char *body, size_t body_len) {
  size_t n = 0;
  memcpy(want, "CRDT\x01", 5);
  n = 5;
  want[n++] = tag;
  want[n++] = flags;
  assert_true(body_len < 128);
  want[n++] = (unsigned char)body_len;
  memcpy(want + n, body, body_len);
  n += body_len;
  uint64_t sum = XXH3_64bits(want, n);
  for (int i = 0; i < 8; i++) want[n++] = (unsigned char)(sum >> (8 * i));
  return n;
}

/* Compares a blob with the expected frame. */
static void assert_blob(const unsigned char *blob, size_t len, uint8_t tag,
                        uint8_t flags, const unsigned char *body,
                        size_t body_len) {
  unsigned char want[256];
  size_t n = frame(want, tag, flags, body, body_len);
  assert_int_equal(len, n);
  assert_memory_equal(blob, want, n);
}

/* `o` encodes to the blob of `body` with frame flags `flags` (1: a keyed
 * delta) and decodes back to an equal state. */
static void golden_flags(const crdt_object *o, uint8_t tag, uint8_t flags,
                         const unsigned char *body, size_t body_len) {
  size_t len;
  unsigned char *blob = encoded(o, &len);
  assert_blob(blob, len, tag, flags, body, body_len);
  crdt_object *back;
  assert_int_equal(crdt_decode(blob, len, NULL, &back), 0);
  assert_true(crdt_object_equal(back, o));
  crdt_object_free(back);
  free(blob);
}

static void golden(const crdt_object *o, uint8_t tag, const unsigned char *body,
                   size_t body_len) {
  golden_flags(o, tag, 0, body, body_len);
}

static void test_codec_golden_gcounter(void **state) {
  (void)state;
  crdt_gcounter *c;
  assert_int_equal(crdt_gcounter_new("A", &c), 0);
  assert_int_equal(crdt_gcounter_inc(c, 3, NULL), 0);
  /* R=1, id "A", events 1, P 3 */
  static const unsigned char body[] = {0x01, 0x01, 'A', 0x01, 0x03};
  golden(crdt_gcounter_object(c), 1, body, sizeof body);
  crdt_gcounter_free(c);
}

static void test_codec_golden_pncounter(void **state) {
  (void)state;
  crdt_pncounter *c;
  assert_int_equal(crdt_pncounter_new("A", &c), 0);
  assert_int_equal(crdt_pncounter_inc(c, 2, NULL), 0);
  assert_int_equal(crdt_pncounter_dec(c, 1, NULL), 0);
  /* events 2, P 2, N 1 */
  static const unsigned char body[] = {0x01, 0x01, 'A', 0x02, 0x02, 0x01};
  golden(crdt_pncounter_object(c), 2, body, sizeof body);
  crdt_pncounter_free(c);
}

static void test_codec_golden_lwwreg(void **state) {
  (void)state;
  crdt_lwwreg *r;
  assert_int_equal(crdt_lwwreg_new("A", &r), 0);
  static const unsigned char empty[] = {0x00};
  golden(crdt_lwwreg_object(r), 6, empty, sizeof empty);
  assert_int_equal(crdt_lwwreg_write(r, S("v"), 300, NULL), 0);
  /* present, timestamp 300 = 0xAC 0x02, writer "A", value "v" */
  static const unsigned char body[] = {0x01, 0xAC, 0x02, 0x01, 'A', 0x01, 'v'};
  golden(crdt_lwwreg_object(r), 6, body, sizeof body);
  crdt_lwwreg_free(r);
}

static void test_codec_golden_cart(void **state) {
  (void)state;
  crdt_cart *c;
  assert_int_equal(crdt_cart_new("A", &c), 0);
  assert_int_equal(crdt_cart_add(c, S("apple"), 2, NULL), 0);
  assert_int_equal(crdt_cart_dec(c, S("apple"), 1, NULL, NULL), 0);
  /* context {A:2}; stream of A: 2 dots; (A,1) defines "apple" with +2
   * (zigzag 4), (A,2) refers to entry 0 with -1 (zigzag 1); no markers */
  static const unsigned char body[] = {
      0x01, 0x01, 'A', 0x02, 0x00,                          /* table, ctx */
      0x02,                                                 /* 2 dots */
      0x00, 0x05, 'a', 'p', 'p', 'l', 'e', 0x04,            /* gap 0, new */
      0x01, 0x00, 0x01,                                     /* gap 0, ref */
      0x00};                                                /* markers */
  golden(crdt_cart_object(c), 5, body, sizeof body);
  crdt_cart_free(c);
}

static void test_codec_golden_mvreg_seed_000(void **state) {
  (void)state;
  crdt_mvreg *s;
  crdt_context *nothing, *after_eggs;
  assert_int_equal(crdt_mvreg_new("S", &s), 0);
  assert_int_equal(crdt_context_new(&nothing), 0);
  assert_int_equal(crdt_mvreg_write(s, S("eggs"), NULL, NULL), 0); /* S1 */
  assert_int_equal(crdt_mvreg_context(s, &after_eggs), 0);
  assert_int_equal(crdt_mvreg_write(s, S("milk"), nothing, NULL), 0); /* S2 */
  assert_int_equal(crdt_mvreg_write(s, S("eggs, bacon"), after_eggs, NULL), 0);
  /* context {S:3}; stream of S: (S,2) "milk" (gap 1: head 2), (S,3)
   * "eggs, bacon" (gap 0) */
  static const unsigned char body[] = {
      0x01, 0x01, 'S', 0x03, 0x00, 0x02,
      0x02, 0x04, 'm', 'i', 'l', 'k',
      0x00, 0x0b, 'e', 'g', 'g', 's', ',', ' ', 'b', 'a', 'c', 'o', 'n',
      0x00};
  golden(crdt_mvreg_object(s), 4, body, sizeof body);
  crdt_context_free(nothing);
  crdt_context_free(after_eggs);
  crdt_mvreg_free(s);
}

/* Map fields: head = name length << 3 | type (1 counter, 2 orset, 3 mvreg,
 * 4 lwwreg, 5 flag, 6 map); a dot is (rank, top - counter[, value]). */
static void test_codec_golden_map_counter_and_set(void **state) {
  (void)state;
  crdt_map *m;
  assert_int_equal(crdt_map_new("A", &m), 0);
  assert_int_equal(crdt_map_counter_inc(m, CRDT_PATH("n"), 2, NULL), 0);
  assert_int_equal(crdt_map_orset_add(m, CRDT_PATH("s"), S("x"), NULL), 0);
  /* context {A:2} (top 2); "n" < "s": counter n, dot A1 = (0, 2-1 = 1)
   * with amount 2 (zigzag 4); orset s, one item "x", dot A2 = (0, 0) */
  static const unsigned char body[] = {
      0x01, 0x01, 'A', 0x02, 0x00,              /* table, context */
      0x02,                                     /* 2 fields */
      0x09, 'n', 0x01, 0x00, 0x01, 0x04,        /* 1 << 3 | 1, 1 dot */
      0x0a, 's', 0x01, 0x01, 'x', 0x01, 0x00, 0x00}; /* 1 << 3 | 2, 1 item */
  golden(crdt_map_object(m), 8, body, sizeof body);
  crdt_map_free(m);
}

static void test_codec_golden_map_nested_and_remove_delta(void **state) {
  (void)state;
  crdt_map *m, *delta;
  assert_int_equal(crdt_map_new("A", &m), 0);
  assert_int_equal(crdt_map_lwwreg_set(m, CRDT_PATH("u", "e"), S("v"), 5, NULL),
                   0); /* A1 */
  assert_int_equal(crdt_map_flag_enable(m, CRDT_PATH("u", "f"), NULL), 0);
  assert_int_equal(crdt_map_mvreg_set(m, CRDT_PATH("m"), S("q"), NULL), 0);
  /* context {A:3}; "m" (mvreg) < "u" (map); in u, "e" (lwwreg) < "f" (flag).
   * m: item "q", dot A3 = (0, 0); u.e: item "v", dot A1 = (0, 2) with
   * timestamp 5 (zigzag 10); u.f: dot A2 = (0, 1) */
  static const unsigned char body[] = {
      0x01, 0x01, 'A', 0x03, 0x00, 0x02,
      0x0b, 'm', 0x01, 0x01, 'q', 0x01, 0x00, 0x00,
      0x0e, 'u', 0x02,
      0x0c, 'e', 0x01, 0x01, 'v', 0x01, 0x00, 0x02, 0x0a,
      0x0d, 'f', 0x01, 0x00, 0x01};
  golden(crdt_map_object(m), 8, body, sizeof body);
  /* Removing u (dot A4): a keyed delta listing every key below u without
   * dots; its context holds A1, A2 (the dots it removes) and A4: prefix 2,
   * one run at 4 (gap 4 - 2 - 2 = 0, extra 0). */
  assert_int_equal(crdt_map_new(NULL, &delta), 0);
  assert_int_equal(crdt_map_remove(m, CRDT_PATH("u"), CRDT_FIELD_MAP, delta), 0);
  static const unsigned char removal[] = {
      0x01, 0x01, 'A', 0x02, 0x01, 0x00, 0x00, 0x01,
      0x0e, 'u', 0x02,
      0x0c, 'e', 0x01, 0x01, 'v', 0x00,
      0x0d, 'f', 0x00};
  size_t len;
  unsigned char *blob = encoded(crdt_map_object(delta), &len);
  assert_blob(blob, len, 8, 0x01, removal, sizeof removal);
  crdt_object *back;
  assert_int_equal(crdt_decode(blob, len, NULL, &back), 0);
  assert_true(crdt_object_equal(back, crdt_map_object(delta)));
  crdt_object_free(back);
  free(blob);
  crdt_map_free(delta);
  crdt_map_free(m);
}

/* The flag: the dot-store body with the empty key (key bytes "00": length
 * 0) as its only key. */
static void test_codec_golden_flag(void **state) {
  (void)state;
  crdt_flag *a, *b, *d1, *d2, *d3;
  assert_int_equal(crdt_flag_new("A", &a), 0);
  assert_int_equal(crdt_flag_new("B", &b), 0);
  assert_int_equal(crdt_flag_new(NULL, &d1), 0);
  assert_int_equal(crdt_flag_new(NULL, &d2), 0);
  assert_int_equal(crdt_flag_new(NULL, &d3), 0);
  /* "A" refers to nothing yet: R = 0, no streams, M = 0 */
  static const unsigned char empty[] = {0x00, 0x00};
  golden(crdt_flag_object(a), 7, empty, sizeof empty);
  assert_int_equal(crdt_flag_enable(a, d1), 0); /* A1 */
  /* context {A:1}; A's stream: 1 dot, gap 0, new key "" */
  static const unsigned char on[] = {0x01, 0x01, 'A', 0x01, 0x00,
                                     0x01, 0x00, 0x00, 0x00};
  golden(crdt_flag_object(a), 7, on, sizeof on);
  /* the delta is the same state, as a keyed delta */
  golden_flags(crdt_flag_object(d1), 7, 1, on, sizeof on);
  assert_int_equal(crdt_flag_enable(a, d2), 0); /* A2 replaces A1 */
  /* context {A:2}; one dot: counter 0+1+1 = 2 (head 2), key "" */
  static const unsigned char again[] = {0x01, 0x01, 'A', 0x02, 0x00,
                                        0x01, 0x02, 0x00, 0x00};
  golden(crdt_flag_object(a), 7, again, sizeof again);
  golden_flags(crdt_flag_object(d2), 7, 1, again, sizeof again);
  assert_int_equal(crdt_flag_merge(b, a), 0);
  assert_int_equal(crdt_flag_disable(a, d3), 0); /* A3 drops A2 */
  /* context {A:3}; no dots */
  static const unsigned char off[] = {0x01, 0x01, 'A', 0x03, 0x00, 0x00, 0x00};
  golden(crdt_flag_object(a), 7, off, sizeof off);
  /* the disable's delta: context {A2, A3} (prefix 0, one run from
   * 0+2+0 = 2, extra 1), no dots, the marker "" */
  static const unsigned char disable[] = {0x01, 0x01, 'A', 0x00, 0x01,
                                          0x00, 0x01, 0x00, 0x01, 0x00};
  golden_flags(crdt_flag_object(d3), 7, 1, disable, sizeof disable);
  /* B, which saw A2, enables concurrently (B1), then merges A's disable:
   * B1 survives. Context {A:3, B:1}; A's stream empty, B's: 1 dot, gap 0,
   * new key "". */
  assert_int_equal(crdt_flag_enable(b, NULL), 0);
  assert_int_equal(crdt_flag_merge(b, a), 0);
  assert_true(crdt_flag_enabled(b));
  static const unsigned char wins[] = {0x02, 0x01, 'A', 0x01, 'B',
                                       0x03, 0x00, 0x01, 0x00,
                                       0x00, 0x01, 0x00, 0x00, 0x00};
  golden(crdt_flag_object(b), 7, wins, sizeof wins);
  /* A enables concurrently too (A4): A's stream defines "", B's dot refers
   * to entry 0 (head 1). Context {A:4, B:1}. */
  assert_int_equal(crdt_flag_enable(a, NULL), 0);
  assert_int_equal(crdt_flag_merge(b, a), 0);
  static const unsigned char both[] = {0x02, 0x01, 'A', 0x01, 'B',
                                       0x04, 0x00, 0x01, 0x00,
                                       0x01, 0x06, 0x00, 0x01, 0x01, 0x00,
                                       0x00};
  golden(crdt_flag_object(b), 7, both, sizeof both);
  crdt_flag_free(a);
  crdt_flag_free(b);
  crdt_flag_free(d1);
  crdt_flag_free(d2);
  crdt_flag_free(d3);
}

/* A flag has one key, the empty key: a body that names another key (with
 * dots or as a keyed delta's marker) is malformed, with or without an
 * owner, and decoding it allocates nothing that outlives the call. */
static void test_codec_flag_rejects_other_keys(void **state) {
  (void)state;
  static const struct {
    uint8_t flags;
    unsigned char body[16];
    size_t len;
    int code;
  } cases[] = {
      /* key "x" instead of "" */
      {0, {0x01, 0x01, 'A', 0x01, 0x00, 0x01, 0x00, 0x01, 'x', 0x00}, 10,
       CRDT_EFORMAT},
      /* "" and "x" */
      {0, {0x01, 0x01, 'A', 0x02, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 'x',
           0x00}, 12, CRDT_EFORMAT},
      /* a keyed delta with the marker "x" */
      {1, {0x00, 0x01, 0x01, 'x'}, 4, CRDT_EFORMAT},
      /* the marker "" is the flag's own key */
      {1, {0x00, 0x01, 0x00}, 3, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    unsigned char blob[256];
    size_t n = frame(blob, 7, cases[i].flags, cases[i].body, cases[i].len);
    const char *owners[] = {NULL, "A"};
    for (int k = 0; k < 2; k++) {
      size_t live = tu_alloc_live();
      crdt_object *o = NULL;
      assert_int_equal(crdt_decode(blob, n, owners[k], &o), cases[i].code);
      if (cases[i].code) {
        assert_null(o);
        assert_int_equal(tu_alloc_live(), live);
      } else {
        assert_false(crdt_flag_enabled(crdt_object_flag(o)));
        crdt_object_free(o);
      }
    }
    /* the same body as an OR-set is fine: the rule is the flag's */
    crdt_object *set = NULL;
    n = frame(blob, 3, cases[i].flags, cases[i].body, cases[i].len);
    assert_int_equal(crdt_decode(blob, n, NULL, &set), 0);
    crdt_object_free(set);
  }
}

static void test_codec_golden_context_token(void **state) {
  (void)state;
  crdt_context *c;
  assert_int_equal(crdt_context_new(&c), 0);
  const struct {
    const char *id;
    uint64_t n;
  } dots[] = {{"B", 7}, {"A", 5}, {"A", 1}, {"A", 2}, {"A", 4}};
  for (size_t i = 0; i < sizeof dots / sizeof *dots; i++)
    assert_int_equal(crdt_context_add(c, dots[i].id, dots[i].n), 0);
  /* {A:2} + {A:4, A:5, B:7}: A prefix 2, one run from 4 (gap 4-2-2 = 0,
   * extra 1); B prefix 0, one run at 7 (gap 7-0-2 = 5, extra 0) */
  static const unsigned char body[] = {0x02, 0x01, 'A', 0x01, 'B',
                                       0x02, 0x01, 0x00, 0x01,
                                       0x00, 0x01, 0x05, 0x00};
  size_t len;
  assert_int_equal(crdt_context_encode(c, NULL, 0, &len), CRDT_ENOSPC);
  unsigned char *blob = malloc(len);
  assert_non_null(blob);
  assert_int_equal(crdt_context_encode(c, blob, len, &len), 0);
  assert_blob(blob, len, 0x10, 0, body, sizeof body);
  crdt_context *back;
  assert_int_equal(crdt_context_decode(blob, len, &back), 0);
  assert_true(crdt_context_equal(back, c));
  crdt_blob_info info;
  assert_int_equal(crdt_peek(blob, len, &info), 0);
  assert_true(info.is_context);
  crdt_object *obj = NULL;
  assert_int_equal(crdt_decode(blob, len, NULL, &obj), CRDT_EBADTYPE);
  assert_null(obj);
  crdt_context_free(back);
  crdt_context_free(c);
  free(blob);
}

/* ---- round trips on random histories of every type ---------------------- */

static const char *const replica_ids[] = {"r0", "replica-one", "R2"};
static const char *const keys[] = {"", "a", "b", "apple", "\x01\xff",
                                   "a long element of more than one hundred "
                                   "and twenty-seven bytes, so that its length "
                                   "takes two varint bytes in the encoding...."};
#define NKEYS (sizeof keys / sizeof *keys)

/* One random update of obj (owned by a replica); delta may be NULL. */
static void random_update(crdt_object *obj, tu_rng *rng, crdt_object *delta) {
  const char *k = keys[tu_below(rng, NKEYS)];
  size_t len = strlen(k);
  int rc = 0;
  switch (crdt_object_type(obj)) {
  case CRDT_TYPE_GCOUNTER:
    rc = crdt_gcounter_inc(crdt_object_gcounter(obj), 1 + tu_below(rng, 300),
                           crdt_object_gcounter(delta));
    break;
  case CRDT_TYPE_PNCOUNTER:
    rc = tu_below(rng, 2)
             ? crdt_pncounter_inc(crdt_object_pncounter(obj), 1 + tu_below(rng, 9),
                                  crdt_object_pncounter(delta))
             : crdt_pncounter_dec(crdt_object_pncounter(obj), 1 + tu_below(rng, 9),
                                  crdt_object_pncounter(delta));
    break;
  case CRDT_TYPE_ORSET:
    rc = tu_below(rng, 3)
             ? crdt_orset_add(crdt_object_orset(obj), k, len, crdt_object_orset(delta))
             : crdt_orset_remove(crdt_object_orset(obj), k, len,
                                 crdt_object_orset(delta));
    break;
  case CRDT_TYPE_MVREG: {
    crdt_context *empty = NULL;
    if (tu_below(rng, 4) == 0) assert_int_equal(crdt_context_new(&empty), 0);
    rc = crdt_mvreg_write(crdt_object_mvreg(obj), k, len, empty,
                          crdt_object_mvreg(delta));
    crdt_context_free(empty);
    break;
  }
  case CRDT_TYPE_CART:
    switch (tu_below(rng, 4)) {
    case 0:
      rc = crdt_cart_remove(crdt_object_cart(obj), k, len, crdt_object_cart(delta));
      break;
    case 1:
      rc = crdt_cart_dec(crdt_object_cart(obj), k, len, 1 + tu_below(rng, 3),
                         crdt_object_cart(delta), NULL);
      break;
    default:
      rc = crdt_cart_add(crdt_object_cart(obj), k, len, 1 + tu_below(rng, 5),
                         crdt_object_cart(delta));
    }
    break;
  case CRDT_TYPE_LWWREG:
    rc = crdt_lwwreg_write(crdt_object_lwwreg(obj), k, len, tu_below(rng, 50),
                           crdt_object_lwwreg(delta));
    if (rc == CRDT_ESTALE) rc = 0;
    break;
  case CRDT_TYPE_FLAG:
    rc = tu_below(rng, 3)
             ? crdt_flag_enable(crdt_object_flag(obj), crdt_object_flag(delta))
             : crdt_flag_disable(crdt_object_flag(obj), crdt_object_flag(delta));
    break;
  case CRDT_TYPE_MAP:
    rc = tu_map_random_update(obj, rng, delta);
    break;
  }
  if (rc == CRDT_ENOENT) rc = 0; /* removing what is not there */
  assert_int_equal(rc, 0);
}

/* decode(encode(x)) == x, same bytes again, same info from peek; with an
 * owner, the decoded state can be updated. */
static void assert_round_trip(const crdt_object *o, tu_rng *rng) {
  size_t len, len2;
  unsigned char *blob = encoded(o, &len);
  crdt_object *back;
  assert_int_equal(crdt_decode(blob, len, NULL, &back), 0);
  assert_true(crdt_object_equal(back, o));
  assert_null(crdt_object_replica(back));
  unsigned char *again = encoded(back, &len2);
  assert_int_equal(len, len2);
  assert_memory_equal(blob, again, len);
  crdt_blob_info info;
  assert_int_equal(crdt_peek(blob, len, &info), 0);
  assert_int_equal(info.type, crdt_object_type(o));
  assert_false(info.is_context);
  crdt_object *owned;
  assert_int_equal(crdt_decode(blob, len, "new-owner", &owned), 0);
  assert_string_equal(crdt_object_replica(owned), "new-owner");
  random_update(owned, rng, NULL);
  crdt_object *joined = tu_join(owned, o);
  assert_true(crdt_object_equal(joined, owned)); /* owned already has o */
  crdt_object_free(joined);
  crdt_object_free(owned);
  crdt_object_free(back);
  free(blob);
  free(again);
}

static void round_trips_of(crdt_type type) {
  for (unsigned seed = 1; seed <= 12; seed++) {
    tu_rng rng = {seed * 7919ull + type};
    crdt_object *r[3], *delta[3];
    for (int i = 0; i < 3; i++) {
      assert_int_equal(crdt_object_new(type, replica_ids[i], &r[i]), 0);
      assert_int_equal(crdt_object_new(type, NULL, &delta[i]), 0);
    }
    for (int step = 0; step < 60; step++) {
      int i = (int)tu_below(&rng, 3);
      if (tu_below(&rng, 5) == 0) {
        assert_int_equal(crdt_object_merge(r[i], r[tu_below(&rng, 3)]), 0);
      } else {
        random_update(r[i], &rng, delta[i]);
      }
      if (step % 10 == 0) assert_round_trip(r[i], &rng);
    }
    for (int i = 0; i < 3; i++) {
      assert_round_trip(r[i], &rng);
      assert_round_trip(delta[i], &rng); /* deltas are states too */
      crdt_object_free(r[i]);
      crdt_object_free(delta[i]);
    }
  }
}

static void test_codec_round_trip_gcounter(void **state) {
  (void)state;
  round_trips_of(CRDT_TYPE_GCOUNTER);
}
static void test_codec_round_trip_pncounter(void **state) {
  (void)state;
  round_trips_of(CRDT_TYPE_PNCOUNTER);
}
static void test_codec_round_trip_orset(void **state) {
  (void)state;
  round_trips_of(CRDT_TYPE_ORSET);
}
static void test_codec_round_trip_mvreg(void **state) {
  (void)state;
  round_trips_of(CRDT_TYPE_MVREG);
}
static void test_codec_round_trip_cart(void **state) {
  (void)state;
  round_trips_of(CRDT_TYPE_CART);
}
static void test_codec_round_trip_lwwreg(void **state) {
  (void)state;
  round_trips_of(CRDT_TYPE_LWWREG);
}
static void test_codec_round_trip_flag(void **state) {
  (void)state;
  round_trips_of(CRDT_TYPE_FLAG);
}
static void test_codec_round_trip_map(void **state) {
  (void)state;
  round_trips_of(CRDT_TYPE_MAP);
}

/* Equal states reached in different orders, at replicas that interned ids in
 * different orders, encode to identical bytes: for every type. */
static void test_codec_equal_states_equal_bytes_every_type(void **state) {
  (void)state;
  static const crdt_type every_type[] = {
      CRDT_TYPE_GCOUNTER, CRDT_TYPE_PNCOUNTER, CRDT_TYPE_ORSET, CRDT_TYPE_MVREG,
      CRDT_TYPE_CART,     CRDT_TYPE_LWWREG,    CRDT_TYPE_FLAG,
      CRDT_TYPE_MAP};
  for (size_t ti = 0; ti < sizeof every_type / sizeof *every_type; ti++) {
    const crdt_type t = every_type[ti];
    tu_rng rng = {1234 + t};
    crdt_object *r[3], *x, *y;
    for (int i = 0; i < 3; i++) {
      assert_int_equal(crdt_object_new(t, replica_ids[i], &r[i]), 0);
      for (int k = 0; k < 8; k++) random_update(r[i], &rng, NULL);
    }
    assert_int_equal(crdt_object_new(t, NULL, &x), 0);
    assert_int_equal(crdt_object_new(t, NULL, &y), 0);
    for (int i = 0; i < 3; i++) assert_int_equal(crdt_object_merge(x, r[i]), 0);
    for (int i = 3; i-- > 0;) assert_int_equal(crdt_object_merge(y, r[i]), 0);
    size_t lx, ly;
    unsigned char *bx = encoded(x, &lx), *by = encoded(y, &ly);
    assert_int_equal(lx, ly);
    assert_memory_equal(bx, by, lx);
    free(bx);
    free(by);
    crdt_object_free(x);
    crdt_object_free(y);
    for (int i = 0; i < 3; i++) crdt_object_free(r[i]);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_codec_golden_gcounter),
      cmocka_unit_test(test_codec_golden_pncounter),
      cmocka_unit_test(test_codec_golden_lwwreg),
      cmocka_unit_test(test_codec_golden_cart),
      cmocka_unit_test(test_codec_golden_mvreg_seed_000),
      cmocka_unit_test(test_codec_golden_flag),
      cmocka_unit_test(test_codec_flag_rejects_other_keys),
      cmocka_unit_test(test_codec_golden_context_token),
      cmocka_unit_test(test_codec_golden_map_counter_and_set),
      cmocka_unit_test(test_codec_golden_map_nested_and_remove_delta),
      cmocka_unit_test(test_codec_round_trip_gcounter),
      cmocka_unit_test(test_codec_round_trip_pncounter),
      cmocka_unit_test(test_codec_round_trip_orset),
      cmocka_unit_test(test_codec_round_trip_mvreg),
      cmocka_unit_test(test_codec_round_trip_cart),
      cmocka_unit_test(test_codec_round_trip_lwwreg),
      cmocka_unit_test(test_codec_round_trip_flag),
      cmocka_unit_test(test_codec_round_trip_map),
      cmocka_unit_test(test_codec_equal_states_equal_bytes_every_type),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
