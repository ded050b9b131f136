/*
 * The journal of a dot-based object (see journal.h).
 */
#define _DEFAULT_SOURCE /* getentropy */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "digest.h"
#include "dotted.h"
#include "journal.h"

uint64_t crdt__sync_random(void);
uint64_t crdt__sync_random(void) {
  static uint64_t mix;
  uint64_t v = 0;
  if (getentropy(&v, sizeof v) != 0)
    v = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&v;
  v ^= mix += UINT64_C(0x9E3779B97F4A7C15); /* distinct even without entropy */
  return v ? v : 1;
}

static void segs_free(crdt__journal *j, const crdt_allocator *m) {
  for (uint32_t i = 0; i < j->nsegs; i++)
    crdt__causal_free(&j->segs[i].delta, m);
  j->nsegs = 0;
  j->open = false;
  j->bytes = 0;
}

/* The journal can no longer be exact: start over under a new id. Every
 * pin of the old id becomes useless (sessions compare ids). */

void crdt__journal_break(crdt__journal *j, const crdt_allocator *m) {
  segs_free(j, m);
  j->id = crdt__sync_random();
  j->pos = j->mark = 0;
}

int crdt__journal_attach(crdt_object *o, crdt__jpin *pin,
                         crdt__journal **out) {
  const crdt_allocator *m = &o->mem;
  crdt__journal *j = o->journal;
  bool fresh = !j;
  if (fresh) {
    if (!(j = crdt__calloc(m, 1, sizeof *j))) return CRDT_ENOMEM;
    j->id = crdt__sync_random();
  }
  if (j->npins == j->pins_cap) {
    uint32_t cap = crdt__grow_cap(j->pins_cap, 4, j->npins + 1);
    crdt__jpin **p = crdt__realloc(m, j->pins, j->pins_cap * sizeof *p,
                                   cap * sizeof *p);
    if (!p) {
      if (fresh) crdt__free(m, j, sizeof *j);
      return CRDT_ENOMEM;
    }
    j->pins = p;
    j->pins_cap = cap;
  }
  *pin = (crdt__jpin){j->id, 0, false, pin->sid};
  j->pins[j->npins++] = pin;
  o->journal = j;
  *out = j;
  return 0;
}

static void journal_free(crdt__journal *j, const crdt_allocator *m) {
  segs_free(j, m);
  crdt__free(m, j->segs, j->cap * sizeof *j->segs);
  crdt__free(m, j->pins, j->pins_cap * sizeof *j->pins);
  crdt__free(m, j, sizeof *j);
}

void crdt__journal_detach(crdt_object *o, crdt__jpin *pin) {
  crdt__journal *j = o->journal;
  if (!j) return;
  for (uint32_t i = 0; i < j->npins; i++)
    if (j->pins[i] == pin) {
      j->pins[i] = j->pins[--j->npins];
      break;
    }
  /* The last session leaves the journal in place, its records dropped:
   * it keeps the digest (and its id and positions), so the next session,
   * new or restored, confirms equality without a scan. */
  crdt__journal_trim(j, &o->mem);
  if (j->npins == 0 && j->cap > j->nsegs) { /* give back the room */
    const crdt_allocator *m = &o->mem;
    if (!j->nsegs) {
      crdt__free(m, j->segs, j->cap * sizeof *j->segs);
      j->segs = NULL;
    } else {
      crdt__jseg *s = crdt__realloc(m, j->segs, j->cap * sizeof *s,
                                    j->nsegs * sizeof *s);
      if (!s) return; /* keeping the room is fine */
      j->segs = s;
    }
    j->cap = j->nsegs;
  }
}

void crdt__journal_destroy(crdt_object *o) {
  if (!o->journal) return;
  journal_free(o->journal, &o->mem);
  o->journal = NULL;
}

/* The lowest position a valid pin of the current id needs, or pos + 1
 * when none does; pins of session `origin` do not count (it never needs
 * records of its own peer), unless origin is 0. */
static uint64_t lowest_pin(const crdt__journal *j, uint64_t origin) {
  uint64_t low = j->pos + 1;
  for (uint32_t i = 0; i < j->npins; i++) {
    const crdt__jpin *p = j->pins[i];
    if (p->valid && p->id == j->id && p->pos < low &&
        (!origin || p->sid != origin))
      low = p->pos;
  }
  return low;
}

/* The newest segments without records are kept even when no session
 * needs them (they cost no delta): a session restored from its saved
 * state then still knows that the positions after its peer's last one
 * hold only records that peer sent, which it can skip. */
