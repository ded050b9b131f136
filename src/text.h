/*
 * A bounded text writer for the *_format functions: writes what fits into the
 * caller's buffer, always counts the full length, so one pass answers both
 * "format this" and "how big a buffer do I need".
 */
#ifndef CRDT_SRC_TEXT_H
#define CRDT_SRC_TEXT_H

#include <stddef.h>
#include <stdint.h>

typedef struct crdt__text {
  char *buf;
  size_t cap;
  size_t len; /* full length, may exceed cap */
} crdt__text;

void crdt__text_put(crdt__text *t, const char *s, size_t n);
void crdt__text_str(crdt__text *t, const char *s);
void crdt__text_u64(crdt__text *t, uint64_t v);
void crdt__text_i64(crdt__text *t, int64_t v);
/* Appends `data` as a JSON string (quoted). Valid UTF-8 passes through;
 * control characters, '"' and '\\' are escaped, and each byte that is not
 * part of valid UTF-8 is written as \u00XX, so any byte string prints as
 * valid JSON on one line. */
void crdt__text_json(crdt__text *t, const void *data, size_t len);
/* NUL-terminates and reports: 0, or CRDT_ENOSPC when cap <= len. */
int crdt__text_finish(crdt__text *t, size_t *needed);

#endif
