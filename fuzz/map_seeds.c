/*
 * Writes the seed corpus of fuzz_decode_map (fuzz/corpus/decode_map/):
 * encodings of maps and map deltas, each as a raw blob (mode byte 1) and
 * as a body to be framed (mode byte 0). Not built by CMake; to rebuild the
 * seeds after a wire-format change:
 *   cc -Iinclude fuzz/map_seeds.c build/asan/libcrdt.a -lxxhash \
 *      -fsanitize=address,undefined -o /tmp/map_seeds &&
 *   /tmp/map_seeds fuzz/corpus/decode_map
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crdt/crdt.h"

static const char *dir;

static void put(const char *name, int mode, const uint8_t *b, size_t len) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s_%s", dir, name,
           mode & 1 ? "blob" : "body");
  FILE *f = fopen(path, "wb");
  if (!f) {
    perror(path);
    exit(1);
  }
  uint8_t m = (uint8_t)mode;
  fwrite(&m, 1, 1, f);
  fwrite(b, 1, len, f);
  fclose(f);
}

/* The blob as is, and its body without the frame (magic, version, tag,
 * flags, varint length; checksum). */
static void seed(const char *name, crdt_map *map) {
  const crdt_object *o = crdt_map_object(map);
  size_t len = 0;
  if (crdt_encode(o, NULL, 0, &len) != CRDT_ENOSPC) exit(1);
  uint8_t *b = malloc(len);
  if (!b || crdt_encode(o, b, len, &len)) exit(1);
  put(name, 1, b, len);
  size_t at = 7;
  while (b[at] & 0x80) at++;
  at++;
  uint8_t flags = b[6];
  put(name, flags << 1, b + at, len - at - 8);
  free(b);
}

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  dir = argv[1];
  crdt_map *a = NULL, *b = NULL, *d = NULL, *g = NULL, *e = NULL;
  if (crdt_map_new("A", &a) || crdt_map_new("B", &b) ||
      crdt_map_new(NULL, &d) || crdt_map_new(NULL, &g) ||
      crdt_map_new(NULL, &e))
    return 1;
  seed("empty", e);
  crdt_map_counter_inc(a, CRDT_PATH("visits"), 3, g);
  crdt_map_counter_dec(a, CRDT_PATH("visits"), 1, g);
  crdt_map_orset_add(a, CRDT_PATH("user", "tags"), "x", 1, g);
  crdt_map_orset_add(a, CRDT_PATH("user", "tags"), "", 0, g);
  crdt_map_mvreg_set(a, CRDT_PATH("user", "name"), "ann", 3, g);
  crdt_map_lwwreg_set(a, CRDT_PATH("user", "name"), "bo", 2, 7, g);
  crdt_map_flag_enable(a, CRDT_PATH("user", "prefs", "dark"), g);
  crdt_map_counter_inc(a, CRDT_PATH(""), 1, g);
  seed("one_replica", a);
  crdt_map_merge(b, a);
  crdt_map_mvreg_set(b, CRDT_PATH("user", "name"), "cy", 2, g);
  crdt_map_counter_inc(b, CRDT_PATH("visits"), 2, g);
  crdt_map_orset_add(a, CRDT_PATH("user", "tags"), "y", 1, g);
  crdt_map_remove(a, CRDT_PATH("user", "prefs"), CRDT_FIELD_MAP, d);
  seed("remove_delta", d);
  crdt_map_merge(a, b);
  seed("two_replicas", a);
  seed("delta_group", g);
  crdt_map_remove(b, CRDT_PATH("user"), CRDT_FIELD_MAP, NULL);
  seed("removed_user", b);
  crdt_map_free(a);
  crdt_map_free(b);
  crdt_map_free(d);
  crdt_map_free(g);
  crdt_map_free(e);
  return 0;
}
