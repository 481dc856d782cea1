/* testport.c: TCP ports on 127.0.0.1 for the tests' servers (see testport.h). */
#include "testport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* One free port from the kernel (bind to port 0), or -errno. */
static int testport_probe(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), rc;

	if (fd < 0)
		return -errno;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
		rc = -errno;
	else
		rc = ntohs(sa.sin_port);
	close(fd);
	return rc;
}

/* Ports handed out in this process: a port probed free and closed again may be probed free
 * again at once (seen: one dmlogd given the same port for listen and raft_address), so none is
 * handed out twice. */
#define TESTPORT_TRIES 64

static pthread_mutex_t testport_lock = PTHREAD_MUTEX_INITIALIZER;
static bool testport_given[65536];

int testport_free(void)
{
	int port = -EADDRINUSE;

	pthread_mutex_lock(&testport_lock);
	for (int i = 0; i < TESTPORT_TRIES; i++) {
		int p = testport_probe();

		if (p < 0) {
			port = p;
			break;
		}
		if (!testport_given[p]) {
			testport_given[p] = true;
			port = p;
			break;
		}
	}
	pthread_mutex_unlock(&testport_lock);
	return port;
}
