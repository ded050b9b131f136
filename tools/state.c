/*
 * State files: reading and decoding them, encoding and writing them back
 * without ever leaving a half-written file, and the small text helpers
 * (hex tokens, formatted library text, JSON strings) the commands share.
 */
#define _XOPEN_SOURCE 700 /* mkstemp, fsync, link, fchmod */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "text.h"

int cli_read_file(const char *path, unsigned char **data, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    cli_error("%s: %s", path, strerror(errno));
    return CLI_FAIL;
  }
  size_t cap = 4096, n = 0;
  unsigned char *buf = malloc(cap);
  if (!buf) {
    fclose(f);
    cli_error("%s: out of memory", path);
    return CLI_FAIL;
  }
  for (;;) {
    if (n == cap) {
      unsigned char *bigger =
          cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
      if (!bigger) {
        free(buf);
        fclose(f);
        cli_error("%s: out of memory", path);
        return CLI_FAIL;
      }
      buf = bigger;
      cap *= 2;
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0) break;
  }
  if (ferror(f)) {
    int err = errno;
    free(buf);
    fclose(f);
    cli_error("%s: %s", path, err ? strerror(err) : "read error");
    return CLI_FAIL;
  }
  fclose(f);
  *data = buf;
  *len = n;
  return CLI_OK;
}

int cli_load(const char *path, const char *replica, crdt_object **out) {
  unsigned char *data;
  size_t len;
  if (cli_read_file(path, &data, &len) != CLI_OK) return CLI_FAIL;
  crdt_blob_info info;
  if (crdt_peek(data, len, &info) == 0 && info.is_context) {
    /* The decoder would say "unexpected type tag"; say what it is. */
    cli_error("%s: holds a context token, not a state", path);
    free(data);
    return CLI_FAIL;
  }
  int rc = crdt_decode(data, len, replica, out);
  free(data);
  if (rc != 0) {
    cli_error("%s: cannot decode: %s", path, crdt_strerror(rc));
    return CLI_FAIL;
  }
  return CLI_OK;
}

/* Makes `path`'s directory durable after a rename or link into it. Best
 * effort: some file systems cannot fsync a directory. */
static void sync_directory(const char *path) {
  const char *slash = strrchr(path, '/');
  char *dir;
  if (!slash)
    dir = strdup(".");
  else if (slash == path)
    dir = strdup("/");
  else
    dir = strndup(path, (size_t)(slash - path));
  if (!dir) return;
  int fd = open(dir, O_RDONLY);
  if (fd >= 0) {
    (void)fsync(fd);
    close(fd);
  }
  free(dir);
}

