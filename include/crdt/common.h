/*
 * libcrdt: basics shared by every module: version, export macro, error codes,
 * the allocator hook and the byte-view value struct.
 */
#ifndef CRDT_COMMON_H
#define CRDT_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @file common.h
 * Version, error codes, allocator hook. Included by every other header. */

/** Major version of the headers in use. */
#define CRDT_VERSION_MAJOR 0
/** Minor version of the headers in use. */
#define CRDT_VERSION_MINOR 1
/** Patch version of the headers in use. */
#define CRDT_VERSION_PATCH 0
#define CRDT__STR2(x) #x
#define CRDT__STR(x) CRDT__STR2(x)
/** "MAJOR.MINOR.PATCH" of the headers in use. */
#define CRDT_VERSION_STRING                                                    \
  CRDT__STR(CRDT_VERSION_MAJOR) "." CRDT__STR(CRDT_VERSION_MINOR) "."        \
  CRDT__STR(CRDT_VERSION_PATCH)
/** The version as one comparable number: MAJOR*10000 + MINOR*100 + PATCH. */
#define CRDT_VERSION_NUMBER                                                    \
  (CRDT_VERSION_MAJOR * 10000 + CRDT_VERSION_MINOR * 100 + CRDT_VERSION_PATCH)

/** @def CRDT_API
 * Marks the library's exported functions: default visibility while the
 * library itself is built (CRDT_BUILDING) with GCC or Clang, empty
 * otherwise. */
#if defined(CRDT_BUILDING) && defined(__GNUC__) && __GNUC__ >= 4
#define CRDT_API __attribute__((visibility("default")))
#else
#define CRDT_API
#endif

/** Longest replica id, in bytes. Ids are 1..CRDT_REPLICA_MAX bytes, any bytes
 * but NUL (they are passed as C strings). */
#define CRDT_REPLICA_MAX 64

/**
 * Every error code, from one table: XX(NAME, value, message).
 * Fallible functions return 0 or one of these negative values.
 */
#define CRDT_ERRNO_MAP(XX)                                                     \
  XX(ENOMEM, -1, "out of memory")                                            \
  XX(EINVAL, -2, "invalid argument")                                         \
  XX(ERANGE, -3, "counter overflow or value out of range")                   \
  XX(ENOENT, -4, "no such element, item or replica")                         \
  XX(ETYPE, -5, "objects are of different types")                           \
  XX(ENOTSUP, -6, "operation not supported by this type")                    \
  XX(ENOSPC, -7, "buffer too small")                                         \
  XX(ENOREPLICA, -8, "object has no replica id (a delta or received state)") \
  XX(ETOOMANY, -9, "too many replicas or elements")                          \
  XX(ESTALE, -10, "write is older than the current value (LWW)")             \
  XX(ETRUNC, -20, "input truncated")                                         \
  XX(ETRAILING, -21, "trailing bytes after the encoded state")               \
  XX(ECHECKSUM, -22, "checksum mismatch")                                    \
  XX(EMAGIC, -23, "not a libcrdt blob (bad magic)")                          \
  XX(EVERSION, -24, "unsupported format version")                            \
  XX(EBADTYPE, -25, "unknown or unexpected type tag")                        \
  XX(EORDER, -26, "entries unsorted or duplicated")                          \
  XX(EDOT, -27, "dot outside the causal context")                            \
  XX(EOVERFLOW, -28, "varint or counter overflow in input")                  \
  XX(ELENGTH, -29, "length beyond the input")                                \
  XX(EFORMAT, -30, "malformed input")

/** Error codes. 0 is success; every error is negative. */
typedef enum crdt_errno {
  CRDT_OK = 0,
#define CRDT__ERR_ENUM(name, value, msg) CRDT_##name = (value),
  CRDT_ERRNO_MAP(CRDT__ERR_ENUM)
#undef CRDT__ERR_ENUM
} crdt_errno;

/** The library's version string at run time ("0.1.0"); never NULL. */
CRDT_API const char *crdt_version(void);

/** Human-readable message for an error code; never NULL ("unknown error" for
 * codes outside the table, "success" for 0). Static storage. */
CRDT_API const char *crdt_strerror(int err);

/** The code's name ("CRDT_ENOMEM"); never NULL ("CRDT_UNKNOWN" for codes
 * outside the table, "CRDT_OK" for 0). Static storage. */
CRDT_API const char *crdt_err_name(int err);

/**
 * Allocator hook. Every allocation the library makes goes through one of
 * these, with `user` passed back. Sizes are passed to realloc and free so a
 * hook can count live bytes without headers of its own. Blocks must be
 * aligned for any object type, as malloc's are (the library relies on at
 * least 8-byte alignment). On Linux, the library advises blocks of 4 MiB
 * or more that hold a large state's element index and entries to use
 * transparent huge pages (madvise MADV_HUGEPAGE on the whole 2 MiB pages
 * inside the block); it is only a hint about memory the block owns.
 */
typedef struct crdt_allocator {
  /** alloc(user, size): size > 0; return NULL on failure. */
  void *(*alloc)(void *user, size_t size);
  /** realloc(user, ptr, old_size, new_size): ptr != NULL, new_size > 0;
   * return NULL on failure and leave ptr valid. */
  void *(*realloc)(void *user, void *ptr, size_t old_size, size_t new_size);
  /** free(user, ptr, size): ptr != NULL; size is what was allocated. */
  void (*free)(void *user, void *ptr, size_t size);
  /** Passed back as the first argument of every call; may be NULL. */
  void *user;
} crdt_allocator;

/**
 * Set the allocator that objects created from now on use (NULL restores
 * malloc/realloc/free). Each object keeps the allocator it was created with
 * for its whole life, so changing the default never affects live objects;
 * copies, deltas and decoded objects use the default in force when they are
 * created. The hook struct is copied. Not thread-safe: call it while no other
 * thread is creating objects.
 * @return 0, or CRDT_EINVAL if some function pointer is NULL.
 */
CRDT_API int crdt_set_allocator(const crdt_allocator *allocator);

/** A borrowed byte view (like LMDB's MDB_val): `size` bytes at `data`. */
typedef struct crdt_bytes {
  const void *data; /**< the bytes; not owned; may be NULL when size is 0 */
  size_t size;      /**< number of bytes at data */
} crdt_bytes;

/** Result of comparing two causal histories (version vectors, contexts,
 * states). */
typedef enum crdt_order {
  CRDT_EQUAL = 0,      /**< both have seen exactly the same events */
  CRDT_BEFORE = 1,     /**< the first has seen a strict subset of the second */
  CRDT_AFTER = 2,      /**< the first has seen a strict superset */
  CRDT_CONCURRENT = 3  /**< each has seen something the other has not */
} crdt_order;

/** "equal", "before", "after", "concurrent"; "?" for other values. */
CRDT_API const char *crdt_order_name(crdt_order order);

#ifdef __cplusplus
}
#endif
#endif /* CRDT_COMMON_H */
