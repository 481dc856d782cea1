/* raftsvc_hold.c: an InstallSnapshot waits while this server writes a snapshot of its own.
 *
 * libraft 0.22's compatibility layer (the raft_io path we use) crashes when an InstallSnapshot
 * arrives while the server is taking a snapshot: it parks the install until the take is written,
 * then, in the take's completion, clears the parked pointer before reading it and starts the
 * install with NULL (a SEGV on the raft thread, seen in CI). A follower that lags more than
 * snapshot_trailing entries behind while it reaches its own snapshot_threshold gets there.
 *
 * So the install never reaches libraft during that window. io->start is wrapped so that received
 * messages pass through hold_recv(): an InstallSnapshot that arrives while
 * raft.legacy.snapshot_taking is set (libraft sets it once the take's write is queued and clears
 * it in the write's callback) is kept, with a copy of its sender's address (libuv frees that
 * with the connection), and handed to libraft by raftsvc_hold_release() once the take completed.
 * To Raft that is a message delayed on the network. One install is kept at most: a later one
 * replaces it (the earlier is dropped, as the network may drop any message, and the leader sends
 * again what is still needed), so the hold never costs more than one snapshot's memory. Other
 * messages are never held. An install still held when raft closes is freed.
 */
#include "raftsvc_impl.h"

#include <stdlib.h>
#include <string.h>

struct raftsvc_held {
	struct raft_message msg;     /* owns the snapshot's data and configuration */
	char *address;               /* msg.server_address */
};

static struct raftsvc *hold_owner(struct raft_io *io)
{
	return (struct raftsvc *)((char *)io - offsetof(struct raftsvc, io));
}

static void hold_free(struct raftsvc_held *h)
{
	raft_free(h->msg.install_snapshot.data.base);
	raft_configuration_close(&h->msg.install_snapshot.conf);
	free(h->address);
	free(h);
}

static void hold_recv(struct raft_io *io, struct raft_message *msg)
{
	struct raftsvc *s = hold_owner(io);
	struct raftsvc_held *h;

	if (msg->type != RAFT_INSTALL_SNAPSHOT || (!s->raft.legacy.snapshot_taking && !s->held)) {
		s->raft_recv(io, msg);
		return;
	}
	/* The receiver owns an install's data and configuration: from here on, this. */
	h = calloc(1, sizeof(*h));
	if (!h) {
		raft_free(msg->install_snapshot.data.base);
		raft_configuration_close(&msg->install_snapshot.conf);
		return; /* lost, as on the network */
	}
	h->msg = *msg;
	h->address = strdup(msg->server_address ? msg->server_address : "");
	h->msg.server_address = h->address;
	if (!h->address || s->raft_closing) {
		hold_free(h); /* lost; or raft is closing and nobody will install it */
		return;
	}
	if (s->held)
		hold_free(s->held);
	s->held = h;
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
	struct raftsvc_held *h = s->held;

	if (!h || s->raft.legacy.snapshot_taking || s->raft_closing)
		return;
	s->held = NULL;
	s->raft_recv(&s->io, &h->msg); /* libraft owns data and configuration now */
	free(h->address);
	free(h);
}

void raftsvc_hold_drop(struct raftsvc *s)
{
	if (s->held)
		hold_free(s->held);
	s->held = NULL;
}
