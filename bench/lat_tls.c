/* lat_tls.c: bare TLS round trips to bench_tlsecho with the frame sizes of IN_SYNC, and IN_SYNC
 * to dmlogd over the same bare client.
 *
 * A blocking client (TCP_NODELAY, as libdmlog sets it) over one mutual-TLS connection with
 * libdmlog's client settings (tlsctx.h). Unless req= and rep= say otherwise, each sample sends
 * one frame as big as the IN_SYNC request libdmlog sends for this benchmark's log and reads one
 * as big as dmlogd's answer: the sizes come from packing those very protobuf messages. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "agent.h"
#include "dmlog.pb-c.h"
#include "lat.h"
#include "tlsctx.h"

#define LAT_TLS_MAX 65536

struct tls_ctx {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	size_t req, rep;
	uint8_t buf[4 + LAT_TLS_MAX];
};

/* The payload sizes of an IN_SYNC request (uuid, luid, version 3, a 20-bit region, a request
 * id in the thousands) and of its boolean answer. */
static void tls_insync_sizes(const char *uuid, size_t *req, size_t *rep)
{
	Dmlog__ClientMessage cm = DMLOG__CLIENT_MESSAGE__INIT;
	Dmlog__InSync in = DMLOG__IN_SYNC__INIT;
	Dmlog__LogRef ref = DMLOG__LOG_REF__INIT;
	Dmlog__ServerMessage sm = DMLOG__SERVER_MESSAGE__INIT;
	Dmlog__BoolResult b = DMLOG__BOOL_RESULT__INIT;

	ref.uuid = (char *)uuid;
	ref.luid = 1;
	ref.request_version = 3;
	in.log = &ref;
	in.region = 700000;
	cm.id = 5000;
	cm.body_case = DMLOG__CLIENT_MESSAGE__BODY_IN_SYNC;
	cm.in_sync = &in;
	b.value = true;
	sm.id = 5000;
	sm.body_case = DMLOG__SERVER_MESSAGE__BODY_BOOL_RESULT;
	sm.bool_result = &b;
	*req = dmlog__client_message__get_packed_size(&cm);
	*rep = dmlog__server_message__get_packed_size(&sm);
}

static int tls_read_full(SSL *ssl, uint8_t *p, size_t n)
{
	while (n > 0) {
		int k = SSL_read(ssl, p, (int)n);

		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int tls_run(void *arg, int n, struct stats *s, char *err)
{
	struct tls_ctx *c = arg;
	uint8_t *b = c->buf;

	for (int i = 0; i < n; i++) {
		double t0 = stats_now_us();
		uint32_t len;

		b[0] = (uint8_t)(c->req >> 24);
		b[1] = (uint8_t)(c->req >> 16);
		b[2] = (uint8_t)(c->req >> 8);
		b[3] = (uint8_t)c->req;
		b[4] = (uint8_t)(c->rep >> 24);
		b[5] = (uint8_t)(c->rep >> 16);
		b[6] = (uint8_t)(c->rep >> 8);
		b[7] = (uint8_t)c->rep;
		if (SSL_write(c->ssl, b, (int)(4 + c->req)) != (int)(4 + c->req) ||
		    tls_read_full(c->ssl, b, 4) != 0)
			goto fail;
		len = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
		if (len != c->rep || tls_read_full(c->ssl, b, len) != 0)
			goto fail;
		stats_add(&s[0], stats_now_us() - t0);
	}
	return 0;
fail:
	snprintf(err, AGENT_ERR_MAX, "echo round trip failed");
	return -1;
}

/* Connects c to bench_tlsecho or dmlogd on 127.0.0.1:port with libdmlog's client settings
 * (tlsctx.h) as node. 0, or 1 after reporting the failure. */
static int tls_connect(struct tls_ctx *c, const char *certs, const char *node, int port)
{
	struct sockaddr_in sin;
	int one = 1;

	c->ctx = tlsctx_client(certs, node);
	if (!c->ctx)
		return agent_fail("tls: client context");
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
		return agent_fail("tls: connect 127.0.0.1:%d: %m", port);
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->ssl = SSL_new(c->ctx);
	if (!c->ssl || X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), "127.0.0.1") != 1 ||
	    SSL_set_fd(c->ssl, c->fd) != 1 || SSL_connect(c->ssl) != 1) {
		char buf[256];

		ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
		return agent_fail("tls: handshake: %s", buf);
	}
	fprintf(stderr, "lat_tls: %s, %s\n", SSL_get_version(c->ssl), SSL_get_cipher(c->ssl));
	return 0;
}

static void tls_close(struct tls_ctx *c)
{
	SSL_shutdown(c->ssl);
	SSL_free(c->ssl);
	close(c->fd);
	SSL_CTX_free(c->ctx);
}

