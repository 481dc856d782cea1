/* raftsvc_hold.c: InstallSnapshot messages wait while this server writes a snapshot of its own.
 *
 * libraft 0.22's compatibility layer (the raft_io path we use) crashes when an InstallSnapshot
 * arrives while the server is taking a snapshot: it parks the install until the take is written,
 * then, in the take's completion, clears the parked pointer before reading it and starts the
 * install with NULL (a SEGV on the raft thread, seen in CI). A follower that lags more than
 * snapshot_trailing entries behind while it reaches its own snapshot_threshold gets there.
 *
 * So the install never reaches libraft during that window. io->start is wrapped so that received
 * messages pass through raftsvc_hold_recv(): an InstallSnapshot that arrives while
 * raft.legacy.snapshot_taking is set (libraft sets it once the take's write is queued and clears
 * it in the write's callback) is copied, with its sender's address (libuv frees that with the
 * connection), and handed to libraft by raftsvc_hold_release() after the take completed, in
 * arrival order. To Raft that is a message delayed on the network, which the protocol allows;
 * the leader's snapshot is otherwise unchanged. Other messages are never held. Held messages
 * left when raft closes are freed, as the network would lose them.
 */
#include "raftsvc_impl.h"

#include <stdlib.h>
#include <string.h>

struct raftsvc_held {
	struct raft_message msg;     /* owns the snapshot's data and configuration */
	char *address;               /* msg.server_address */
	struct raftsvc_held *next;
};

static struct raftsvc *hold_owner(struct raft_io *io)
{
	return (struct raftsvc *)((char *)io - offsetof(struct raftsvc, io));
}

static void hold_free_msg(struct raft_message *msg)
{
	raft_free(msg->install_snapshot.data.base);
	raft_configuration_close(&msg->install_snapshot.conf);
}

static void hold_recv(struct raft_io *io, struct raft_message *msg)
{
	struct raftsvc *s = hold_owner(io);
	struct raftsvc_held *h;

	if (msg->type != RAFT_INSTALL_SNAPSHOT ||
	    (!s->raft.legacy.snapshot_taking && !s->held_head)) {
		s->raft_recv(io, msg);
		return;
	}
	if (s->raft_closing) {
		hold_free_msg(msg); /* raft is closing: nobody will install it */
		return;
	}
	h = calloc(1, sizeof(*h));
	if (h)
		h->address = strdup(msg->server_address ? msg->server_address : "");
	if (!h || !h->address) {
		/* Lost, as on the network: the leader sends it again after its install timeout. */
		free(h);
		hold_free_msg(msg);
		return;
	}
	h->msg = *msg;
	h->msg.server_address = h->address;
	if (s->held_tail)
		s->held_tail->next = h;
	else
		s->held_head = h;
	s->held_tail = h;
	s->installs_held++;
}

static int hold_start(struct raft_io *io, unsigned msecs, raft_io_tick_cb tick,
		      raft_io_recv_cb recv)
{
	struct raftsvc *s = hold_owner(io);

	s->raft_recv = recv;
	return s->io_start(io, msecs, tick, hold_recv);
}

void raftsvc_hold_wrap(struct raftsvc *s)
{
	s->io_start = s->io.start;
	s->io.start = hold_start;
}

void raftsvc_hold_release(struct raftsvc *s)
{
	/* One at a time: an install makes libraft write it, and nothing is taken meanwhile, but
	 * the flag is what decides. */
	while (s->held_head && !s->raft.legacy.snapshot_taking && !s->raft_closing) {
		struct raftsvc_held *h = s->held_head;

		s->held_head = h->next;
		if (!s->held_head)
			s->held_tail = NULL;
		s->raft_recv(&s->io, &h->msg);
		free(h->address);
		free(h);
	}
}

void raftsvc_hold_drop(struct raftsvc *s)
{
	while (s->held_head) {
		struct raftsvc_held *h = s->held_head;

		s->held_head = h->next;
		hold_free_msg(&h->msg);
		free(h->address);
		free(h);
	}
	s->held_tail = NULL;
}
