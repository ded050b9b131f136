/*
 * Decoder fuzz target: any input must decode cleanly or fail with an error
 * code. What decodes must re-encode to exactly the same bytes (the format is
 * canonical, so a decoder that accepts a non-canonical blob is a bug), and
 * merging it with itself or a copy must change nothing.
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

/* Two views of each input: the raw bytes as a blob (exercises the frame
 * checks), and, when the first byte is odd, bytes 1 and 2 as tag and flags
 * and the rest as a body wrapped in a valid frame with a correct checksum
 * (exercises the body parser, which the checksum would otherwise shield). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check_blob(data, size);
  if (size < 3 || !(data[0] & 1)) return 0;
  size_t body = size - 3;
  uint8_t *blob = malloc(7 + 10 + body + 8);
  FUZZ_CHECK(blob != NULL);
  memcpy(blob, "CRDT\x01", 5);
  blob[5] = data[1];
  blob[6] = data[2];
  size_t at = 7 + put_varint(blob + 7, body);
  memcpy(blob + at, data + 3, body);
  at += body;
  uint64_t sum = XXH3_64bits(blob, at);
  for (int i = 0; i < 8; i++) blob[at++] = (uint8_t)(sum >> (8 * i));
  check_blob(blob, at);
  free(blob);
  return 0;
}

static void check_blob(const uint8_t *data, size_t size) {
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
  crdt_object_free(copy);
  crdt_object_free(obj);
}
