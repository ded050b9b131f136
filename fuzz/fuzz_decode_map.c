/*
 * Decoder fuzz target for the map: fuzz_decode.c with the type tag forced
 * to 8 (the map), so the fuzzer works inside the map's body parser (nested
 * fields, markers, the depth limit). Input: a mode byte, then a body (even
 * mode byte: framed with a correct checksum, flags = mode >> 1) or a raw
 * blob (odd). What decodes must re-encode to the same bytes (fuzz_decode.c)
 * and, merged into live maps, keep the laws (check_live below).
 */
#define _GNU_SOURCE /* memmem */
#define FUZZ_DECODE_TAG 8
#define FUZZ_DECODE_LIVE
#include "fuzz_decode.c"

static crdt_object *join_of(const crdt_object *a, const crdt_object *b) {
  crdt_object *j = NULL;
  FUZZ_CHECK(crdt_object_copy(a, &j) == 0);
  FUZZ_CHECK(crdt_object_merge(j, b) == 0);
  return j;
}

/* Does x's causal context name a replica whose id starts with "live-"?
 * Then its dots may collide with the live maps' (one dot, two different
 * updates), which no replica can produce, and the laws are not owed. */
static bool names_live(const crdt_object *x) {
  size_t need = 0;
  FUZZ_CHECK(crdt_object_context_text(x, NULL, 0, &need) == CRDT_ENOSPC);
  char *t = malloc(need + 1);
  FUZZ_CHECK(t != NULL);
  FUZZ_CHECK(crdt_object_context_text(x, t, need + 1, NULL) == 0);
  bool live = memmem(t, need, "live-", 5) != NULL;
  free(t);
  return live;
}

/* Two live maps (replicas live-1 and live-2, fields at several depths, a
 * removal) and the decoded map x: x ⊔ a = a ⊔ x, (a ⊔ x) ⊔ x = a ⊔ x,
 * (a ⊔ x) ⊔ b = a ⊔ (x ⊔ b), a ⊔ x is after (or equal to) both, and
 * a ⊔ x survives encode/decode. */
static void check_live(const crdt_object *x) {
  if (names_live(x)) return;
  crdt_map *ma = NULL, *mb = NULL;
  FUZZ_CHECK(crdt_map_new("live-1", &ma) == 0);
  FUZZ_CHECK(crdt_map_new("live-2", &mb) == 0);
  FUZZ_CHECK(crdt_map_counter_inc(ma, CRDT_PATH("a"), 3, NULL) == 0);
  FUZZ_CHECK(crdt_map_orset_add(ma, CRDT_PATH("a", "b"), "x", 1, NULL) == 0);
  FUZZ_CHECK(crdt_map_lwwreg_set(ma, CRDT_PATH(""), "v", 1, 9, NULL) == 0);
  FUZZ_CHECK(crdt_map_flag_enable(mb, CRDT_PATH("a", "f"), NULL) == 0);
  FUZZ_CHECK(crdt_map_merge(mb, ma) == 0);
  FUZZ_CHECK(crdt_map_remove(mb, CRDT_PATH("a"), CRDT_FIELD_COUNTER, NULL) ==
             0);
  FUZZ_CHECK(crdt_map_mvreg_set(mb, CRDT_PATH("a", "b"), "w", 1, NULL) == 0);
  const crdt_object *a = crdt_map_object(ma), *b = crdt_map_object(mb);
  crdt_object *ax = join_of(a, x), *xa = join_of(x, a);
  FUZZ_CHECK(crdt_object_equal(ax, xa));
  crdt_object *axx = join_of(ax, x);
  FUZZ_CHECK(crdt_object_equal(axx, ax));
  crdt_object *ax_b = join_of(ax, b), *xb = join_of(x, b);
  crdt_object *a_xb = join_of(a, xb);
  FUZZ_CHECK(crdt_object_equal(ax_b, a_xb));
  crdt_order o;
  FUZZ_CHECK(crdt_object_compare(ax, a, &o) == 0);
  FUZZ_CHECK(o == CRDT_AFTER || o == CRDT_EQUAL);
  FUZZ_CHECK(crdt_object_compare(ax, x, &o) == 0);
  FUZZ_CHECK(o == CRDT_AFTER || o == CRDT_EQUAL);
  size_t len = 0;
  FUZZ_CHECK(crdt_encode(ax, NULL, 0, &len) == CRDT_ENOSPC);
  uint8_t *bytes = malloc(len);
  FUZZ_CHECK(bytes != NULL);
  FUZZ_CHECK(crdt_encode(ax, bytes, len, &len) == 0);
  crdt_object *back = NULL;
  FUZZ_CHECK(crdt_decode(bytes, len, NULL, &back) == 0);
  FUZZ_CHECK(crdt_object_equal(back, ax));
  size_t need = 0;
  FUZZ_CHECK(crdt_object_value_json(ax, NULL, 0, &need) == CRDT_ENOSPC);
  free(bytes);
  crdt_object_free(back);
  crdt_object_free(ax);
  crdt_object_free(xa);
  crdt_object_free(axx);
  crdt_object_free(ax_b);
  crdt_object_free(xb);
  crdt_object_free(a_xb);
  crdt_map_free(ma);
  crdt_map_free(mb);
}
