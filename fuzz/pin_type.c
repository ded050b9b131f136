/*
 * A fuzz target with its type byte pinned, for a campaign on one type: it
 * includes the target FUZZ_TARGET names and runs it on each input with
 * byte 0 replaced by FUZZ_TYPE_BYTE (e.g. 7, the map, in sync_receive and
 * sync_history). Not built by CMake (its name is not fuzz_*.c); after
 * `cmake --preset fuzz && cmake --build --preset fuzz --target
 * crdt_fuzz_objects`:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -fno-sanitize-recover=all -Iinclude -Isrc -Icrdt -Ifuzz -Itests/support \
 *     -DFUZZ_TARGET='"fuzz_sync_receive.c"' -DFUZZ_TYPE_BYTE=7 \
 *     fuzz/pin_type.c tests/support/{model,sim,map_model,map_sim}.c \
 *     tests/support/{syncmodel,syncworld}.c \
 *     $(find build/fuzz/CMakeFiles/crdt_fuzz_objects.dir -name '*.o') \
 *     -lxxhash -o build/fuzz/fuzz_sync_receive_map
 * Inputs, corpora and artifacts are the target's own (byte 0 is ignored).
 */
#include <stdlib.h>
#include <string.h>

#define LLVMFuzzerTestOneInput pinned_target_input
#include FUZZ_TARGET
#undef LLVMFuzzerTestOneInput

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!size) return 0;
  uint8_t *copy = malloc(size);
  if (!copy) abort();
  memcpy(copy, data, size);
  copy[0] = FUZZ_TYPE_BYTE;
  int rc = pinned_target_input(copy, size);
  free(copy);
  return rc;
}