static int write_all(int fd, const unsigned char *p, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static int write_to(const char *target, const char *shown, const void *data,
                    size_t len, cli_write_mode mode);

int cli_write_file(const char *path, const void *data, size_t len,
                   cli_write_mode mode) {
  /* Through a symbolic link, replace the file it names, not the link. */
  struct stat st;
  char *resolved = NULL;
  if (mode == CLI_REPLACE && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
    resolved = realpath(path, NULL);
  int status = write_to(resolved ? resolved : path, path, data, len, mode);
  free(resolved);
  return status;
}

/* cli_write_file() onto `target`; messages name `shown` (what the user
 * typed). */
static int write_to(const char *target, const char *shown, const void *data,
                    size_t len, cli_write_mode mode) {
  const char *path = target;
  struct stat st;
  mode_t perms;
  if (stat(path, &st) == 0) {
    if (mode == CLI_CREATE) {
      cli_error("%s: already exists (remove it first to start over)", shown);
      return CLI_FAIL;
    }
    if (!S_ISREG(st.st_mode)) {
      cli_error("%s: not a regular file", shown);
      return CLI_FAIL;
    }
    perms = st.st_mode & 07777;
  } else {
    mode_t mask = umask(0);
    umask(mask);
    perms = 0666 & ~mask;
  }

  /* The temporary file lives beside the target so that rename() is atomic
   * (same file system). */
  static const char suffix[] = ".tmp.XXXXXX";
  size_t plen = strlen(path);
  char *tmp = malloc(plen + sizeof suffix);
  if (!tmp) {
    cli_error("%s: out of memory", shown);
    return CLI_FAIL;
  }
  memcpy(tmp, path, plen);
  memcpy(tmp + plen, suffix, sizeof suffix);
  int fd = mkstemp(tmp);
  if (fd < 0) {
    cli_error("%s: cannot create a temporary file beside it: %s", shown,
              strerror(errno));
    free(tmp);
    return CLI_FAIL;
  }
  const char *step = "write";
  if (fchmod(fd, perms) != 0) {
    step = "chmod";
    goto fail;
  }
  if (write_all(fd, data, len) != 0) goto fail;
  step = "fsync";
  if (fsync(fd) != 0) goto fail;
  step = "close";
  if (close(fd) != 0) {
    fd = -1;
    goto fail;
  }
  fd = -1;
  if (mode == CLI_CREATE) {
    /* link() fails with EEXIST instead of replacing a file created since
     * the check above. File systems without hard links get rename(). */
    step = "create";
    if (link(tmp, path) == 0) {
      unlink(tmp);
    } else if (errno == EEXIST) {
      unlink(tmp);
      free(tmp);
      cli_error("%s: already exists (remove it first to start over)", shown);
      return CLI_FAIL;
    } else if (rename(tmp, path) != 0) {
      goto fail;
    }
  } else {
    step = "rename";
    if (rename(tmp, path) != 0) goto fail;
  }
  sync_directory(path);
  free(tmp);
  return CLI_OK;

fail:;
  int err = errno;
  if (fd >= 0) close(fd);
  unlink(tmp);
  free(tmp);
  cli_error("%s: cannot write (%s): %s; the file is unchanged", shown, step,
            strerror(err));
  return CLI_FAIL;
}

const char *cli_type_phrase(crdt_type type) {
  switch (type) {
  case CRDT_TYPE_GCOUNTER:
    return "a gcounter";
  case CRDT_TYPE_PNCOUNTER:
    return "a pncounter";
  case CRDT_TYPE_ORSET:
    return "an orset";
  case CRDT_TYPE_MVREG:
    return "an mvreg";
  case CRDT_TYPE_CART:
    return "a cart";
  case CRDT_TYPE_LWWREG:
    return "an lwwreg";
  case CRDT_TYPE_FLAG:
    return "a flag";
  case CRDT_TYPE_MAP:
    return "a map";
  }
  return "an unknown type";
}

int cli_save(const char *path, const crdt_object *obj, cli_write_mode mode) {
  size_t size = 0;
  int rc = crdt_encode(obj, NULL, 0, &size);
  if (rc != 0 && rc != CRDT_ENOSPC) {
    cli_error("%s: cannot encode the state: %s; the file is unchanged", path,
              crdt_strerror(rc));
    return CLI_FAIL;
  }
  unsigned char *buf = malloc(size ? size : 1);
  if (!buf) {
    cli_error("%s: out of memory", path);
    return CLI_FAIL;
  }
  rc = crdt_encode(obj, buf, size, &size);
  if (rc != 0) {
    free(buf);
    cli_error("%s: cannot encode the state: %s; the file is unchanged", path,
              crdt_strerror(rc));
    return CLI_FAIL;
  }
  int status = cli_write_file(path, buf, size, mode);
  free(buf);
  return status;
}

char *cli_hex_encode(const void *data, size_t len) {
  static const char digits[] = "0123456789abcdef";
  const unsigned char *p = data;
  if (len > (SIZE_MAX - 1) / 2) return NULL;
  char *text = malloc(len * 2 + 1);
  if (!text) return NULL;
  for (size_t i = 0; i < len; i++) {
    text[2 * i] = digits[p[i] >> 4];
    text[2 * i + 1] = digits[p[i] & 15];
  }
  text[len * 2] = '\0';
  return text;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int cli_hex_decode(const char *text, unsigned char **data, size_t *len) {
  size_t n = strlen(text);
  if (n == 0 || n % 2) return -1;
  for (size_t i = 0; i < n; i++)
    if (hex_value(text[i]) < 0) return -1;
  unsigned char *buf = malloc(n / 2);
  if (!buf) return CRDT_ENOMEM;
  for (size_t i = 0; i < n / 2; i++)
    buf[i] = (unsigned char)(hex_value(text[2 * i]) << 4 |
                             hex_value(text[2 * i + 1]));
  *data = buf;
  *len = n / 2;
  return 0;
}

/* The buffer contract of crdt_vv_format() and friends: ask for the size,
 * then format into a buffer of that size. A second ENOSPC cannot happen for
 * an unchanged object, but loop rather than trust that. */
char *cli_object_text(const crdt_object *obj, cli_object_formatter format,
                      int *rc) {
  char *buf = NULL;
  size_t cap = 0, needed = 0;
  for (;;) {
    int r = format(obj, buf, cap, &needed);
    if (r == 0 && buf) return buf;
    free(buf);
    if (r != 0 && r != CRDT_ENOSPC) {
      *rc = r;
      return NULL;
    }
    cap = needed + 1;
    if (!(buf = malloc(cap))) {
      *rc = CRDT_ENOMEM;
      return NULL;
    }
  }
}

/* The library's own escaping (src/text.c), so replica ids print exactly as
 * the values do: valid UTF-8 as is, other bytes as \u00XX. */
void cli_json_string(FILE *out, const void *data, size_t len) {
  crdt__text count = {NULL, 0, 0};
  crdt__text_json(&count, data, len);
  char *buf = malloc(count.len + 1);
  if (!buf) {
    fputs("\"\"", out); /* out of memory: print something valid */
    return;
  }
  crdt__text t = {buf, count.len + 1, 0};
  crdt__text_json(&t, data, len);
  fwrite(buf, 1, t.len, out);
  free(buf);
}
