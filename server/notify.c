/* notify.c: the sd_notify datagram protocol without libsystemd.
 *
 * Resolves NOTIFY_SOCKET on every call (it can differ between tests; a few bytes of parsing
 * cost nothing next to a state change), sends one datagram, closes the socket. Never blocks
 * for long: the socket is a datagram socket and the message is small.
 */
#include "notify.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Fills *sa from NOTIFY_SOCKET's value; returns the address length, or -EINVAL. */
static int notify_address(const char *path, struct sockaddr_un *sa, socklen_t *salen)
{
	size_t n = strlen(path);

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if ((path[0] != '/' && path[0] != '@') || n < 2 || n > sizeof(sa->sun_path))
		return -EINVAL;
	if (path[0] == '/' && n == sizeof(sa->sun_path))
		return -EINVAL; /* a path needs room for its NUL */
	memcpy(sa->sun_path, path, n);
	if (path[0] == '@')
		sa->sun_path[0] = '\0'; /* abstract namespace: the length, not a NUL, ends it */
	*salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '/'));
	return 0;
}

int notify_send(const char *state, char *err, size_t errlen)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	socklen_t salen = 0;
	struct iovec iov;
	struct msghdr msg;
	size_t len = strlen(state);
	ssize_t sent;
	int fd, rc;

	if (path == NULL || path[0] == '\0')
		return 0;
	if (notify_address(path, &sa, &salen) != 0) {
		snprintf(err, errlen, "notify: NOTIFY_SOCKET is not a socket path or @name");
		return -EINVAL;
	}
	if (len > NOTIFY_MAX) {
		snprintf(err, errlen, "notify %s: message of %zu bytes is over %d", path, len,
			 NOTIFY_MAX);
		return -EMSGSIZE;
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "notify %s: socket: %s", path, strerror(-rc));
		return rc;
	}
	iov.iov_base = (void *)(uintptr_t)state;
	iov.iov_len = len;
	memset(&msg, 0, sizeof(msg));
	msg.msg_name = &sa;
	msg.msg_namelen = salen;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	do
		sent = sendmsg(fd, &msg, MSG_NOSIGNAL);
	while (sent < 0 && errno == EINTR);
	rc = sent < 0 ? -errno : 0;
	close(fd);
	if (rc != 0)
		snprintf(err, errlen, "notify %s: %s", path, strerror(-rc));
	return rc;
}

/* Sends head (fixed assignments) and, if status is not NULL, "STATUS=" with status flattened to
 * one line. */
static int notify_with_status(const char *head, const char *status, char *err, size_t errlen)
{
	char buf[NOTIFY_MAX + 1];
	int n = snprintf(buf, sizeof(buf), "%s", head);

	if (status != NULL && n >= 0 && (size_t)n < sizeof(buf)) {
		int m = snprintf(buf + n, sizeof(buf) - (size_t)n, "%sSTATUS=%s",
				 n > 0 ? "\n" : "", status);
		if (m > 0) {
			size_t end = (size_t)n + (size_t)m < sizeof(buf) ? (size_t)n + (size_t)m
									  : sizeof(buf) - 1;
			for (size_t i = (size_t)n + 1; i < end; i++) {
				if (buf[i] == '\n' || buf[i] == '\r')
					buf[i] = ' ';
			}
		}
	}
	return notify_send(buf, err, errlen);
}

int notify_ready(const char *status, char *err, size_t errlen)
{
	return notify_with_status("READY=1", status, err, errlen);
}

int notify_status(const char *status, char *err, size_t errlen)
{
	return notify_with_status("", status != NULL ? status : "", err, errlen);
}

int notify_reloading(const char *status, char *err, size_t errlen)
{
	struct timespec ts;
	char head[64];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(head, sizeof(head), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ULL +
			 (unsigned long long)ts.tv_nsec / 1000ULL);
	return notify_with_status(head, status, err, errlen);
}

int notify_stopping(const char *status, char *err, size_t errlen)
{
	return notify_with_status("STOPPING=1", status, err, errlen);
}
