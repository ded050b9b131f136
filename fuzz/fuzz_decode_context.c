/*
 * Decoder fuzz target for context tokens (MV-register read contexts):
 * fuzz_decode.c with the tag forced to 0x10. Input: a mode byte, then a
 * body (even mode byte: framed with a correct checksum, flags = mode >> 1)
 * or a raw blob (odd).
 */
#define FUZZ_DECODE_TAG 0x10
#include "fuzz_decode.c"
