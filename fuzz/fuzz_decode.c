/*
 * Decoder fuzz target: any input must decode cleanly or fail with an error
 * code. What decodes must re-encode to exactly the same bytes (the format is
 * canonical, so a decoder that accepts a non-canonical blob is a bug), and
 * merging it with itself or a copy must change nothing.
 *
 * The per-type targets (fuzz_decode_<type>.c) define FUZZ_DECODE_TAG and
 * include this file: their input is a mode byte and a body for that one tag
 * (see LLVMFuzzerTestOneInput below), so the fuzzer spends its time inside
 * one type's body parser instead of rediscovering the frame.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "crdt/crdt.h"
#include "fuzz.h"

void fuzz_fail(const char *what) {
  fprintf(stderr, "fuzz property failed: %s\n", what);
  abort();
}

static void check_blob(const uint8_t *data, size_t size);

#ifdef FUZZ_DECODE_LIVE
/* Defined by the including target: checks a decoded object against live
 * states of its type (merges keep the laws). */
static void check_live(const crdt_object *obj);
#endif

/* Appends a LEB128 varint. */
static size_t put_varint(uint8_t *out, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    out[n++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  out[n++] = (uint8_t)v;
  return n;
}

/* Wraps `body` in a frame with `tag`, `flags` and a correct checksum, and
 * checks the result. */
static void check_framed(uint8_t tag, uint8_t flags, const uint8_t *body,
                         size_t len) {
  uint8_t *blob = malloc(7 + 10 + len + 8);
  FUZZ_CHECK(blob != NULL);
  memcpy(blob, "CRDT\x01", 5);
  blob[5] = tag;
  blob[6] = flags;
  size_t at = 7 + put_varint(blob + 7, len);
  if (len) memcpy(blob + at, body, len);
  at += len;
  uint64_t sum = XXH3_64bits(blob, at);
  for (int i = 0; i < 8; i++) blob[at++] = (uint8_t)(sum >> (8 * i));
  check_blob(blob, at);
  free(blob);
}

#ifndef FUZZ_DECODE_TAG
/* Two views of each input: the raw bytes as a blob (exercises the frame
 * checks), and, when the first byte is odd, bytes 1 and 2 as tag and flags
 * and the rest as a body wrapped in a valid frame with a correct checksum
 * (exercises the body parser, which the checksum would otherwise shield). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check_blob(data, size);
  if (size < 3 || !(data[0] & 1)) return 0;
  check_framed(data[1], data[2], data + 3, size - 3);
  return 0;
}
#else
/* One tag only. Byte 0 is a mode: odd, the rest of the input is a raw blob
 * (frame checks; seeds are valid blobs of this type); even, byte 0 >> 1 is
 * the flags byte (normally 0 or 1, the keyed-delta bit) and the rest is a
 * body framed with FUZZ_DECODE_TAG and a correct checksum. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  if (data[0] & 1)
    check_blob(data + 1, size - 1);
  else
    check_framed(FUZZ_DECODE_TAG, (uint8_t)(data[0] >> 1), data + 1, size - 1);
  return 0;
}
#endif

/* A context token: decodes or fails cleanly; what decodes re-encodes to the
 * same bytes, formats, and joins with itself and a copy to itself. */
static void check_context(const uint8_t *data, size_t size) {
  crdt_context *ctx = NULL;
  int rc = crdt_context_decode(data, size, &ctx);
  if (rc != 0) {
    FUZZ_CHECK(rc < 0 && ctx == NULL);
    FUZZ_CHECK(crdt_strerror(rc) != NULL);
    return;
  }
  size_t len = 0;
  FUZZ_CHECK(crdt_context_encode(ctx, NULL, 0, &len) == CRDT_ENOSPC);
  FUZZ_CHECK(len == size);
  uint8_t *again = malloc(len);
  FUZZ_CHECK(again != NULL);
  FUZZ_CHECK(crdt_context_encode(ctx, again, len, &len) == 0);
  FUZZ_CHECK(memcmp(again, data, size) == 0);
  free(again);
  crdt_context *copy = NULL;
  FUZZ_CHECK(crdt_context_copy(ctx, &copy) == 0);
  FUZZ_CHECK(crdt_context_join(copy, ctx) == 0);
  FUZZ_CHECK(crdt_context_join(copy, copy) == 0);
  FUZZ_CHECK(crdt_context_equal(copy, ctx));
  FUZZ_CHECK(crdt_context_compare(copy, ctx) == CRDT_EQUAL);
  size_t need = 0;
  FUZZ_CHECK(crdt_context_format(ctx, NULL, 0, &need) == CRDT_ENOSPC);
  crdt_context_free(copy);
  crdt_context_free(ctx);
}

/* A decoded state merged into a state owned by a replica (decoding with an
 * owner, as a replica reloading its state does) must leave it unchanged:
 * both hold the same history. */
static void check_owned(const uint8_t *data, size_t size,
                        const crdt_object *obj) {
  crdt_object *owned = NULL;
  FUZZ_CHECK(crdt_decode(data, size, "fuzz-owner", &owned) == 0);
  FUZZ_CHECK(crdt_object_type(owned) == crdt_object_type(obj));
  FUZZ_CHECK(crdt_object_merge(owned, obj) == 0);
  crdt_object *plain = NULL;
  FUZZ_CHECK(crdt_decode(data, size, "fuzz-owner", &plain) == 0);
  FUZZ_CHECK(crdt_object_equal(owned, plain));
  size_t len = 0;
  FUZZ_CHECK(crdt_encode(owned, NULL, 0, &len) == CRDT_ENOSPC);
  crdt_object_free(plain);
  crdt_object_free(owned);
}

static void check_blob(const uint8_t *data, size_t size) {
  check_context(data, size);
  crdt_object *obj = NULL;
  int rc = crdt_decode(data, size, NULL, &obj);
  if (rc != 0) {
    FUZZ_CHECK(rc < 0 && obj == NULL);
    FUZZ_CHECK(crdt_strerror(rc) != NULL);
    return;
  }
  size_t len = 0;
  rc = crdt_encode(obj, NULL, 0, &len);
  FUZZ_CHECK(rc == CRDT_ENOSPC);
  FUZZ_CHECK(len == size);
  uint8_t *again = malloc(len);
  FUZZ_CHECK(again != NULL);
  FUZZ_CHECK(crdt_encode(obj, again, len, &len) == 0);
  FUZZ_CHECK(memcmp(again, data, size) == 0);
  free(again);

  crdt_object *copy = NULL;
  FUZZ_CHECK(crdt_object_copy(obj, &copy) == 0);
  FUZZ_CHECK(crdt_object_merge(copy, obj) == 0);
  FUZZ_CHECK(crdt_object_equal(copy, obj));
  crdt_order order;
  rc = crdt_object_compare(copy, obj, &order);
  FUZZ_CHECK(rc == CRDT_ENOTSUP || (rc == 0 && order == CRDT_EQUAL));
  size_t need = 0;
  rc = crdt_object_value_json(obj, NULL, 0, &need);
  FUZZ_CHECK(rc == CRDT_ENOSPC);
  rc = crdt_object_context_text(obj, NULL, 0, &need);
  FUZZ_CHECK(rc == CRDT_ENOSPC || rc == CRDT_ENOTSUP);
  check_owned(data, size, obj);
#ifdef FUZZ_DECODE_LIVE
  check_live(obj);
#endif
  crdt_object_free(copy);
  crdt_object_free(obj);
}
