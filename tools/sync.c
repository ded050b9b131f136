/*
 * `crdt sync FILE -- CMD [ARG...]` and `crdt serve FILE`: two state files
 * brought to equal states by a sync session (include/crdt/sync.h) over a
 * byte stream, like rsync over ssh: sync runs CMD (for instance `ssh host
 * crdt serve b.crdt`) and speaks the protocol with it over its standard
 * input and output; serve speaks it over its own.
 *
 * Each side holds its file's lock for the whole run, reads the state once,
 * and writes it once, atomically, at the end, and only when the sync
 * finished: a peer that dies mid-sync leaves both files as they were (or
 * merged, if it died after finishing). Both sides read and write at once
 * (poll), so neither can block the other with a full pipe.
 *
 * Stream framing, around each session message:
 *   u8 kind   0: a session message, 1: DONE
 *   u32       payload length, big-endian
 *   payload   the message; for DONE, the number of session messages this
 *             side has received (u64, big-endian)
 * A side is finished when its session is in sync, it has nothing to send,
 * its last frame was a DONE counting every message the peer sent, and the
 * peer's last frame was a DONE counting every message it sent. Then both
 * know that all was delivered, and the other side finishes too.
 */
#define _GNU_SOURCE /* pipe2 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define FRAME_DATA 0
#define FRAME_DONE 1
#define DEFAULT_CAP ((size_t)1 << 20)
#define MAX_CAP ((size_t)64 << 20)
#define OUT_HIGH ((size_t)4 << 20) /* produce no more while this is queued */

/* A growable byte buffer with a read position. */
typedef struct buf {
  unsigned char *p;
  size_t len, cap, at;
} buf;

static int buf_add(buf *b, const void *data, size_t n) {
  if (b->at && b->at == b->len) b->at = b->len = 0;
  if (b->len + n > b->cap) {
    if (b->at) { /* slide the unread part down first */
      memmove(b->p, b->p + b->at, b->len - b->at);
      b->len -= b->at;
      b->at = 0;
    }
    size_t cap = b->cap ? b->cap : 65536;
    while (cap < b->len + n) cap *= 2;
    unsigned char *q = realloc(b->p, cap);
    if (!q) return -1;
    b->p = q;
    b->cap = cap;
  }
  memcpy(b->p + b->len, data, n);
  b->len += n;
  return 0;
}

static int put_frame(buf *b, int kind, const void *data, size_t n) {
  unsigned char h[5] = {(unsigned char)kind, (unsigned char)(n >> 24),
                        (unsigned char)(n >> 16), (unsigned char)(n >> 8),
                        (unsigned char)n};
  return buf_add(b, h, 5) || buf_add(b, data, n) ? -1 : 0;
}

typedef struct peer_link {
  const char *path; /* the file, for messages */
  const char *who;  /* "sync" or "serve" */
  crdt_sync *s;
  int in, out;
  size_t cap;
  bool progress;
  buf ob, ib;
  uint64_t sent_msgs, recv_msgs, sent_bytes, recv_bytes;
  uint64_t flights; /* bursts of messages received */
  int last_dir; /* 1: last data frame was sent, 2: received */
  bool done_sent_fresh; /* my last frame is a DONE, counting all received */
  bool peer_done_ok;    /* the peer's last frame is a DONE counting all sent */
  bool eof;
  double start, last_progress;
} peer_link;

static double seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Round trips as the peer's messages arrive in bursts: each burst of data
 * received after this side sent something is half a round trip. */
static void note_dir(peer_link *l, int dir) {
  if (dir == 2 && l->last_dir != 2) l->flights++;
  l->last_dir = dir;
}

/* Everything the session has to say now, framed into the output buffer. */
static int produce_all(peer_link *l, unsigned char *msg) {
  while (l->ob.len - l->ob.at < OUT_HIGH) {
    size_t n;
    int rc = crdt_sync_produce(l->s, msg, l->cap, &n);
    if (rc) {
      cli_error("%s: %s: %s", l->who, l->path, crdt_strerror(rc));
      return CLI_FAIL;
    }
    if (!n) break;
    if (put_frame(&l->ob, FRAME_DATA, msg, n)) goto oom;
    l->sent_msgs++;
    l->sent_bytes += n;
    l->done_sent_fresh = false;
    note_dir(l, 1);
  }
  if (crdt_sync_in_sync(l->s) && !l->done_sent_fresh &&
      l->ob.len - l->ob.at < OUT_HIGH) {
    unsigned char count[8];
    for (int i = 0; i < 8; i++)
      count[i] = (unsigned char)(l->recv_msgs >> (56 - 8 * i));
    if (put_frame(&l->ob, FRAME_DONE, count, 8)) goto oom;
    l->done_sent_fresh = true;
  }
  return CLI_OK;
oom:
  cli_error("%s: out of memory", l->who);
  return CLI_FAIL;
}

