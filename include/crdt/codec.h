/*
 * libcrdt: the binary wire format (docs/format.md).
 */
#ifndef CRDT_CODEC_H
#define CRDT_CODEC_H

#include <stdbool.h>

#include "crdt/common.h"
#include "crdt/context.h"
#include "crdt/object.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @file codec.h
 * Replicas sync by exchanging bytes. Every state, every delta (deltas are
 * states) and every MV-register read context has one canonical binary
 * encoding: equal states give identical bytes on every replica. A blob is
 * self-describing (magic, format version, type tag) and checksummed
 * (XXH3-64). The decoder treats its input as hostile: any malformed blob
 * gets a specific error code, never a crash, and memory allocated while
 * decoding stays proportional to the input size.
 */

/** The format version this library writes (and the only one it reads). */
#define CRDT_FORMAT_VERSION 1

/** Encodes a state or delta into `buf`.
 * @param obj the state or delta to encode; not changed.
 * @param buf destination; may be NULL when cap is 0 (size query).
 * @param cap bytes available at buf.
 * @param[out] size receives the encoded size, also when buf is too small.
 * @return 0, CRDT_ENOSPC (nothing useful written; *size tells the size
 *   needed), CRDT_EINVAL, CRDT_ENOMEM, or CRDT_ERANGE (a counter past 2^63
 *   that the format cannot express as a gap; unreachable in practice). */
CRDT_API int crdt_encode(const crdt_object *obj, void *buf, size_t cap,
                         size_t *size);

/** Decodes a blob into a new object.
 * @param data the blob (may be NULL when len is 0); read during the call
 *   only (the object keeps copies of the bytes it needs).
 * @param len the blob's size in bytes: exactly one encoding, nothing after
 *   it (CRDT_ETRAILING).
 * @param replica the owner to give the decoded state (the id its future
 *   updates are stamped with, e.g. when a replica reloads its own state), or
 *   NULL for a receive-only object / delta. A delta decoded with an owner
 *   becomes an ordinary state. Copied; CRDT_EINVAL when not a valid id.
 * @param[out] out the new object; the caller frees it with
 *   crdt_object_free(). Unchanged on error.
 * @return 0, CRDT_EINVAL, CRDT_ENOMEM, or a decoding error: CRDT_EMAGIC,
 *   CRDT_ETRUNC, CRDT_ETRAILING, CRDT_ECHECKSUM, CRDT_EVERSION,
 *   CRDT_EBADTYPE (unknown tag, or a context token), CRDT_EORDER,
 *   CRDT_EDOT, CRDT_EOVERFLOW, CRDT_ELENGTH, CRDT_EFORMAT, CRDT_ETOOMANY. */
CRDT_API int crdt_decode(const void *data, size_t len, const char *replica,
                         crdt_object **out);

/** What a blob holds, read from its header alone. */
typedef struct crdt_blob_info {
  unsigned version; /**< format version */
  crdt_type type;   /**< the type tag; 0 for a context token */
  bool is_context;  /**< a read-context token (crdt_context_decode) */
  bool is_delta;    /**< a keyed delta (a delta object never merged with a
                         full state) */
} crdt_blob_info;

/** Reads a blob's header without decoding or checking the rest.
 * @return 0, CRDT_EINVAL, CRDT_EMAGIC, CRDT_ETRUNC, CRDT_EVERSION,
 *   CRDT_EBADTYPE or CRDT_EFORMAT. */
CRDT_API int crdt_peek(const void *data, size_t len, crdt_blob_info *info);

/** Encodes a causal context (an MV-register read token) the same way; same
 * contract as crdt_encode(). */
CRDT_API int crdt_context_encode(const crdt_context *ctx, void *buf,
                                 size_t cap, size_t *size);

/** Decodes a context token.
 * @return 0, CRDT_EINVAL, CRDT_ENOMEM or a decoding error (CRDT_EBADTYPE
 *   when the blob is a state, not a context). */
CRDT_API int crdt_context_decode(const void *data, size_t len,
                                 crdt_context **out);

#ifdef __cplusplus
}
#endif
#endif /* CRDT_CODEC_H */
