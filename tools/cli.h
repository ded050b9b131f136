/*
 * The `crdt` command: declarations shared by its source files.
 *
 *   main.c     dispatch, help and usage texts
 *   state.c    state files: read, decode, encode, atomic write; hex tokens
 *   ops.c      new, apply, merge, context, compare
 *   map.c      the map: --field paths of apply, the value tree of show
 *   show.c     show (text and JSON); parsing a context's canonical text
 *   demo.c     the guided walk-through
 *   diagram.c  space-time diagrams of the walk-through, as SVG
 *   lock.c     exclusive locks on state files across read, merge, write
 *   sync.c     sync and serve: a sync session over a pipe or ssh
 *
 * Only the public API (the headers in include/crdt/) is used. Exit status:
 * CLI_OK, CLI_FAIL (the command could not do its job: a message on stderr names
 * the problem) or CLI_USAGE (wrong arguments: a usage line on stderr).
 */
#ifndef CRDT_TOOLS_CLI_H
#define CRDT_TOOLS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <crdt/crdt.h>

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

#if defined(__GNUC__)
#define CLI_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CLI_PRINTF(f, a)
#endif

/* ---- main.c ------------------------------------------------------------ */

/* Prints "crdt: <message>" and a newline on stderr. */
void cli_error(const char *fmt, ...) CLI_PRINTF(1, 2);

/* Prints "crdt: <command>: <message>", then the command's usage line, on
 * stderr; returns CLI_USAGE. `fmt` may be NULL (usage line only). */
int cli_usage_error(const char *command, const char *fmt, ...) CLI_PRINTF(2, 3);

/* ---- ops.c ------------------------------------------------------------- */

/* Strict decimal: digits only, no sign, no spaces, no overflow. */
bool cli_parse_u64(const char *s, uint64_t *out);

/* ---- map.c --------------------------------------------------------------- */

/* The --field and --field-hex options of `apply`, in the order given (the
 * path from the root map down to the field). Values are borrowed from argv;
 * `count` may exceed the arrays, so that a path too deep can be reported. */
#define CLI_FIELDS_MAX (CRDT_MAP_DEPTH_MAX + 1)
typedef struct cli_field_args {
  const char *text[CLI_FIELDS_MAX];
  bool hex[CLI_FIELDS_MAX];
  int count;
} cli_field_args;

/* When argv[i] is --field or --field-hex (as --field V or --field=V),
 * records its value in *f and returns how many arguments it took (1 or 2);
 * returns 0 for any other argument, and -1 after printing a usage error (no
 * value). */
int cli_field_option(int argc, char **argv, int i, cli_field_args *f);

/* Is `name` an op of some map field type (inc dec add rm set enable disable
 * del)? */
bool cli_map_op_known(const char *name);

/* `apply` on a loaded state: `obj` must be a map (else a usage error says
 * --field is for maps). Parses the path, checks op `op` and its `nargs`
 * arguments `args` (and the --time / --context options, NULL when absent)
 * against the field's type, and applies the update with
 * crdt_object_update(). Returns CLI_OK when obj changed and must be saved;
 * otherwise obj is unchanged and a message was printed. */
int cli_map_apply(const char *file, crdt_object *obj,
                  const cli_field_args *fields, const char *op, int nargs,
                  const char *const *args, const char *time,
                  const char *context);

/* Prints a map's value as a tree, one field a line (`"name" (type): value`,
 * nested fields indented by two more), the first line continuing the
 * current one and the others indented by `indent`; "no fields" for an empty
 * map. Returns 0 or the library's error. */
int cli_map_print_value(crdt_object *obj, int indent);

/* ---- state.c ----------------------------------------------------------- */

/* Reads a whole file into a new buffer (*data, freed by the caller; never
 * NULL on success, also for an empty file). On failure prints
 * "crdt: PATH: <reason>" and returns CLI_FAIL. */
int cli_read_file(const char *path, unsigned char **data, size_t *len);