/* Complete frames in the input buffer go to the session. */
static int consume(peer_link *l) {
  for (;;) {
    size_t have = l->ib.len - l->ib.at;
    if (have < 5) return CLI_OK;
    const unsigned char *h = l->ib.p + l->ib.at;
    size_t n = (size_t)h[1] << 24 | (size_t)h[2] << 16 | (size_t)h[3] << 8 | h[4];
    if (h[0] > FRAME_DONE || n > MAX_CAP + 64 || (h[0] == FRAME_DONE && n != 8)) {
      cli_error("%s: the peer does not speak the crdt sync protocol", l->who);
      return CLI_FAIL;
    }
    if (have < 5 + n) return CLI_OK;
    const unsigned char *p = h + 5;
    l->ib.at += 5 + n;
    if (h[0] == FRAME_DONE) {
      uint64_t count = 0;
      for (int i = 0; i < 8; i++) count = count << 8 | p[i];
      l->peer_done_ok = count == l->sent_msgs;
      continue;
    }
    l->peer_done_ok = false;
    l->recv_msgs++;
    l->recv_bytes += n;
    l->done_sent_fresh = false; /* a DONE must count this one */
    note_dir(l, 2);
    int rc = crdt_sync_receive(l->s, p, n);
    if (rc) {
      cli_error("%s: %s: bad message from the peer: %s", l->who, l->path,
                crdt_strerror(rc));
      return CLI_FAIL;
    }
  }
}

static void show_progress(peer_link *l, bool force) {
  double now = seconds();
  if (!l->progress || (!force && now - l->last_progress < 1.0)) return;
  if (!force && now - l->start < 1.0) return;
  l->last_progress = now;
  fprintf(stderr, "crdt %s: %s: %.1f MB sent, %.1f MB received\n", l->who,
          l->path, (double)l->sent_bytes / 1e6, (double)l->recv_bytes / 1e6);
}

/* The protocol over (in, out) until both sides are finished. */
static int run_link(peer_link *l) {
  unsigned char *msg = malloc(l->cap);
  if (!msg) {
    cli_error("%s: out of memory", l->who);
    return CLI_FAIL;
  }
  (void)fcntl(l->out, F_SETFL, fcntl(l->out, F_GETFL) | O_NONBLOCK);
  int status = CLI_OK, write_errno = 0;
  unsigned char chunk[65536];
  for (;;) {
    if ((status = produce_all(l, msg)) != CLI_OK) break;
    const bool finished = l->done_sent_fresh && l->peer_done_ok &&
                          crdt_sync_in_sync(l->s) && l->ob.at == l->ob.len;
    if (finished) break;
    if (l->eof) {
      if (write_errno)
        cli_error("%s: %s: the peer went away (%s); the file is unchanged",
                  l->who, l->path, strerror(write_errno));
      else
        cli_error("%s: %s: the peer closed the connection before the sync "
                  "finished; the file is unchanged", l->who, l->path);
      status = CLI_FAIL;
      break;
    }
    if (write_errno) l->ob.at = l->ob.len = 0; /* nobody reads it */
    struct pollfd fds[2] = {{l->in, POLLIN, 0}, {l->out, POLLOUT, 0}};
    nfds_t nfds = l->ob.at < l->ob.len ? 2 : 1;
    if (poll(fds, nfds, 1000) < 0) {
      if (errno == EINTR) continue;
      cli_error("%s: poll: %s", l->who, strerror(errno));
      status = CLI_FAIL;
      break;
    }
    if (nfds == 2 && (fds[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t w = write(l->out, l->ob.p + l->ob.at, l->ob.len - l->ob.at);
      if (w < 0 && errno != EAGAIN && errno != EINTR) {
        /* the peer stopped reading: what it said before says why */
        write_errno = errno;
        continue;
      }
      if (w > 0) l->ob.at += (size_t)w;
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = read(l->in, chunk, sizeof chunk);
      if (r < 0 && errno != EAGAIN && errno != EINTR) {
        cli_error("%s: read: %s", l->who, strerror(errno));
        status = CLI_FAIL;
        break;
      }
      if (r == 0) l->eof = true;
      if (r > 0 && buf_add(&l->ib, chunk, (size_t)r)) {
        cli_error("%s: out of memory", l->who);
        status = CLI_FAIL;
        break;
      }
      if ((status = consume(l)) != CLI_OK) break;
    }
    show_progress(l, false);
  }
  free(msg);
  free(l->ob.p);
  free(l->ib.p);
  return status;
}

/* ---- the commands ---------------------------------------------------------- */

typedef struct opts {
  size_t cap;
  bool quiet;
  int first; /* index of FILE */
  int cmd;   /* index of CMD after --, or -1 */
} opts;

static int parse(const char *name, int argc, char **argv, bool want_cmd,
                 opts *o) {
  *o = (opts){DEFAULT_CAP, false, -1, -1};
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0) {
      if (!want_cmd) return cli_usage_error(name, "unexpected --");
      o->cmd = i + 1;
      break;
    }
    if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
      o->quiet = true;
    } else if (strncmp(a, "--cap=", 6) == 0 || strcmp(a, "--cap") == 0) {
      const char *v = a[5] == '=' ? a + 6 : (i + 1 < argc ? argv[++i] : NULL);
      char *end;
      unsigned long long c = v ? strtoull(v, &end, 10) : 0;
      if (!v || *end || c < 256 || c > MAX_CAP)
        return cli_usage_error(name, "--cap takes a size from 256 to %zu bytes",
                               MAX_CAP);
      o->cap = (size_t)c;
    } else if (a[0] == '-' && a[1]) {
      return cli_usage_error(name, "unknown option '%s'", a);
    } else if (o->first < 0) {
      o->first = i;
    } else {
      return cli_usage_error(name, "too many arguments");
    }
  }
  if (o->first < 0) return cli_usage_error(name, "missing FILE");
  if (want_cmd && (o->cmd < 0 || o->cmd >= argc))
    return cli_usage_error(name, "missing -- CMD [ARG...]");
  return CLI_OK;
}

