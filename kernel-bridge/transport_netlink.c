/* transport_netlink.c: the kernel connector transport (reference §1.1).
 *
 * socket(AF_NETLINK, SOCK_DGRAM, NETLINK_CONNECTOR), bound with nl_groups 0 (the kernel picks the
 * port id), then NETLINK_ADD_MEMBERSHIP of group CN_IDX_DM (7): binding with nl_groups = 7 as
 * cmirrord does would subscribe groups 1-3 instead, since nl_groups is a bit mask. Requests are
 * multicast by the kernel to that group; each reply is one datagram unicast to the kernel
 * ({AF_NETLINK, pid 0, groups 0}), since the connector only reads the first message of a
 * datagram.
 *
 * Privileges: joining group 7 needs CAP_NET_ADMIN (the connector's bind check), and the kernel
 * silently ignores replies sent by a task without CAP_SYS_ADMIN (dm-log-userspace's callback),
 * so the bridge runs with both. SO_RCVBUFFORCE (CAP_NET_ADMIN as well) lifts the receive buffer
 * above net.core.rmem_max: a full receive queue makes the kernel's multicast fail, which the
 * kernel takes for "no log server" and answers with CTR+RESUME replays every 2 s. Only the
 * initial network namespace receives the kernel's messages.
 *
 * Only datagrams from port id 0 (the kernel) are accepted; the connector id filter ({7,1}) is
 * applied by the codec.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/connector.h>
#include <linux/netlink.h>

#include "transport_impl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

static int netlink_recv(struct transport *t, uint8_t *buf, size_t cap, size_t *len)
{
	struct sockaddr_nl from;
	struct iovec iov = {buf, cap};
	struct msghdr mh = {.msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
			    .msg_iovlen = 1};
	ssize_t n;

	do {
		n = recvmsg(t->fd, &mh, MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if (mh.msg_flags & MSG_TRUNC)
		return -EMSGSIZE;
	if (mh.msg_namelen < sizeof(from) || from.nl_family != AF_NETLINK || from.nl_pid != 0)
		return -EPERM;
	*len = (size_t)n;
	return 0;
}

static int netlink_send(struct transport *t, const void *buf, size_t len)
{
	struct sockaddr_nl to = {.nl_family = AF_NETLINK, .nl_pid = 0, .nl_groups = 0};
	ssize_t n;

	do {
		n = sendto(t->fd, buf, len, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof(to));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return (size_t)n == len ? 0 : -EIO;
}

static const struct transport_ops netlink_ops = {
	.recv = netlink_recv,
	.send = netlink_send,
	.release = NULL,
};

/* Formats "netlink: what: cause", with a hint when privileges are the cause. */
static void netlink_error(char *err, size_t errlen, const char *what, int e)
{
	bool denied = e == EPERM || e == EACCES;

	snprintf(err, errlen, "netlink: %s: %s%s", what, strerror(e),
		 denied ? " (needs CAP_NET_ADMIN, and the initial network namespace)" : "");
}

/* Asks for a receive buffer of rcvbuf bytes: forced if privileged, else as much as rmem_max
 * allows. */
static void netlink_rcvbuf(int fd, size_t rcvbuf)
{
	int size = rcvbuf > (size_t)(INT32_MAX / 2) ? INT32_MAX / 2 : (int)rcvbuf;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) != 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

struct transport *transport_netlink_new(struct event_base *base, size_t rcvbuf, char *err,
					size_t errlen)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_pid = 0, .nl_groups = 0};
	socklen_t salen = sizeof(sa);
	unsigned group = CN_IDX_DM;
	struct transport *t;
	int fd;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_CONNECTOR);
	if (fd < 0) {
		netlink_error(err, errlen, "socket", errno);
		return NULL;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		netlink_error(err, errlen, "bind", errno);
		close(fd);
		return NULL;
	}
	if (getsockname(fd, (struct sockaddr *)&sa, &salen) != 0) {
		netlink_error(err, errlen, "getsockname", errno);
		close(fd);
		return NULL;
	}
	netlink_rcvbuf(fd, rcvbuf);
	if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) != 0) {
		netlink_error(err, errlen, "join group 7", errno);
		close(fd);
		return NULL;
	}
	t = transport_alloc(base, &netlink_ops, "netlink");
	if (t == NULL) {
		snprintf(err, errlen, "netlink: out of memory");
		close(fd);
		return NULL;
	}
	t->pid = sa.nl_pid;
	if (transport_attach(t, fd) != 0) {
		snprintf(err, errlen, "netlink: out of memory");
		transport_free(t);
		return NULL;
	}
	return t;
}
