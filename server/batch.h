/* batch.h: group commit — commands arriving while a Raft append is in flight share the next one.
 *
 * Each mutating request is packed as one Command and appended to the pending PeerEntry. While no
 * entry is in flight the pending one is submitted at once; otherwise it waits for the one in
 * flight to be applied and then goes as one entry (one append, one fsync) with everything that
 * arrived meanwhile. When an entry has been applied, each waiting session gets its reply, read
 * from the exactly-once table. libevent thread only.
 *
 * A CLEAR_REGION may be answered at submission instead (batch_add_acked(); session.c decides
 * when): losing it to a crash or a leader change leaves the node's mark on the region, so the
 * region stays dirty and, should the node be lost later, is resynced once more; nothing is ever
 * reported clean or in sync that should not be. What such an early answer must not break is
 * read-your-writes: a later read that could see it (IS_CLEAN, the admin views) takes
 * batch_acked_mark() when it arrives and waits until batch_acked_ended() says every command
 * answered before it has been applied (or dropped with its entry).
 */
#ifndef DMLOG_BATCH_H
#define DMLOG_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dmlog.pb-c.h"

struct server;
struct session;
struct batch;

struct batch *batch_new(struct server *srv);
/* Fails every waiter with -ESHUTDOWN (no reply is sent to closed sessions) and frees. */
void batch_free(struct batch *b);

/* Queues one command. With a session, the reply for (op, request id) goes to it once applied
 * (the session is referenced until then), after session_write_ended(s, slot) (slot is the
 * session's own value); without one the command is fire-and-forget (leases). 0, or -ENOMEM /
 * -ENOBUFS (pending entry full). */
int batch_add(struct batch *b, const Dmlog__Command *cmd, struct session *s, uint32_t op,
	      uint64_t request_id, uint8_t slot);

/* Like batch_add() for a command whose success the caller has already answered: when its entry
 * is applied or fails, the session only gets session_release_acked() (no reply). */
int batch_add_acked(struct batch *b, const Dmlog__Command *cmd, struct session *s, uint32_t op,
		    uint64_t request_id);

/* The count of early-answered commands so far; batch_acked_ended(b, mark) is true once all of
 * the first `mark` have been applied or dropped. */
uint64_t batch_acked_mark(const struct batch *b);
bool batch_acked_ended(const struct batch *b, uint64_t mark);

/* Early-answered clears wait up to 50 ms for the marks that usually follow them, to share their
 * entry; a read that must wait for them calls this to send them now. */
void batch_send_acked(struct batch *b);

/* Commands waiting or in flight (for status). */
size_t batch_pending(const struct batch *b);

#endif /* DMLOG_BATCH_H */
