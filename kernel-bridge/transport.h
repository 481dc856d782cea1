/* transport.h: how dmlog-bridge exchanges datagrams with the kernel (or a stand-in for it).
 *
 * A transport delivers the kernel's request datagrams one at a time to a callback and takes one
 * reply datagram per send. Two kinds carry exactly the same bytes:
 *   "netlink"     the real thing: a NETLINK_CONNECTOR socket subscribed to the dm-log-userspace
 *                 group (CN_IDX_DM = 7), replies unicast to the kernel (transport_netlink.c);
 *   "dgram:PATH"  a test stand-in: a SOCK_SEQPACKET unix socket listening at PATH, one peer at a
 *                 time playing the kernel; or, for in-process tests, one end of a socketpair
 *                 (transport_dgram.c).
 * Everything above the transport (the relay, its tests) is the same for both.
 *
 * The transport runs on the caller's libevent loop. Reading is level-triggered and may be
 * paused (back-pressure: the relay stops taking requests it could not bound). A reply the socket
 * cannot take at once is queued (FIFO, bounded by TRANSPORT_QUEUE_MAX) and written when the
 * socket is writable, so the loop never blocks on a slow peer.
 *
 * Threads: a transport belongs to the thread running its event_base. Ownership: transport_*_new
 * return an owned transport; transport_free(NULL) is a no-op; the callback's buffer is borrowed
 * for the duration of the callback.
 */
#ifndef DMLOG_BRIDGE_TRANSPORT_H
#define DMLOG_BRIDGE_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct transport;

/* Largest datagram received; longer ones are dropped as truncated. The kernel's largest
 * request is 36 + 512 bytes, the connector's limit 16 KiB. */
#define TRANSPORT_DATAGRAM_MAX 16384
/* Replies waiting for the socket to take them; more are dropped (and counted). */
#define TRANSPORT_QUEUE_MAX 65536

/* Called for each datagram received. */
typedef void transport_recv_cb(struct transport *t, const uint8_t *buf, size_t len, void *arg);

/* Counters, for the state dump and tests. */
struct transport_stats {
	uint64_t received;        /* datagrams handed to the callback */
	uint64_t sent;            /* datagrams the socket took */
	uint64_t queued;          /* sends that had to wait for the socket */
	uint64_t dropped_in;      /* datagrams dropped on receipt: truncated, wrong sender */
	uint64_t dropped_out;     /* replies lost: no peer, queue full, send error */
	uint64_t overruns;        /* netlink: the receive queue overflowed (ENOBUFS) */
	uint64_t peers;           /* dgram:PATH: connections accepted */
};

/* Opens the transport named by spec ("netlink" or "dgram:PATH") on base. rcvbuf: the receive
 * buffer to ask for, in bytes (netlink: SO_RCVBUFFORCE, which needs CAP_NET_ADMIN, else
 * SO_RCVBUF capped by net.core.rmem_max; dgram: SO_RCVBUF). Reading starts with
 * transport_start(). Returns NULL with the reason in err ("netlink: join group 7: Operation not
 * permitted (needs CAP_NET_ADMIN)"). */
struct transport *transport_open(struct event_base *base, const char *spec, size_t rcvbuf,
				 char *err, size_t errlen);

/* The netlink connector transport (see transport_open). */
struct transport *transport_netlink_new(struct event_base *base, size_t rcvbuf, char *err,
					size_t errlen);

/* A SOCK_SEQPACKET unix socket listening at path (a stale socket file there is replaced; any
 * other file is an error). The newest connection is "the kernel": it replaces the previous one,
 * whose queued replies are dropped. */
struct transport *transport_dgram_listen(struct event_base *base, const char *path,
					 size_t rcvbuf, char *err, size_t errlen);

/* A transport over fd, a connected datagram socket (one end of a SOCK_SEQPACKET or SOCK_DGRAM
 * socketpair). Takes ownership of fd, even on failure. */
struct transport *transport_dgram_from_fd(struct event_base *base, int fd, char *err,
					  size_t errlen);

/* Starts delivering datagrams to cb. 0 or -ENOMEM. */
int transport_start(struct transport *t, transport_recv_cb *cb, void *arg);

/* Stops (paused = true) or resumes delivering datagrams. Replies still go out. */
void transport_pause(struct transport *t, bool paused);

/* Sends one datagram, now or as soon as the socket takes it. Returns 0 (sent or queued),
 * -ENOTCONN (no peer to send to: dgram:PATH without a connection), -ENOBUFS (queue full),
 * -ENOMEM, or the -errno of a send that failed for good. Nothing is kept on failure. */
int transport_send(struct transport *t, const void *buf, size_t len);

/* The nlmsg_pid to put in replies: the socket's netlink port id, 0 for dgram. */
uint32_t transport_pid(const struct transport *t);

/* "netlink" or "dgram:PATH" (or "dgram:fd"). */
const char *transport_name(const struct transport *t);

void transport_get_stats(const struct transport *t, struct transport_stats *out);

/* Closes the socket(s), drops queued replies, removes a dgram:PATH socket file. NULL is a
 * no-op. */
void transport_free(struct transport *t);

#endif /* DMLOG_BRIDGE_TRANSPORT_H */
