/*
 * Bounded text writer (see text.h).
 */
#include <string.h>

#include "crdt/common.h"
#include "text.h"

void crdt__text_put(crdt__text *t, const char *s, size_t n) {
  if (t->len < t->cap) {
    size_t room = t->cap - t->len;
    memcpy(t->buf + t->len, s, n < room ? n : room);
  }
  t->len += n;
}

void crdt__text_str(crdt__text *t, const char *s) {
  crdt__text_put(t, s, strlen(s));
}

void crdt__text_u64(crdt__text *t, uint64_t v) {
  char digits[20];
  size_t n = 0;
  do {
    digits[sizeof digits - 1 - n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  crdt__text_put(t, digits + sizeof digits - n, n);
}

void crdt__text_i64(crdt__text *t, int64_t v) {
  if (v < 0) {
    crdt__text_put(t, "-", 1);
    crdt__text_u64(t, (uint64_t)0 - (uint64_t)v);
  } else {
    crdt__text_u64(t, (uint64_t)v);
  }
}

int crdt__text_finish(crdt__text *t, size_t *needed) {
  if (needed) *needed = t->len;
  if (t->len < t->cap) {
    t->buf[t->len] = '\0';
    return 0;
  }
  if (t->cap) t->buf[t->cap - 1] = '\0';
  return CRDT_ENOSPC;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n) {
  unsigned char c = s[0];
  size_t len;
  uint32_t cp;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (n < len) return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
      (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
    return 0;
  return len;
}

void crdt__text_json(crdt__text *t, const void *data, size_t len) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *s = data;
  crdt__text_put(t, "\"", 1);
  size_t i = 0;
  while (i < len) {
    unsigned char c = s[i];
    if (c == '"' || c == '\\') {
      char esc[2] = {'\\', (char)c};
      crdt__text_put(t, esc, 2);
      i++;
    } else if (c == '\n') {
      crdt__text_put(t, "\\n", 2);
      i++;
    } else if (c == '\t') {
      crdt__text_put(t, "\\t", 2);
      i++;
    } else if (c >= 0x20 && c < 0x7F) {
      crdt__text_put(t, (const char *)s + i, 1);
      i++;
    } else {
      size_t n = c >= 0x80 ? utf8_len(s + i, len - i) : 0;
      if (n) {
        crdt__text_put(t, (const char *)s + i, n);
        i += n;
      } else {
        char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        crdt__text_put(t, esc, 6);
        i++;
      }
    }
  }
  crdt__text_put(t, "\"", 1);
}
