/*
 * Sync sessions, internal: the session struct and the message layout,
 * shared by sync.c (API, produce), sync_recv.c (receive, rounds) and
 * sync_msg.c (encoding). docs/sync.md specifies the messages.
 */
#ifndef CRDT_TYPES_SYNC_SESSION_H
#define CRDT_TYPES_SYNC_SESSION_H

#include "syncops.h"

/* Frame tags (docs/format.md). */
#define CRDT__TAG_SYNC CRDT__WIRE_TAG_SYNC
#define CRDT__TAG_SESSION CRDT__WIRE_TAG_SESSION

/* Section kinds of a message body. */
enum {
  CRDT__SEC_HELLO = 1,
  CRDT__SEC_DELTA = 2,
  CRDT__SEC_CELLS = 4,
  CRDT__SEC_NEED = 5,
  CRDT__SEC_CHUNK = 6,
  CRDT__SEC_END = 7,
  CRDT__SEC_DROPS = 8,
  CRDT__SEC_LIVE = 9,
  CRDT__SEC_MAX = 9
};

#define CRDT__HELLO_WANT_REPLY 0x01 /* answer with a fresh HELLO */
#define CRDT__HELLO_COLD 0x02       /* make this round cold */
#define CRDT__HELLO_FULL 0x04       /* ... and list live dots (LIVE), not a
                                       sketch */
#define CRDT__HELLO_FLAGS 0x07

/* A HELLO: the sender's snapshot and positions. */
typedef struct crdt__hello {
  uint8_t flags;
  uint64_t jid, pos, oldest; /* the sender's journal (jid 0: none) */
  bool ack;                  /* the sender has the receiver's journal */
  uint64_t ack_jid, ack_pos; /*   up to ack_pos (journal ack_jid) */
  uint64_t digest, live;
  crdt__sctx ctx;            /* owned */
} crdt__hello;

/* A message, parsed: views into the input, except the HELLO's context. */
typedef struct crdt__msg {
  crdt_type type;
  uint64_t sid;
  uint64_t to;      /* the receiver's sid as the sender knows it (0: none) */
  uint32_t hello;   /* the sender's current HELLO number */
  uint32_t answers; /* the receiver's HELLO number the sender holds */
  bool has[CRDT__SEC_MAX + 1];
  crdt__hello h;
  uint64_t delta_jid, delta_from, delta_to;
  bool delta_keyed;
  crdt__rbuf delta_body;
  uint32_t cells_start, cells_n, cells_target;
  crdt__rbuf cells;
  uint64_t need;
  uint32_t chunk_no;
  crdt__rbuf chunk_body;
  uint32_t end_total;
  uint32_t ndrops;
  crdt__rbuf drops;
  uint32_t live_no;
  bool live_last;
  crdt__rbuf live;
} crdt__msg;

enum { CRDT__ROUND_NONE, CRDT__ROUND_EQUAL, CRDT__ROUND_WARM,
       CRDT__ROUND_COLD };

struct crdt_sync {
  crdt_object *obj;
  const crdt__sync_ops *ops;
  crdt__journal *j; /* dot-based types */
  crdt__jpin pin;
  uint64_t sid;
  crdt_sync_stats stats;

  /* history: what each side holds of the other's journal */
  bool rec_valid; /* this side has the peer's journal rec_jid up to rec_pos */
  uint64_t rec_jid, rec_pos;
  bool ack_valid; /* the peer has this side's journal ack_jid up to ack_pos */
  uint64_t ack_jid, ack_pos;
  uint64_t sent; /* this side's journal sent to the peer up to here */

  /* this side's current HELLO */
  uint32_t my_hello; /* 0: none taken yet */
  bool hello_due;    /* take a new one at the next produce */
  bool reply_due;    /* ... as the answer the peer asked for */
  bool hello_unsent; /* taken, but no produce has carried it yet */
  uint8_t next_flags; /* CRDT__HELLO_* for the next one */
  crdt__hello mine;
  uint64_t merges_h; /* journal merges when it was taken */
  bool optimistic;   /* a DELTA went with it, from optimistic_from */
  uint64_t optimistic_from;

  /* the peer's current HELLO */
  bool have_peer;
  uint64_t peer_sid;
  uint32_t peer_hello;
  uint32_t peer_answers; /* my HELLO number its message answered */
  crdt__hello peer;

  /* the round (my_hello, peer_hello) */
  int mode;
  bool in_done, out_done, completed;
  uint32_t own_applies; /* merges this session made since its HELLO */
  crdt__cold cold;
  uint32_t need_sent;   /* cells asked of the peer so far */
  uint32_t cells_due;   /* cells the peer asked for */
  uint64_t digest_done; /* types without a journal: digest after the round */
};

/* ---- sync_msg.c ---------------------------------------------------------- */

/* A section: kind, length, payload. Begin returns the payload's offset;
 * end writes the length (moving the payload into place). */
size_t crdt__sec_begin(crdt__wbuf *w, unsigned kind);
void crdt__sec_end(crdt__wbuf *w, size_t at);
void crdt__w_u64(crdt__wbuf *w, uint64_t v);
int crdt__r_u64(crdt__rbuf *r, uint64_t *v);

void crdt__hello_put(crdt__wbuf *w, const crdt__hello *h);
void crdt__hello_free(crdt__hello *h, const crdt_allocator *m);
/* A cell on the wire: zigzag count, key (8 bytes LE), check (4 bytes LE). */
void crdt__cell_put(crdt__wbuf *w, const crdt__rcell *c);
int crdt__cell_get(crdt__rbuf *r, crdt__rcell *c);

/* Opens a blob of tag `tag` (a message or a saved session): checksum,
 * tag (CRDT_EBADTYPE), flags 0 (CRDT_EFORMAT). */
int crdt__sync_frame(const void *data, size_t len, uint8_t tag,
                     crdt__frame *f);
/* Opens and parses a message (every section checked for structure; the
 * HELLO's context decoded). On error nothing is left to free. */
int crdt__msg_parse(const void *data, size_t len, const crdt_allocator *m,
                    crdt__msg *out);
void crdt__msg_free(crdt__msg *msg, const crdt_allocator *m);

/* ---- sync_recv.c --------------------------------------------------------- */

/* Decides the round (my_hello, peer_hello) once both HELLOs are known:
 * EQUAL, WARM or COLD, and prepares it (the cold plan's scan). */
int crdt__sync_establish(crdt_sync *s);
/* Updates the session's claim on the journal. */
void crdt__sync_pin(crdt_sync *s);
/* The origin of journal records this session's peer sent: the peer's
 * journal id (a restored session recognizes its peer's records by it);
 * 0 while unknown. */
uint64_t crdt__sync_origin(const crdt_sync *s);
/* Round done both ways: history and counters follow. */
void crdt__sync_complete(crdt_sync *s);
/* Frees the round's state. */
void crdt__sync_round_free(crdt_sync *s);

#endif