/* The file of one side: locked and loaded before the peer starts. */
typedef struct side {
  const char *path;
  int lock;
  crdt_object *obj;
} side;

static int side_open(side *sd, const char *path) {
  sd->path = path;
  if (cli_lock(path, &sd->lock) != CLI_OK) return CLI_FAIL;
  if (cli_load(path, NULL, &sd->obj) != CLI_OK) {
    cli_unlock(sd->lock);
    return CLI_FAIL;
  }
  return CLI_OK;
}

/* Runs the session over (in, out); writes the file when it finished. Frees
 * the side. */
static int sync_side(const char *who, side *sd, int in, int out,
                     const opts *o, bool report) {
  peer_link l;
  memset(&l, 0, sizeof l);
  l.path = sd->path;
  l.who = who;
  l.in = in;
  l.out = out;
  l.cap = o->cap;
  l.progress = !o->quiet && report;
  l.start = l.last_progress = seconds();
  int rc = crdt_sync_new(sd->obj, &l.s);
  int status = CLI_FAIL;
  if (rc) {
    cli_error("%s: %s: %s", who, sd->path, crdt_strerror(rc));
  } else if ((status = run_link(&l)) == CLI_OK) {
    crdt_sync_free(l.s);
    l.s = NULL;
    status = cli_save(sd->path, sd->obj, CLI_REPLACE);
  }
  crdt_sync_free(l.s);
  crdt_object_free(sd->obj);
  cli_unlock(sd->lock);
  if (status == CLI_OK && report && !o->quiet) {
    show_progress(&l, l.sent_bytes + l.recv_bytes > 10000000);
    fprintf(stderr,
            "crdt %s: sent %llu bytes in %llu messages, received %llu bytes "
            "in %llu messages, %.1f round trips, %.2f s\n",
            who, (unsigned long long)l.sent_bytes,
            (unsigned long long)l.sent_msgs, (unsigned long long)l.recv_bytes,
            (unsigned long long)l.recv_msgs, (double)l.flights / 2,
            seconds() - l.start);
  }
  return status;
}

int cli_cmd_serve(int argc, char **argv) {
  opts o;
  if (parse("serve", argc, argv, false, &o) != CLI_OK) return CLI_USAGE;
  signal(SIGPIPE, SIG_IGN);
  side sd;
  if (side_open(&sd, argv[o.first]) != CLI_OK) return CLI_FAIL;
  return sync_side("serve", &sd, STDIN_FILENO, STDOUT_FILENO, &o, false);
}

int cli_cmd_sync(int argc, char **argv) {
  opts o;
  if (parse("sync", argc, argv, true, &o) != CLI_OK) return CLI_USAGE;
  signal(SIGPIPE, SIG_IGN);
  /* This side's file is locked before the peer starts: a sync always takes
   * its own lock first and its serve the other, so two syncs in the same
   * direction never wait for each other crosswise. */
  side sd;
  if (side_open(&sd, argv[o.first]) != CLI_OK) return CLI_FAIL;
  int to_child[2], from_child[2];
  if (pipe2(to_child, O_CLOEXEC) || pipe2(from_child, O_CLOEXEC)) {
    cli_error("sync: pipe: %s", strerror(errno));
    crdt_object_free(sd.obj);
    cli_unlock(sd.lock);
    return CLI_FAIL;
  }
  pid_t pid = fork();
  if (pid < 0) {
    cli_error("sync: fork: %s", strerror(errno));
    crdt_object_free(sd.obj);
    cli_unlock(sd.lock);
    return CLI_FAIL;
  }
  if (pid == 0) {
    dup2(to_child[0], STDIN_FILENO);
    dup2(from_child[1], STDOUT_FILENO);
    execvp(argv[o.cmd], argv + o.cmd);
    cli_error("sync: cannot run %s: %s", argv[o.cmd], strerror(errno));
    _exit(127);
  }
  close(to_child[0]);
  close(from_child[1]);
  int status = sync_side("sync", &sd, from_child[0], to_child[1], &o, true);
  close(to_child[1]); /* the peer sees the end */
  close(from_child[0]);
  int ws;
  while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
  }
  if (status == CLI_OK && !(WIFEXITED(ws) && WEXITSTATUS(ws) == 0)) {
    cli_error("sync: %s %s", argv[o.cmd],
              WIFEXITED(ws) ? "exited with an error after the sync"
                            : "was killed after the sync");
    status = CLI_FAIL;
  }
  return status;
}