/* Reads and decodes the state file `path`, giving the object the owner
 * `replica` (NULL: receive-only). On failure prints a message naming the file
 * and the decoder's error, returns CLI_FAIL. */
int cli_load(const char *path, const char *replica, crdt_object **out);

/* How cli_write_file() treats an existing target. */
typedef enum cli_write_mode {
  CLI_CREATE, /* fail if the target exists */
  CLI_REPLACE /* replace it, keeping its permission bits */
} cli_write_mode;

/* Writes `len` bytes to `path` atomically: a temporary file in the same
 * directory, fsync, then rename (CLI_REPLACE) or link (CLI_CREATE) onto the
 * target, and fsync of the directory. On any failure the target is
 * unchanged, the temporary file is removed, a message is printed, and
 * CLI_FAIL is returned. */
int cli_write_file(const char *path, const void *data, size_t len,
                   cli_write_mode mode);

/* "a gcounter", "an orset", ...: the type's name with its article. */
const char *cli_type_phrase(crdt_type type);

/* Encodes `obj` (crdt_encode) and writes it with cli_write_file(). */
int cli_save(const char *path, const crdt_object *obj, cli_write_mode mode);

/* Lowercase hex of `len` bytes, NUL-terminated, malloc'ed (NULL when out of
 * memory). */
char *cli_hex_encode(const void *data, size_t len);

/* Decodes hex (either case, even length, at least one byte) into a new
 * buffer. Returns 0, or -1 when `text` is not hex (nothing allocated), or
 * CRDT_ENOMEM. */
int cli_hex_decode(const char *text, unsigned char **data, size_t *len);

/* Calls a formatter with the buffer contract of crdt_vv_format()
 * (crdt_object_value_json, crdt_object_context_text) until the text fits,
 * and returns it malloc'ed. On failure returns NULL and the library's error
 * in *rc. */
typedef int (*cli_object_formatter)(const crdt_object *obj, char *buf,
                                    size_t cap, size_t *needed);
char *cli_object_text(const crdt_object *obj, cli_object_formatter format,
                      int *rc);

/* Writes bytes as a JSON string (quotes included), escaping exactly as the
 * library's value JSON does: \" \\ \n \t, other control bytes and bytes
 * that are not valid UTF-8 as \u00XX; valid UTF-8 passes through. */
void cli_json_string(FILE *out, const void *data, size_t len);

/* ---- lock.c -------------------------------------------------------------- */

/* Takes the exclusive lock of the state file `path` (waiting, with a
 * message on stderr after a while, up to CRDT_LOCK_WAIT seconds, 600 by
 * default) and stores the descriptor that holds it in *fd. Every command
 * that writes a state file holds its lock from before reading it until
 * after writing it, so concurrent commands on one file all take effect.
 * On failure prints a message and returns CLI_FAIL. */
int cli_lock(const char *path, int *fd);
/* Releases a lock taken by cli_lock (fd < 0 does nothing). */
void cli_unlock(int fd);

/* ---- ops.c / show.c / demo.c: the subcommands --------------------------- */
/* Each receives the arguments after the command name and returns an exit
 * status. */
int cli_cmd_new(int argc, char **argv);
int cli_cmd_apply(int argc, char **argv);
int cli_cmd_merge(int argc, char **argv);
int cli_cmd_show(int argc, char **argv);
int cli_cmd_context(int argc, char **argv);
int cli_cmd_compare(int argc, char **argv);
int cli_cmd_sync(int argc, char **argv);
int cli_cmd_serve(int argc, char **argv);
int cli_cmd_demo(int argc, char **argv);

/* ---- show.c -------------------------------------------------------------- */

/* One entry of a version vector, or one cloud dot. */
typedef struct cli_dot {
  char *replica; /* NUL-terminated, malloc'ed */
  uint64_t counter;
} cli_dot;

typedef struct cli_dots {
  cli_dot *items;
  size_t count;
} cli_dots;

/* Frees the items; the struct is zeroed. */
void cli_dots_free(cli_dots *dots);

#endif /* CRDT_TOOLS_CLI_H */