#define UNKEPT_KEEP 64

void crdt__journal_trim(crdt__journal *j, const crdt_allocator *m) {
  const uint64_t low = lowest_pin(j, 0);
  uint32_t drop = 0;
  /* A segment goes when no pin needs it, or when the journal is over its
   * limit (oldest first). The open segment stays unless nothing needs it. */
  while (drop < j->nsegs &&
         ((j->segs[drop].end <= low &&
           (j->segs[drop].kept || drop + UNKEPT_KEEP < j->nsegs)) ||
          j->bytes > CRDT__JOURNAL_LIMIT)) {
    j->bytes -= j->segs[drop].bytes;
    crdt__causal_free(&j->segs[drop].delta, m);
    drop++;
  }
  if (!drop) return;
  memmove(j->segs, j->segs + drop, (j->nsegs - drop) * sizeof *j->segs);
  j->nsegs -= drop;
  if (!j->nsegs) j->open = false;
}

/* Room for one more segment. */
static int segs_reserve_one(crdt__journal *j, const crdt_allocator *m) {
  if (j->nsegs < j->cap) return 0;
  uint32_t cap = crdt__grow_cap(j->cap, 8, j->nsegs + 1);
  crdt__jseg *s = crdt__realloc(m, j->segs, j->cap * sizeof *s, cap * sizeof *s);
  if (!s) return CRDT_ENOMEM;
  j->segs = s;
  j->cap = cap;
  return 0;
}

/* Does any pin (other than origin's) need records from now on? Without
 * one, records are not kept: only their positions (an unkept segment). */
bool crdt__journal_wanted(const crdt__journal *j, uint64_t origin) {
  return lowest_pin(j, origin) <= j->pos;
}

/* Records one unkept position of `origin`: extends the last segment when
 * it is unkept and of that origin. Fails only for lack of memory. */
static int skip_one(crdt__journal *j, const crdt_allocator *m,
                    uint64_t origin) {
  crdt__jseg *s = j->nsegs ? &j->segs[j->nsegs - 1] : NULL;
  if (s && !s->kept && s->origin == origin && s->end == j->pos &&
      j->mark != j->pos) {
    s->end = ++j->pos;
    return 0;
  }
  if (!j->nsegs && !j->npins) { /* nothing to keep positions for */
    j->pos++;
    return 0;
  }
  int rc = segs_reserve_one(j, m);
  if (rc) return rc;
  s = &j->segs[j->nsegs++];
  memset(s, 0, sizeof *s);
  s->start = j->pos;
  s->end = ++j->pos;
  s->origin = origin;
  j->open = false;
  return 0;
}

/* Digest terms of the dots an update adds and drops (all of one key, K
 * of which is `k`). */
static void digest_op(crdt__journal *j, const crdt__replicas *from,
                      const crdt__op *op, uint64_t k) {
  j->live += op->nadd;
  j->live -= op->nseen;
  for (uint32_t i = 0; i < op->nadd + op->nseen; i++) {
    const crdt__dv *d = i < op->nadd ? &op->add[i] : &op->seen[i - op->nadd];
    size_t len;
    const char *id = crdt__replicas_id(from, d->replica, &len);
    uint64_t t = crdt__digest_dot(k, crdt__digest_bytes(id, len), d->counter,
                                  d->value);
    j->digest += i < op->nadd ? t : (uint64_t)0 - t;
  }
}

/* The open segment local updates go into, started when there is none;
 * NULL when no session needs records now (the position was recorded
 * without one) or when memory is short (the journal broke). */
static crdt__jseg *local_segment(crdt__journal *j, const crdt_allocator *m) {
  if (!crdt__journal_wanted(j, 0)) {
    if (skip_one(j, m, 0)) crdt__journal_break(j, m);
    return NULL;
  }
  crdt__jseg *s = j->open ? &j->segs[j->nsegs - 1] : NULL;
  if (!s || !s->kept || s->end != j->pos ||
      s->bytes >= CRDT__JOURNAL_SEGMENT) {
    if (segs_reserve_one(j, m)) {
      crdt__journal_break(j, m);
      return NULL;
    }
    s = &j->segs[j->nsegs++];
    memset(s, 0, sizeof *s);
    s->start = s->end = j->pos;
    s->delta.keyed = true;
    s->kept = true;
    j->open = true;
  }
  return s;
}

