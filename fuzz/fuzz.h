/*
 * The libFuzzer entry point every fuzz target defines; replay.c calls it
 * for each corpus file so ctest runs the corpora without libFuzzer.
 */
#ifndef CRDT_FUZZ_H
#define CRDT_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property failed: print and abort, so libFuzzer (and ctest) see it. */
void fuzz_fail(const char *what);

#define FUZZ_CHECK(cond)                                                       \
  do {                                                                         \
    if (!(cond)) fuzz_fail(#cond);                                             \
  } while (0)

#endif
