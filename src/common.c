/*
 * Version, error table and the default allocator.
 */
#define _DEFAULT_SOURCE /* madvise */
#include <stdlib.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "crdt/common.h"
#include "mem.h"

const char *crdt_version(void) { return CRDT_VERSION_STRING; }

const char *crdt_strerror(int err) {
  switch (err) {
  case 0: return "success";
#define CRDT__ERR_MSG(name, value, msg) case CRDT_##name: return msg;
    CRDT_ERRNO_MAP(CRDT__ERR_MSG)
#undef CRDT__ERR_MSG
  default: return "unknown error";
  }
}

const char *crdt_err_name(int err) {
  switch (err) {
  case 0: return "CRDT_OK";
#define CRDT__ERR_NAME(name, value, msg) case CRDT_##name: return "CRDT_" #name;
    CRDT_ERRNO_MAP(CRDT__ERR_NAME)
#undef CRDT__ERR_NAME
  default: return "CRDT_UNKNOWN";
  }
}

const char *crdt_order_name(crdt_order order) {
  switch (order) {
  case CRDT_EQUAL: return "equal";
  case CRDT_BEFORE: return "before";
  case CRDT_AFTER: return "after";
  case CRDT_CONCURRENT: return "concurrent";
  }
  return "?";
}

static void *libc_alloc(void *user, size_t size) {
  (void)user;
  return malloc(size);
}

static void *libc_realloc(void *user, void *ptr, size_t old_size,
                          size_t new_size) {
  (void)user;
  (void)old_size;
  return realloc(ptr, new_size);
}

static void libc_free(void *user, void *ptr, size_t size) {
  (void)user;
  (void)size;
  free(ptr);
}

static const crdt_allocator libc_allocator = {libc_alloc, libc_realloc,
                                              libc_free, NULL};
static crdt_allocator default_allocator = {libc_alloc, libc_realloc, libc_free,
                                           NULL};

const crdt_allocator *crdt__mem_default(void) { return &default_allocator; }

int crdt_set_allocator(const crdt_allocator *allocator) {
  if (!allocator) {
    default_allocator = libc_allocator;
    return 0;
  }
  if (!allocator->alloc || !allocator->realloc || !allocator->free)
    return CRDT_EINVAL;
  default_allocator = *allocator;
  return 0;
}

void crdt__advise_huge(void *p, size_t n) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  const uintptr_t huge = (uintptr_t)2 << 20;
  if (!p || n < CRDT__HUGE_MIN) return;
  uintptr_t start = ((uintptr_t)p + huge - 1) & ~(huge - 1);
  uintptr_t end = ((uintptr_t)p + n) & ~(huge - 1);
  if (end > start) (void)madvise((void *)start, end - start, MADV_HUGEPAGE);
#else
  (void)p;
  (void)n;
#endif
}
