/*
 * Decoder fuzz target for the flag: fuzz_decode.c with the type tag forced
 * to 7. Input: a mode byte, then a body (even mode byte: framed with a
 * correct checksum, flags = mode >> 1) or a raw blob (odd).
 */
#define FUZZ_DECODE_TAG 7
#include "fuzz_decode.c"
