/*
 * Sync sessions over a TCP socket: how to wire include/crdt/sync.h to a
 * byte stream (docs/sync.md). Two processes hold a shopping list each (an
 * OR-set that started from one shared state and then changed on both
 * sides); the parent listens on 127.0.0.1, the child connects, and each
 * runs sync_over_socket() until both lists are equal.
 *
 * The session only turns bytes into bytes; the program frames them (the
 * stream has no message boundaries) and decides when to stop:
 *   frame = u32 big-endian header, then the payload
 *     header < 2^31   a session message of that many bytes
 *     header >= 2^31  DONE: "I am in sync and have received (header -
 *                     2^31) messages"
 *   A side stops when its session is in sync, its last frame was a DONE
 *   counting every message the peer sent, and the peer's last frame was a
 *   DONE counting every message it sent: then nothing is in flight.
 * Both sides read and write at once (poll, non-blocking writes), so neither
 * can block the other when a large first sync fills the socket buffers.
 *
 * Usage: example_sync_socket      (the test suite runs it)
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <crdt/crdt.h>

#define CAP 16384 /* largest message: a large sync goes in chunks */
#define DONE 0x80000000u

static void check(int rc, const char *what) {
  if (rc != 0) {
    fprintf(stderr, "example_sync_socket: %s: %s\n", what, crdt_strerror(rc));
    exit(1);
  }
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

/* Bytes queued for the socket. */
typedef struct outq {
  unsigned char *p;
  size_t len, at;
} outq;

static void push(outq *q, uint32_t header, const void *data, size_t n) {
  unsigned char *p = realloc(q->p, q->len + 4 + n);
  if (!p) die("realloc");
  q->p = p;
  p += q->len;
  p[0] = (unsigned char)(header >> 24);
  p[1] = (unsigned char)(header >> 16);
  p[2] = (unsigned char)(header >> 8);
  p[3] = (unsigned char)header;
  if (n) memcpy(p + 4, data, n);
  q->len += 4 + n;
}

/* Runs session s over the connected stream socket fd until both replicas
 * are in sync and nothing is in flight. Returns bytes sent and received. */
static void sync_over_socket(int fd, crdt_sync *s, uint64_t *sent_bytes,
                             uint64_t *recv_bytes) {
  static unsigned char msg[CAP];
  unsigned char *in = malloc(4 + CAP);
  size_t in_len = 0;
  outq out = {0};
  uint32_t sent = 0, received = 0;
  bool done_sent = false, peer_done = false;
  if (!in) die("malloc");
  if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) die("fcntl");
  *sent_bytes = *recv_bytes = 0;
  for (;;) {
    /* everything the session has to say now */
    size_t n;
    for (;;) {
      check(crdt_sync_produce(s, msg, CAP, &n), "produce");
      if (!n) break;
      push(&out, (uint32_t)n, msg, n);
      sent++;
      *sent_bytes += n;
      done_sent = false;
    }
    if (crdt_sync_in_sync(s) && !done_sent) {
      push(&out, DONE | received, NULL, 0);
      done_sent = true;
    }
    if (done_sent && peer_done && crdt_sync_in_sync(s) && out.at == out.len)
      break; /* finished: the peer knows it too */
    struct pollfd p = {fd, POLLIN | (out.at < out.len ? POLLOUT : 0), 0};
    if (poll(&p, 1, 10000) <= 0) die("poll (no progress for 10 s)");
    if (p.revents & POLLOUT) {
      ssize_t w = write(fd, out.p + out.at, out.len - out.at);
      if (w < 0 && errno != EAGAIN) die("write");
      if (w > 0 && (out.at += (size_t)w) == out.len) out.at = out.len = 0;
    }
    if (!(p.revents & (POLLIN | POLLHUP))) continue;
    ssize_t r = read(fd, in + in_len, 4 + CAP - in_len);
    if (r == 0) {
      fprintf(stderr, "example_sync_socket: the peer left mid-sync\n");
      exit(1);
    }
    if (r < 0) {
      if (errno == EAGAIN) continue;
      die("read");
    }
    in_len += (size_t)r;
    /* whole frames to the session */
    size_t at = 0;
    while (in_len - at >= 4) {
      const unsigned char *h = in + at;
      uint32_t header = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 |
                        (uint32_t)h[2] << 8 | h[3];
      if (header & DONE) {
        peer_done = (header & ~DONE) == sent;
        at += 4;
        continue;
      }
      if (header > CAP) {
        fprintf(stderr, "example_sync_socket: bad frame\n");
        exit(1);
      }
      if (in_len - at < 4 + (size_t)header) break; /* the rest later */
      check(crdt_sync_receive(s, h + 4, header), "receive");
      received++;
      *recv_bytes += header;
      peer_done = false;
      done_sent = false; /* a DONE must count this message */
      at += 4 + header;
    }
    memmove(in, in + at, in_len - at);
    in_len -= at;
  }
  free(in);
  free(out.p);
}

