/* transport_dgram.c: the test transport — the kernel's exact datagrams over a unix socket.
 *
 * "dgram:PATH" listens on a SOCK_SEQPACKET unix socket at PATH: datagram boundaries are kept
 * like netlink's, and unlike SOCK_DGRAM a full peer makes the socket non-writable, so the reply
 * queue waits on poll instead of spinning. The newest connection plays the kernel: a fake kernel
 * that reconnects replaces the old one, and a bridge that restarts is seen by the fake kernel as
 * a broken connection, its stand-in for the real kernel's -ESRCH "no log server" (which starts
 * the reconnect loop of CTR + RESUME). For in-process tests, transport_dgram_from_fd() takes
 * one end of a socketpair (SOCK_SEQPACKET or SOCK_DGRAM).
 *
 * Replies carry nlmsg_pid 0: there is no netlink port id here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "transport_impl.h"

static int dgram_recv(struct transport *t, uint8_t *buf, size_t cap, size_t *len)
{
	ssize_t n;

	do {
		n = recv(t->fd, buf, cap, MSG_DONTWAIT | MSG_TRUNC);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EWOULDBLOCK)
			return -EAGAIN;
		return errno == ECONNRESET || errno == ENOTCONN ? -ECONNRESET : -errno;
	}
	if (n == 0 && t->eof_on_empty)
		return -ECONNRESET;
	if ((size_t)n > cap)
		return -EMSGSIZE;
	*len = (size_t)n;
	return 0;
}

static int dgram_send(struct transport *t, const void *buf, size_t len)
{
	ssize_t n;

	do {
		n = send(t->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EWOULDBLOCK || errno == ENOBUFS)
			return -EAGAIN;
		if (errno == EPIPE || errno == ECONNRESET || errno == ENOTCONN ||
		    errno == ECONNREFUSED)
			return -ECONNRESET;
		return -errno;
	}
	return (size_t)n == len ? 0 : -EIO;
}

static void dgram_release(struct transport *t)
{
	struct stat st;

	if (t->acc != NULL)
		event_free(t->acc);
	t->acc = NULL;
	if (t->lfd >= 0)
		close(t->lfd);
	t->lfd = -1;
	/* Remove the socket file only if it is still ours (a newer bridge may own the path). */
	if (t->path[0] != '\0' && stat(t->path, &st) == 0 && st.st_ino == t->path_ino &&
	    st.st_dev == t->path_dev)
		unlink(t->path);
}

static const struct transport_ops dgram_ops = {
	.recv = dgram_recv,
	.send = dgram_send,
	.release = dgram_release,
};

static void dgram_set_rcvbuf(int fd, size_t rcvbuf)
{
	int size = rcvbuf > (size_t)(INT32_MAX / 2) ? INT32_MAX / 2 : (int)rcvbuf;

	if (size > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

static void dgram_on_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct transport *t = arg;
	int fd;

	(void)what;
	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			log_warning("%s: accept: %s", t->name, strerror(errno));
		return;
	}
	dgram_set_rcvbuf(fd, t->rcvbuf);
	if (t->fd >= 0)
		log_notice("%s: a new kernel stand-in replaces the connected one", t->name);
	if (transport_attach(t, fd) != 0) {
		log_err("%s: out of memory", t->name);
		return;
	}
	t->stats.peers++;
	log_info("%s: kernel stand-in connected", t->name);
}

struct transport *transport_dgram_listen(struct event_base *base, const char *path,
					 size_t rcvbuf, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char name[sizeof(sa.sun_path) + 8];
	struct transport *t;
	struct stat st;
	int lfd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "dgram:%.64s...: path longer than %zu bytes", path,
			 sizeof(sa.sun_path) - 1);
		return NULL;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "dgram:%s: exists and is not a socket", path);
			return NULL;
		}
		unlink(path); /* a socket left behind by a bridge that died */
	}
	lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0) {
		snprintf(err, errlen, "dgram:%s: socket: %s", path, strerror(errno));
		return NULL;
	}
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 16) != 0 ||
	    stat(path, &st) != 0) {
		snprintf(err, errlen, "dgram:%s: bind: %s", path, strerror(errno));
		close(lfd);
		return NULL;
	}
	snprintf(name, sizeof(name), "dgram:%s", path);
	t = transport_alloc(base, &dgram_ops, name);
	if (t == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		close(lfd);
		unlink(path);
		return NULL;
	}
	t->lfd = lfd;
	t->eof_on_empty = true;
	t->rcvbuf = rcvbuf;
	t->path_ino = st.st_ino;
	t->path_dev = st.st_dev;
	memcpy(t->path, path, strlen(path) + 1);
	t->acc = event_new(base, lfd, EV_READ | EV_PERSIST, dgram_on_accept, t);
	if (t->acc == NULL || event_add(t->acc, NULL) != 0) {
		snprintf(err, errlen, "%s: out of memory", name);
		transport_free(t);
		return NULL;
	}
	return t;
}

struct transport *transport_dgram_from_fd(struct event_base *base, int fd, char *err,
					  size_t errlen)
{
	struct transport *t;
	int type = 0;
	socklen_t tlen = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0 ||
	    (type != SOCK_SEQPACKET && type != SOCK_DGRAM)) {
		snprintf(err, errlen, "dgram:fd: not a datagram socket");
		close(fd);
		return NULL;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
		snprintf(err, errlen, "dgram:fd: %s", strerror(errno));
		close(fd);
		return NULL;
	}
	t = transport_alloc(base, &dgram_ops, "dgram:fd");
	if (t == NULL) {
		snprintf(err, errlen, "dgram:fd: out of memory");
		close(fd);
		return NULL;
	}
	t->eof_on_empty = type == SOCK_SEQPACKET;
	if (transport_attach(t, fd) != 0) {
		snprintf(err, errlen, "dgram:fd: out of memory");
		transport_free(t);
		return NULL;
	}
	return t;
}