/* A local record of about `bytes` joined into segment s. */
static void local_recorded(crdt__journal *j, const crdt_allocator *m,
                           crdt__jseg *s, size_t bytes) {
  s->bytes += bytes;
  j->bytes += bytes;
  s->end = ++j->pos;
  if (j->bytes > CRDT__JOURNAL_LIMIT) crdt__journal_trim(j, m);
}

void crdt__journal_op_at(crdt_object *o, const crdt__replicas *from,
                         const crdt__key *path, uint32_t depth,
                         const crdt__op *op) {
  crdt__journal *j = o->journal;
  const crdt_allocator *m = &o->mem;
  if (j->digest_valid && op->extra) {
    j->digest_valid = false; /* a write that supersedes other keys' dots */
  } else if (j->digest_valid) {
    const crdt__leaf at = {path, depth, {op->key, op->keylen, op->hash}};
    digest_op(j, from, op, crdt__digest_leaf_key(&at));
  }
  crdt__jseg *s = local_segment(j, m);
  if (!s) return;
  if (crdt__causal_record_at(&s->delta, m, from, path, depth, op)) {
    crdt__journal_break(j, m);
    return;
  }
  size_t bytes = op->keylen + 4 + 4 * (size_t)op->nadd + 3 * (size_t)op->nseen;
  for (uint32_t i = 0; i < depth; i++) bytes += path[i].len + 2;
  local_recorded(j, m, s, bytes);
}

void crdt__journal_op(crdt_object *o, const crdt__replicas *from,
                      const crdt__op *op) {
  crdt__journal_op_at(o, from, NULL, 0, op);
}

/* The number of leaves of a tree (entries, for a flat store). */
static size_t leaf_count(const crdt__store *s) {
  size_t n = 0;
  crdt__leaves it;
  crdt__leaves_begin(&it, s, false);
  while (crdt__leaves_next(&it)) n++;
  return n;
}

/* Estimated encoded bytes of a delta: its keys and dots, and its context
 * as dots (what a removal's delta mostly is). */
static size_t delta_bytes(const crdt__causal *d) {
  size_t n = 32 + 3 * (size_t)d->ctx.cloud.count;
  crdt__leaves it;
  crdt__leaves_begin(&it, &d->store, false);
  for (const crdt__entry *e; (e = crdt__leaves_next(&it));)
    n += e->keylen + 2 + 4 * (size_t)e->ndots + 2 * (size_t)it.depth;
  return n;
}

void crdt__journal_delta(crdt_object *o, const crdt__causal *delta) {
  crdt__journal *j = o->journal;
  const crdt_allocator *m = &o->mem;
  if (!delta) {
    crdt__journal_break(j, m);
    j->digest_valid = false;
    return;
  }
  if (j->digest_valid) {
    uint64_t digest, live;
    crdt__digest_join(&crdt__dotted_cof(o)->c, delta, &digest, &live);
    crdt__journal_digest_add(j, digest, live);
  }
  crdt__jseg *s = local_segment(j, m);
  if (!s) return;
  if (crdt__causal_join(&s->delta, m, delta)) {
    crdt__journal_break(j, m);
    return;
  }
  local_recorded(j, m, s, delta_bytes(delta));
}

void crdt__journal_merged(crdt_object *o, const crdt_object *src) {
  crdt__journal *j = o->journal;
  const crdt_allocator *m = &o->mem;
  j->merges++;
  j->digest_valid = false;
  const crdt__causal *c = &crdt__dotted_cof(src)->c;
  if (!c->keyed) { /* a whole state: recording it would keep a copy */
    crdt__journal_break(j, m);
    return;
  }
  crdt__jstage st;
  if (crdt__journal_stage(j, m, c, 0, false, &st)) {
    crdt__journal_break(j, m);
    return;
  }
  crdt__journal_commit(j, m, &st, 0, 16 * leaf_count(&c->store) + 32);
}

int crdt__journal_stage(crdt__journal *j, const crdt_allocator *m,
                        const crdt__causal *delta, uint64_t origin,
                        bool unkeyed, crdt__jstage *st) {
  memset(st, 0, sizeof *st);
  st->keep = crdt__journal_wanted(j, origin);
  int rc = segs_reserve_one(j, m); /* kept or not, it may need a segment */
  if (!rc && st->keep) rc = crdt__causal_copy(&st->copy, m, delta);
  if (!rc && st->keep && unkeyed) {
    /* markers mean nothing in a delta that is not keyed */
    crdt__store_drop_markers(&st->copy.store, m);
    st->copy.keyed = false;
  }
  return rc;
}