/* A replica of `base` owned by `id`, through the encoding. */
static crdt_object *replica_of(const crdt_object *base, const char *id) {
  size_t n;
  if (crdt_encode(base, NULL, 0, &n) != CRDT_ENOSPC) exit(1);
  unsigned char *b = malloc(n);
  if (!b) die("malloc");
  check(crdt_encode(base, b, n, &n), "encode");
  crdt_object *o;
  check(crdt_decode(b, n, id, &o), "decode");
  free(b);
  return o;
}

static void item(crdt_object *o, unsigned i, bool add) {
  char key[32];
  int n = snprintf(key, sizeof key, "item-%u", i);
  crdt_orset *set = crdt_object_orset(o);
  check(add ? crdt_orset_add(set, key, (size_t)n, NULL)
            : crdt_orset_remove(set, key, (size_t)n, NULL),
        add ? "add" : "remove");
}

/* Both sides' changes, applied to the shared state by the side `who`. */
static void change(crdt_object *o, int who) {
  if (who == 0) {
    for (unsigned i = 0; i < 100; i += 3) item(o, i, false);
    for (unsigned i = 2000; i < 2500; i++) item(o, i, true);
  } else {
    for (unsigned i = 100; i < 200; i += 5) item(o, i, false);
    for (unsigned i = 3000; i < 3050; i++) item(o, i, true);
  }
}

/* Each side checks its list against what both did. */
static int verify(crdt_object *o, const char *who) {
  int bad = 0;
  crdt_orset *set = crdt_object_orset(o);
  for (unsigned i = 0; i < 3100; i++) {
    char key[32];
    int n = snprintf(key, sizeof key, "item-%u", i);
    bool want = (i < 1000 && !(i < 100 && i % 3 == 0) &&
                 !(i >= 100 && i < 200 && i % 5 == 0)) ||
                (i >= 2000 && i < 2500) || (i >= 3000 && i < 3050);
    if (crdt_orset_contains(set, key, (size_t)n) != want) bad++;
  }
  printf("%s: %zu items, %d wrong\n", who, crdt_orset_size(set), bad);
  return bad ? 1 : 0;
}

int main(void) {
  /* the shared starting point: 1000 items */
  crdt_object *base;
  check(crdt_object_new(CRDT_TYPE_ORSET, "origin", &base), "new");
  for (unsigned i = 0; i < 1000; i++) item(base, i, true);

  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof addr;
  if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 ||
      listen(lfd, 1) < 0 ||
      getsockname(lfd, (struct sockaddr *)&addr, &alen) < 0)
    die("listen on 127.0.0.1");
  fflush(stdout);
  pid_t child = fork();
  if (child < 0) die("fork");
  const int who = child == 0; /* 0: the parent (server), 1: the child */
  int fd;
  if (who == 1) {
    close(lfd);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
      die("connect");
  } else {
    fd = accept(lfd, NULL, NULL);
    if (fd < 0) die("accept");
    close(lfd);
  }
  const char *name = who ? "phone" : "laptop";
  crdt_object *list = replica_of(base, name);
  crdt_object_free(base);
  change(list, who);

  crdt_sync *s;
  check(crdt_sync_new(list, &s), "sync_new");
  uint64_t sent, received;
  sync_over_socket(fd, s, &sent, &received);
  close(fd);
  printf("%s: sent %llu bytes, received %llu bytes\n", name,
         (unsigned long long)sent, (unsigned long long)received);
  int status = verify(list, name);
  crdt_sync_free(s);
  crdt_object_free(list);
  if (who == 1) return status;
  int cs;
  if (waitpid(child, &cs, 0) < 0) die("waitpid");
  return status || !WIFEXITED(cs) || WEXITSTATUS(cs) != 0;
}