int lat_tls_main(int argc, char **argv)
{
	static struct tls_ctx c;
	struct agent a = {1, {"tls_echo"}, tls_run, &c};
	const char *certs = agent_arg(argc, argv, "certs", NULL);
	int port = atoi(agent_arg(argc, argv, "port", "0")), rc;

	if (!certs || port <= 0)
		return agent_fail("tls: certs= and port= are required");
	tls_insync_sizes(agent_arg(argc, argv, "uuid", "LVM-bench-solo-0123456789abcdef"), &c.req,
			 &c.rep);
	if (agent_arg(argc, argv, "req", NULL))
		c.req = strtoul(agent_arg(argc, argv, "req", NULL), NULL, 0);
	if (agent_arg(argc, argv, "rep", NULL))
		c.rep = strtoul(agent_arg(argc, argv, "rep", NULL), NULL, 0);
	if (c.req < 4 || c.req > LAT_TLS_MAX || c.rep > LAT_TLS_MAX)
		return agent_fail("tls: sizes out of range");
	fprintf(stderr, "lat_tls: frames of %zu + 4 bytes out, %zu + 4 bytes back\n", c.req, c.rep);
	if (tls_connect(&c, certs, agent_arg(argc, argv, "node", "node1"), port) != 0)
		return 1;
	rc = agent_serve(&a);
	tls_close(&c);
	return rc;
}

/* ---------------------------------------------------------------- raw IN_SYNC */

struct raw_ctx {
	struct tls_ctx t;
	Dmlog__LogRef ref;
	uint64_t id;
	uint64_t next;
};

/* Sends m (with the next request id) and reads one answer; 0 when it is not an error. */
static int raw_call(struct raw_ctx *c, Dmlog__ClientMessage *m)
{
	uint8_t *b = c->t.buf;
	size_t n;
	uint32_t len;
	Dmlog__ServerMessage *r;
	int rc;

	m->id = ++c->id;
	n = dmlog__client_message__get_packed_size(m);
	if (n > LAT_TLS_MAX)
		return -1;
	b[0] = (uint8_t)(n >> 24);
	b[1] = (uint8_t)(n >> 16);
	b[2] = (uint8_t)(n >> 8);
	b[3] = (uint8_t)n;
	dmlog__client_message__pack(m, b + 4);
	if (SSL_write(c->t.ssl, b, (int)(4 + n)) != (int)(4 + n) || tls_read_full(c->t.ssl, b, 4) != 0)
		return -1;
	len = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	if (len > LAT_TLS_MAX || tls_read_full(c->t.ssl, b, len) != 0)
		return -1;
	r = dmlog__server_message__unpack(NULL, len, b);
	if (!r)
		return -1;
	rc = r->body_case == DMLOG__SERVER_MESSAGE__BODY_ERROR ||
	     r->body_case == DMLOG__SERVER_MESSAGE__BODY_NOT_LEADER ? -1 : 0;
	dmlog__server_message__free_unpacked(r, NULL);
	return rc;
}

static int raw_run(void *arg, int n, struct stats *s, char *err)
{
	struct raw_ctx *c = arg;
	Dmlog__ClientMessage m = DMLOG__CLIENT_MESSAGE__INIT;
	Dmlog__InSync in = DMLOG__IN_SYNC__INIT;

	in.log = &c->ref;
	m.body_case = DMLOG__CLIENT_MESSAGE__BODY_IN_SYNC;
	m.in_sync = &in;
	for (int i = 0; i < n; i++) {
		double t0 = stats_now_us();

		in.region = c->next++ % 1048576;
		if (raw_call(c, &m) != 0) {
			snprintf(err, AGENT_ERR_MAX, "raw IN_SYNC failed");
			return -1;
		}
		stats_add(&s[0], stats_now_us() - t0);
	}
	return 0;
}

int lat_raw_main(int argc, char **argv)
{
	static struct raw_ctx c;
	struct agent a = {1, {"raw_insync"}, raw_run, &c};
	const char *certs = agent_arg(argc, argv, "certs", NULL);
	int port = atoi(agent_arg(argc, argv, "port", "0")), rc;
	Dmlog__ClientMessage m = DMLOG__CLIENT_MESSAGE__INIT;
	Dmlog__Hello hello = DMLOG__HELLO__INIT;
	Dmlog__Ctr ctr = DMLOG__CTR__INIT;
	Dmlog__Resume resume = DMLOG__RESUME__INIT;

	if (!certs || port <= 0)
		return agent_fail("raw: certs= and port= are required");
	if (tls_connect(&c.t, certs, agent_arg(argc, argv, "node", "node1"), port) != 0)
		return 1;
	dmlog__log_ref__init(&c.ref);
	c.ref.uuid = (char *)agent_arg(argc, argv, "uuid", "LVM-bench-raw-0123456789abcdef");
	c.ref.luid = 1;
	c.ref.request_version = 3;
	hello.protocol_version = DMLOG__VERSION__PROTOCOL_VERSION;
	hello.client_name = "bench_lat raw";
	hello.client_id = (uint64_t)getpid() << 20 | 0x5a5;
	m.body_case = DMLOG__CLIENT_MESSAGE__BODY_HELLO;
	m.hello = &hello;
	if (raw_call(&c, &m) != 0)
		return agent_fail("raw: Hello refused");
	ctr.log = &c.ref;
	ctr.args = (char *)"1073741824 clustered-core 1024 nosync";
	m.body_case = DMLOG__CLIENT_MESSAGE__BODY_CTR;
	m.ctr = &ctr;
	if (raw_call(&c, &m) != 0)
		return agent_fail("raw: CTR refused");
	resume.log = &c.ref;
	m.body_case = DMLOG__CLIENT_MESSAGE__BODY_RESUME;
	m.resume = &resume;
	if (raw_call(&c, &m) != 0)
		return agent_fail("raw: RESUME refused");
	rc = agent_serve(&a);
	tls_close(&c.t);
	return rc;
}
