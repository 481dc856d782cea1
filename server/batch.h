/* batch.h: group commit — commands arriving while a Raft append is in flight share the next one.
 *
 * Each mutating request is packed as one Command and appended to the pending PeerEntry. While
 * fewer than a few entries are in flight the pending one is submitted at once; otherwise it waits
 * for the oldest to be applied and then goes as one entry (one append, one fsync) with everything
 * that arrived meanwhile. When an entry has been applied, each waiting session gets its reply, read
 * from the exactly-once table. libevent thread only.
 */
#ifndef DMLOG_BATCH_H
#define DMLOG_BATCH_H

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
 * (the session is referenced until then); without one the command is fire-and-forget (leases).
 * 0, or -ENOMEM / -ENOBUFS (pending entry full). */
int batch_add(struct batch *b, const Dmlog__Command *cmd, struct session *s, uint32_t op,
	      uint64_t request_id);

/* Commands waiting or in flight (for status). */
size_t batch_pending(const struct batch *b);

#endif /* DMLOG_BATCH_H */
