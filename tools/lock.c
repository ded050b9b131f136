/*
 * Exclusive locks on state files, so that commands running at the same time
 * on one file all take effect: every command that writes a file (apply,
 * merge, sync, serve) holds the file's lock from before it reads the state
 * until after it has replaced it.
 *
 * The lock is flock() on the state file itself. Writers replace the file by
 * rename(), so the inode a waiter locked may no longer be the one the path
 * names once it gets the lock; the waiter then checks that the path still
 * names the inode it holds and, if not, starts over on the new file. No
 * lock files are left behind. Locks are advisory: they order crdt commands
 * (and programs that follow the same rule), not arbitrary writers.
 */
#define _DEFAULT_SOURCE /* flock, nanosleep */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* How long a command waits for a lock before giving up, in seconds:
 * CRDT_LOCK_WAIT, or 600 (a long sync over a slow link holds its lock for
 * its whole run). */
static double wait_limit(void) {
  const char *s = getenv("CRDT_LOCK_WAIT");
  if (s && *s) {
    char *end;
    double v = strtod(s, &end);
    if (*end == '\0' && v >= 0) return v;
  }
  return 600;
}

static double seconds_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void pause_for(long micros) {
  struct timespec ts = {micros / 1000000, (micros % 1000000) * 1000};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

int cli_lock(const char *path, int *fd_out) {
  const double limit = wait_limit(), start = seconds_now();
  long backoff = 200; /* microseconds, doubling up to 50 ms */
  bool told = false;
  for (;;) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      cli_error("%s: %s", path, strerror(errno));
      return CLI_FAIL;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
      struct stat held, named;
      if (fstat(fd, &held) == 0 && stat(path, &named) == 0 &&
          held.st_dev == named.st_dev && held.st_ino == named.st_ino) {
        *fd_out = fd;
        return CLI_OK;
      }
      close(fd); /* replaced while we waited: lock the new file */
      continue;
    }
    int err = errno;
    close(fd);
    if (err != EWOULDBLOCK && err != EINTR) {
      cli_error("%s: cannot lock: %s", path, strerror(err));
      return CLI_FAIL;
    }
    double waited = seconds_now() - start;
    if (waited >= limit) {
      cli_error("%s: still locked by another crdt command after %.0f s "
                "(CRDT_LOCK_WAIT sets the limit); nothing written",
                path, waited);
      return CLI_FAIL;
    }
    if (!told && waited >= 2) {
      fprintf(stderr, "crdt: %s: waiting for another crdt command to "
                      "release it\n", path);
      told = true;
    }
    pause_for(backoff);
    if (backoff < 50000) backoff *= 2;
  }
}

void cli_unlock(int fd) {
  if (fd >= 0) close(fd); /* closing the last descriptor releases flock */
}