void crdt__journal_commit(crdt__journal *j, const crdt_allocator *m,
                          crdt__jstage *st, uint64_t origin, size_t bytes) {
  if (st->keep) {
    crdt__jseg *s = &j->segs[j->nsegs++]; /* reserved by the stage */
    *s = (crdt__jseg){j->pos, j->pos + 1, origin, st->copy, bytes, true};
    j->bytes += bytes;
    j->open = false; /* local updates start a segment of their own */
    j->pos++;
  } else {
    (void)skip_one(j, m, origin); /* the room was reserved: cannot fail */
  }
  if (j->bytes > CRDT__JOURNAL_LIMIT) crdt__journal_trim(j, m);
}

void crdt__journal_abort(crdt__journal *j, const crdt_allocator *m,
                         crdt__jstage *st) {
  (void)j;
  if (st->keep) crdt__causal_free(&st->copy, m);
}

uint64_t crdt__journal_mark(crdt__journal *j) {
  j->open = false;
  j->mark = j->pos;
  return j->pos;
}

uint64_t crdt__journal_reach(const crdt__journal *j, uint64_t sid) {
  uint64_t at = j->pos;
  for (uint32_t i = j->nsegs; i-- > 0;) {
    const crdt__jseg *s = &j->segs[i];
    if (s->end != at || (!s->kept && s->origin != sid)) break;
    at = s->start;
  }
  return at;
}

uint64_t crdt__journal_oldest(const crdt__journal *j) {
  return j->nsegs ? j->segs[0].start : j->pos;
}

/* Index of the segment starting at `from`, nsegs when from == pos (an
 * empty interval), or UINT32_MAX. Segments are contiguous (a position
 * without a record is never inside a kept range: records are kept from
 * the lowest pin on, and pins are boundaries). */
static uint32_t seg_at(const crdt__journal *j, uint64_t from) {
  if (from == j->pos) return j->nsegs;
  uint32_t lo = 0, hi = j->nsegs;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (j->segs[mid].start < from)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < j->nsegs && j->segs[lo].start == from ? lo : UINT32_MAX;
}

bool crdt__journal_has(const crdt__journal *j, uint64_t from, uint64_t to) {
  return from <= to && to <= j->pos && seg_at(j, from) != UINT32_MAX;
}

int crdt__journal_collect(const crdt__journal *j, const crdt_allocator *m,
                          uint64_t from, uint64_t to, uint64_t skip,
                          size_t budget, crdt__causal *out, uint64_t *end) {
  uint32_t i = seg_at(j, from);
  size_t used = 0;
  *end = from;
  if (i == UINT32_MAX) return CRDT_ENOENT;
  for (; i < j->nsegs && j->segs[i].end <= to; i++) {
    const crdt__jseg *s = &j->segs[i];
    if (s->start != *end) return CRDT_ENOENT; /* records were not kept */
    if (s->origin != skip || !skip) {
      if (!s->kept) return CRDT_ENOENT;
      if (used && used + s->bytes > budget) break;
      int rc = crdt__causal_join(out, m, &s->delta);
      if (rc) return rc;
      used += s->bytes;
    }
    *end = s->end;
  }
  return 0;
}

bool crdt__journal_pending(const crdt__journal *j, uint64_t from, uint64_t to,
                           uint64_t skip) {
  uint32_t i = seg_at(j, from);
  if (i == UINT32_MAX) return from < to;
  uint64_t at = from;
  for (; i < j->nsegs && j->segs[i].start < to; i++) {
    if (j->segs[i].start != at) return true; /* a gap: unknown content */
    if (j->segs[i].origin != skip || !skip) return true;
    at = j->segs[i].end;
  }
  return at < to; /* records in [at, to) were not kept */
}

uint64_t crdt__journal_digest(crdt__journal *j, const crdt__causal *c,
                              uint64_t *live) {
  if (!j->digest_valid) {
    j->digest = crdt__causal_digest(c);
    j->live = crdt__store_dots(&c->store);
    j->digest_valid = true;
  }
  if (live) *live = j->live;
  return j->digest;
}

void crdt__journal_digest_add(crdt__journal *j, uint64_t digest,
                              uint64_t live) {
  j->digest += digest;
  j->live += live;
}

void crdt__journal_digest_forget(crdt__journal *j) { j->digest_valid = false; }
