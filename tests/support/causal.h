/*
 * Hand-built causal states for the kernel's own tests (tests/test_store.c,
 * tests/test_kernel_oom.c), and a growing string for their snapshots. All
 * allocations go through the default allocator in force when called (the
 * counting hook once tu_alloc_install has run); failures are assertions.
 */
#ifndef CRDT_TESTS_CAUSAL_H
#define CRDT_TESTS_CAUSAL_H

#include <stdint.h>

#include "store.h"

/* A string built by appending (malloc'd; s is NULL until the first). */
typedef struct tu_sb {
  char *s;
  size_t len;
} tu_sb;
void tu_sb_printf(tu_sb *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* crdt__key_hash of a string key. */
uint32_t tu_key_hash(const char *key);
/* Index of replica `id` in c (interned on first use), with room for one
 * more dot of it in the context. */
uint32_t tu_rep(crdt__causal *c, const char *id);
/* The entry of `key`, or NULL. */
crdt__entry *tu_entry(const crdt__causal *c, const char *key);
/* The entry of `key`, inserted (with no dots) when absent. */
crdt__entry *tu_entry_or_new(crdt__causal *c, const char *key);
/* The dot (id, n) has been seen: context only. */
void tu_see(crdt__causal *c, const char *id, uint64_t n);
/* The dot (id, n) with `value` is under `key`, and in the context. */
void tu_put(crdt__causal *c, const char *key, const char *id, uint64_t n,
            int64_t value);
/* Appends "[keyed ]replicas=A,B ctx={A:2} + {B:5} x:[A:1=0 B:5=-3] y:[]":
 * the replica table in index order (an undone intern shows), the context,
 * then keys and dots in canonical order. Allocation failures armed with
 * tu_alloc_fail_at are paused meanwhile. */
void tu_causal_text(tu_sb *b, const crdt__causal *c);

#endif
