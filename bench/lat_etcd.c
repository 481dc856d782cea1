/* lat_etcd.c: etcd v3 put round trips over one HTTP/1.1 keep-alive connection.
 *
 * etcd's gRPC gateway takes JSON at POST /v3/kv/put ({"key": base64, "value": base64}) and
 * answers after the put is committed by a majority (each member fsyncs its WAL) and applied:
 * the same durability a dmlog MARK+FLUSH has. One connection, one request at a time, no process
 * start or connection setup in the samples (etcdctl in a loop would time its own start). Each
 * put writes a new key "dmlog-bench/<n>" with an 8-byte value, about a dirty-region record.
 * Plain HTTP on 127.0.0.1: etcd pays no TLS here, which only favours it. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"
#include "lat.h"

#define ETCD_BUF 65536

struct etcd_ctx {
	int fd;
	int port;
	unsigned long next;
	char in[ETCD_BUF];
	size_t have;        /* bytes in in[] not consumed yet */
};

static void etcd_b64(const char *src, size_t n, char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = (unsigned char)src[i] << 16 | (unsigned char)src[i + 1] << 8 |
			     (unsigned char)src[i + 2];

		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = tab[(v >> 6) & 63];
		out[o++] = tab[v & 63];
	}
	if (i < n) {
		unsigned v = (unsigned char)src[i] << 16 | (i + 1 < n ? (unsigned char)src[i + 1] << 8 : 0);

		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
}

/* Reads until in[] holds at least need bytes. 0 or -1. */
static int etcd_fill(struct etcd_ctx *c, size_t need)
{
	while (c->have < need) {
		ssize_t k;

		if (c->have == sizeof(c->in))
			return -1;
		k = read(c->fd, c->in + c->have, sizeof(c->in) - c->have);
		if (k <= 0)
			return -1;
		c->have += (size_t)k;
	}
	return 0;
}

static void etcd_consume(struct etcd_ctx *c, size_t n)
{
	memmove(c->in, c->in + n, c->have - n);
	c->have -= n;
}

/* Reads one response; *status gets the HTTP status. Handles Content-Length and chunked
 * bodies. 0 or -1. */
static int etcd_response(struct etcd_ctx *c, int *status)
{
	char *end;
	size_t hlen, body = 0;
	int chunked = 0;

	for (;;) {
		c->in[c->have < sizeof(c->in) ? c->have : sizeof(c->in) - 1] = '\0';
		end = c->have ? strstr(c->in, "\r\n\r\n") : NULL;
		if (end)
			break;
		if (etcd_fill(c, c->have + 1) != 0)
			return -1;
	}
	hlen = (size_t)(end - c->in) + 4;
	if (sscanf(c->in, "HTTP/1.%*d %d", status) != 1)
		return -1;
	for (char *p = strstr(c->in, "\r\n"); p && p < end; p = strstr(p + 2, "\r\n")) {
		if (strncasecmp(p + 2, "Content-Length:", 15) == 0)
			body = strtoul(p + 17, NULL, 10);
		else if (strncasecmp(p + 2, "Transfer-Encoding:", 18) == 0 && strstr(p + 2, "chunked") &&
			 strstr(p + 2, "chunked") < strstr(p + 2, "\r\n"))
			chunked = 1;
	}
	etcd_consume(c, hlen);
	if (!chunked) {
		if (etcd_fill(c, body) != 0)
			return -1;
		etcd_consume(c, body);
		return 0;
	}
	for (;;) {
		char *eol;
		size_t size;

		for (;;) {
			c->in[c->have < sizeof(c->in) ? c->have : sizeof(c->in) - 1] = '\0';
			eol = strstr(c->in, "\r\n");
			if (eol)
				break;
			if (etcd_fill(c, c->have + 1) != 0)
				return -1;
		}
		size = strtoul(c->in, NULL, 16);
		etcd_consume(c, (size_t)(eol - c->in) + 2);
		if (etcd_fill(c, size + 2) != 0)
			return -1;
		etcd_consume(c, size + 2);
		if (size == 0)
			return 0;
	}
}

static int etcd_run(void *arg, int n, struct stats *s, char *err)
{
	struct etcd_ctx *c = arg;

	for (int i = 0; i < n; i++) {
		char key[64], k64[128], v64[32], body[256], req[512];
		int len, status = 0;
		double t0;

		snprintf(key, sizeof(key), "dmlog-bench/%lu", c->next++);
		etcd_b64(key, strlen(key), k64);
		etcd_b64("dirty\0\0\1", 8, v64);
		snprintf(body, sizeof(body), "{\"key\":\"%s\",\"value\":\"%s\"}", k64, v64);
		len = snprintf(req, sizeof(req),
			       "POST /v3/kv/put HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
			       "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
			       c->port, strlen(body), body);
		t0 = stats_now_us();
		if (write(c->fd, req, (size_t)len) != len || etcd_response(c, &status) != 0) {
			snprintf(err, AGENT_ERR_MAX, "put: connection failed");
			return -1;
		}
		if (status != 200) {
			snprintf(err, AGENT_ERR_MAX, "put: HTTP status %d", status);
			return -1;
		}
		stats_add(&s[0], stats_now_us() - t0);
	}
	return 0;
}

int lat_etcd_main(int argc, char **argv)
{
	static struct etcd_ctx c;
	struct agent a = {1, {"etcd_put"}, etcd_run, &c};
	struct sockaddr_in sin;
	int one = 1, rc;

	c.port = atoi(agent_arg(argc, argv, "port", "0"));
	if (c.port <= 0)
		return agent_fail("etcd: port= is required");
	c.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)c.port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (c.fd < 0 || connect(c.fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
		return agent_fail("etcd: connect 127.0.0.1:%d: %m", c.port);
	setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	rc = agent_serve(&a);
	close(c.fd);
	return rc;
}
