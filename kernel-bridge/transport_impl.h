/* transport_impl.h: the inside of a transport, shared by transport.c (the event-loop side: the
 * read loop, the reply queue) and the kinds (transport_netlink.c, transport_dgram.c: sockets).
 *
 * A kind fills in the ops and owns how a datagram is received and sent; transport.c owns when.
 * Everything runs on the transport's event_base thread.
 */
#ifndef DMLOG_BRIDGE_TRANSPORT_IMPL_H
#define DMLOG_BRIDGE_TRANSPORT_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "transport.h"

struct event;

struct transport_ops {
	/* Receives one datagram into buf[0, cap): 0 with *len set; -EAGAIN when there is
	 * nothing more; -EMSGSIZE (truncated) or -EPERM (not from the kernel): one datagram was
	 * consumed and must be dropped; -ENOBUFS: the receive queue overflowed (nothing
	 * received); -ECONNRESET: the peer went away; another -errno: a socket error. */
	int (*recv)(struct transport *t, uint8_t *buf, size_t cap, size_t *len);
	/* Sends one datagram: 0; -EAGAIN when the socket cannot take it now; -ECONNRESET when the
	 * peer went away; another -errno for a failure. */
	int (*send)(struct transport *t, const void *buf, size_t len);
	/* Releases what the kind keeps beyond the datagram socket. May be NULL. */
	void (*release)(struct transport *t);
};

/* A reply waiting for the socket. */
struct transport_msg {
	struct transport_msg *next;
	size_t len;
	uint8_t data[];
};

struct transport {
	const struct transport_ops *ops;
	struct event_base *base;
	int fd;                          /* the datagram socket; -1 while there is none */
	struct event *rd, *wr;           /* on fd */
	transport_recv_cb *cb;
	void *arg;
	bool started;
	bool paused;
	struct transport_msg *head, *tail;
	size_t qlen;
	uint32_t pid;                    /* nlmsg_pid of replies */
	char name[160];
	struct transport_stats stats;
	bool eof_on_empty;               /* SOCK_SEQPACKET: a zero-length read means "closed" */
	/* dgram:PATH only */
	int lfd;                         /* the listening socket, -1 otherwise */
	struct event *acc;
	size_t rcvbuf;                   /* for each accepted connection */
	char path[108];
	dev_t path_dev;                  /* the socket file we made, to remove only ours */
	ino_t path_ino;
	/* the receive buffer */
	uint8_t buf[TRANSPORT_DATAGRAM_MAX];
};

/* A transport with no socket yet (fd and lfd -1). NULL when out of memory. */
struct transport *transport_alloc(struct event_base *base, const struct transport_ops *ops,
				  const char *name);

/* Makes fd (owned from now on) the datagram socket, replacing and closing any previous one
 * and dropping the replies queued for it. 0, or -ENOMEM (fd closed). */
int transport_attach(struct transport *t, int fd);

/* Closes the datagram socket and drops the queued replies. */
void transport_detach(struct transport *t);

#endif /* DMLOG_BRIDGE_TRANSPORT_IMPL_H */
