/*
 * The `crdt` command: inspect, update, merge and compare libcrdt state files
 * from the shell, and a guided demo of version vectors. See docs/crdt.1.
 *
 * This file dispatches to the subcommands and holds the help text; the
 * interface (commands, options, exit status) is a contract scripts rely on.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct command {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *usage; /* after "usage: crdt " */
} command;

static const command commands[] = {
    {"new", cli_cmd_new, "new TYPE FILE"},
    {"apply", cli_cmd_apply,
     "apply FILE --replica R [--field NAME:TYPE...] OP [ARG...]"},
    {"merge", cli_cmd_merge, "merge FILE OTHER..."},
    {"show", cli_cmd_show, "show FILE [--json]"},
    {"context", cli_cmd_context, "context FILE"},
    {"compare", cli_cmd_compare, "compare FILE OTHER"},
    {"sync", cli_cmd_sync, "sync FILE [--cap BYTES] [--quiet] -- CMD [ARG...]"},
    {"serve", cli_cmd_serve, "serve FILE [--cap BYTES]"},
    {"demo", cli_cmd_demo, "demo [--svg OUT.svg]"},
};

/* Every line at most 80 columns (tests/cli/cli.sh checks). */
static const char help_text[] =
    "usage: crdt COMMAND [ARG...]\n"
    "\n"
    "Inspect, update, merge and compare libcrdt state files. A state file\n"
    "holds one replica's state exactly as crdt_encode() writes it.\n"
    "\n"
    "  crdt new TYPE FILE             create FILE holding an empty state\n"
    "      TYPE: gcounter pncounter orset mvreg cart lwwreg flag map\n"
    "  crdt apply FILE --replica R OP [ARG...]\n"
    "                                 apply one update, stamped by replica R\n"
    "      gcounter:  inc [N]\n"
    "      pncounter: inc [N] | dec [N]\n"
    "      orset:     add ELEM | rm ELEM\n"
    "      mvreg:     set VALUE [--context TOKEN]\n"
    "      cart:      add ITEM [N] | dec ITEM [N] | rm ITEM\n"
    "      lwwreg:    set VALUE --time T\n"
    "      flag:      enable | disable\n"
    "      map:       --field NAME:TYPE [--field NAME:TYPE...] then the\n"
    "                 field's op; the options are the path to the field\n"
    "        counter: inc [N] | dec [N]      orset:  add ELEM | rm ELEM\n"
    "        mvreg:   set VALUE              lwwreg: set VALUE --time T\n"
    "        flag:    enable | disable       every field type: del\n"
    "  crdt merge FILE OTHER...       join the OTHER states into FILE\n"
    "  crdt show FILE [--json]        print type, value and causal context\n"
    "  crdt context FILE              print an mvreg's read context token\n"
    "  crdt compare FILE OTHER        print equal, before, after or "
    "concurrent\n"
    "  crdt sync FILE -- CMD [ARG...] sync FILE with the file of a\n"
    "                                 `crdt serve` that CMD runs (e.g. ssh\n"
    "                                 host crdt serve b.crdt); both end equal\n"
    "  crdt serve FILE                the other end of crdt sync, over\n"
    "                                 standard input and output\n"
    "  crdt demo [--svg OUT.svg]      how version numbers become version\n"
    "                                 vectors, step by step\n"
    "  crdt help, crdt --help         this text; crdt --version\n"
    "\n"
    "N is a positive integer, 1 by default; T an unsigned integer. Without\n"
    "--context, set replaces every value FILE holds. Put -- before an\n"
    "argument that starts with '-'. One replica id must never be used by two\n"
    "writers at the same time. In --field NAME:TYPE, TYPE (counter orset\n"
    "mvreg lwwreg flag map) follows the last ':'; --field-hex HEX:TYPE gives\n"
    "NAME in hex, for any bytes.\n"
    "\n"
    "Exit status: 0 success, 1 error (message on stderr), 2 wrong arguments.\n"
    "More: man crdt, docs/tutorial.md.\n";

static const command *find_command(const char *name) {
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(commands[i].name, name) == 0) return &commands[i];
  return NULL;
}

void cli_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("crdt: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

int cli_usage_error(const char *name, const char *fmt, ...) {
  if (fmt) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "crdt: %s: ", name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
  }
  const command *c = find_command(name);
  if (c)
    fprintf(stderr, "usage: crdt %s\n", c->usage);
  else
    fputs("usage: crdt COMMAND [ARG...]   (crdt help lists the commands)\n",
          stderr);
  return CLI_USAGE;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fputs("usage: crdt COMMAND [ARG...]   (crdt help lists the commands)\n",
          stderr);
    return CLI_USAGE;
  }
  const char *name = argv[1];
  if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 ||
      strcmp(name, "-h") == 0) {
    fputs(help_text, stdout);
    return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
  }
  if (strcmp(name, "--version") == 0) {
    printf("crdt (libcrdt) %s\n", crdt_version());
    return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
  }
  const command *c = find_command(name);
  if (!c) {
    cli_error("unknown command '%s' (crdt help lists the commands)", name);
    return CLI_FAIL;
  }
  int status = c->run(argc - 2, argv + 2);
  /* Output that could not be written (a full disk, a closed pipe) is an
   * error: a script must not take a truncated answer for a whole one. */
  if (fflush(stdout) != 0 || ferror(stdout)) {
    if (status == CLI_OK) {
      cli_error("%s: cannot write the output", name);
      status = CLI_FAIL;
    }
  }
  return status;
}
