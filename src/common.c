/*
 * Version, error table and the default allocator.
 */
#include <stdlib.h>

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
