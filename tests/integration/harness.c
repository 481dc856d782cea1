/* harness.c: integration-test helpers (see harness.h). */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"
#include "testcerts.h"
#include "testdir.h"
#include "testport.h"

#ifndef DMLOGD_PATH
#error "DMLOGD_PATH must name the dmlogd binary"
#endif

static void die(const char *what)
{
	fprintf(stderr, "harness: %s: %s\n", what, strerror(errno));
	abort();
}

void harness_tmpdir(char *out, size_t len)
{
	int rc = testdir_make(out, len, "test");

	if (rc != 0) {
		errno = -rc;
		die("mkdtemp");
	}
}

void harness_rmdir(const char *dir)
{
	if (strncmp(dir, "/tmp/dmlog-test-", 16) != 0)
		return;
	testdir_remove(dir);
}

void harness_certs(const char *dir)
{
	char other[1024];

	snprintf(other, sizeof(other), "%s/other", dir);
	if (testcerts_make(dir, "dev", "node node2", NULL) != 0 ||
	    testcerts_make(other, "ca", "node node1", "peer dmlogd1", NULL) != 0) {
		fprintf(stderr, "harness: making certificates in %s failed\n", dir);
		abort();
	}
}

int harness_free_port(void)
{
	int port = testport_free();

	if (port < 0) {
		errno = -port;
		die("free port");
	}
	return port;
}

uint64_t harness_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool tcp_accepts(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;

	if (fd >= 0)
		close(fd);
	return ok;
}

int dmlogd_start(struct dmlogd *d, const char *certs_dir, const char *state_dir,
		 const char *const *extra)
{
	char *argv[64];
	char a[12][700];
	int n = 0;

	if (!d->port)
		d->port = harness_free_port();
	if (!d->raft_port)
		d->raft_port = harness_free_port();
	snprintf(d->certs, sizeof(d->certs), "%s", certs_dir);
	snprintf(d->state, sizeof(d->state), "%s", state_dir);
	snprintf(d->logfile, sizeof(d->logfile), "%s/dmlogd.log", state_dir);
	snprintf(a[0], sizeof(a[0]), "--listen=127.0.0.1:%d", d->port);
	snprintf(a[1], sizeof(a[1]), "--raft-address=127.0.0.1:%d", d->raft_port);
	snprintf(a[2], sizeof(a[2]), "--state-dir=%s", state_dir);
	snprintf(a[3], sizeof(a[3]), "--ca-file=%s/ca.crt", certs_dir);
	snprintf(a[4], sizeof(a[4]), "--cert-file=%s/peer-dmlogd1.crt", certs_dir);
	snprintf(a[5], sizeof(a[5]), "--key-file=%s/peer-dmlogd1.key", certs_dir);
	snprintf(a[6], sizeof(a[6]), "--log-level=info");
	argv[n++] = (char *)DMLOGD_PATH;
	for (int i = 0; i < 7; i++)
		argv[n++] = a[i];
	for (int i = 0; extra && extra[i] && n < 62; i++)
		argv[n++] = (char *)extra[i];
	argv[n] = NULL;

	d->pid = fork();
	if (d->pid < 0)
		die("fork");
	if (d->pid == 0) {
		int fd = open(d->logfile, O_WRONLY | O_CREAT | O_APPEND, 0600);

		if (fd >= 0) {
			dup2(fd, 2);
			close(fd);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	for (int i = 0; i < 400; i++) {
		int st;

		if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
			d->pid = 0;
			return -1;
		}
		if (tcp_accepts(d->port))
			return 0;
		usleep(50 * 1000);
	}
	return -1;
}

int harness_reap(pid_t pid, int sig, int timeout_ms)
{
	int st = 0;

	if (sig)
		kill(pid, sig);
	for (int i = 0; i < timeout_ms / 50; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		usleep(50 * 1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

int dmlogd_stop(struct dmlogd *d, int sig)
{
	int rc;

	if (d->pid <= 0)
		return -1;
	rc = harness_reap(d->pid, sig, 20000);
	d->pid = 0;
	return rc < 0 ? 128 + SIGKILL : rc;
}

int dmlogd_log_count(const struct dmlogd *d, const char *needle)
{
	return harness_log_count(d->logfile, needle);
}

int harness_log_count(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	int n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, needle))
			n++;
	fclose(f);
	return n;
}

int harness_bridge_ini(const char *path, const char *servers, const char *certs, const char *node,
		       const char *sock, const char *tail)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fprintf(f,
		"[dmlog-bridge]\n"
		"servers = %s\n"
		"ca_file = %s/ca.crt\n"
		"cert_file = %s/node-%s.crt\n"
		"key_file = %s/node-%s.key\n"
		"transport = dgram:%s\n"
		"%s",
		servers, certs, certs, node, certs, node, sock, tail ? tail : "");
	return fclose(f) == 0 ? 0 : -1;
}

pid_t harness_bridge_spawn(const char *path, const char *ini, const char *const *extra,
			   const char *notify, const char *logfile)
{
	char *argv[16];
	int n = 0;
	pid_t pid;

	argv[n++] = (char *)path;
	argv[n++] = (char *)"--config";
	argv[n++] = (char *)ini;
	for (int i = 0; extra && extra[i] && n < 15; i++)
		argv[n++] = (char *)extra[i];
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		int fd = open(logfile, O_WRONLY | O_CREAT | O_APPEND, 0600);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		if (notify)
			setenv("NOTIFY_SOCKET", notify, 1);
		else
			unsetenv("NOTIFY_SOCKET");
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

pid_t harness_bridge_start(const char *path, const char *ini, const char *ready,
			   const char *logfile)
{
	char arg[400];
	const char *extra[] = {arg, NULL};

	snprintf(arg, sizeof(arg), "--ready-file=%s", ready);
	return harness_bridge_spawn(path, ini, extra, NULL, logfile);
}

bool harness_wait_ready(pid_t pid, const char *ready)
{
	for (int i = 0; i < 200; i++) {
		if (access(ready, F_OK) == 0)
			return true;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return false;
		usleep(50 * 1000);
	}
	return access(ready, F_OK) == 0;
}

static void ssl_err(struct rawconn *c, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[200] = "";

	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(c->err, sizeof(c->err), "%s: %s", what, buf[0] ? buf : "failed");
	ERR_clear_error();
}

/* Frees what a failed rawconn_open() made, keeping its message (a caller may retry at once). */
static int rawconn_failed(struct rawconn *c)
{
	char err[sizeof(c->err)];

	memcpy(err, c->err, sizeof(err));
	rawconn_close(c);
	memcpy(c->err, err, sizeof(err));
	return -1;
}

int rawconn_open(struct rawconn *c, int port, const char *ca, const char *cert, const char *key)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int one = 1;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->ctx = SSL_CTX_new(TLS_client_method());
	if (!c->ctx)
		return ssl_err(c, "ctx"), rawconn_failed(c);
	SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
	if (SSL_CTX_load_verify_locations(c->ctx, ca, NULL) != 1)
		return ssl_err(c, "load CA"), rawconn_failed(c);
	if (cert && (SSL_CTX_use_certificate_chain_file(c->ctx, cert) != 1 ||
		     SSL_CTX_use_PrivateKey_file(c->ctx, key, SSL_FILETYPE_PEM) != 1))
		return ssl_err(c, "load cert"), rawconn_failed(c);
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		snprintf(c->err, sizeof(c->err), "connect: %s", strerror(errno));
		return rawconn_failed(c);
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->ssl = SSL_new(c->ctx);
	SSL_set_fd(c->ssl, c->fd);
	SSL_set1_host(c->ssl, "127.0.0.1");
	if (SSL_connect(c->ssl) != 1)
		return ssl_err(c, "handshake"), rawconn_failed(c);
	return 0;
}

int rawconn_open_as(struct rawconn *c, int port, const char *certs_dir, const char *who)
{
	char ca[400], cert[400], key[400];

	snprintf(ca, sizeof(ca), "%s/ca.crt", certs_dir);
	snprintf(cert, sizeof(cert), "%s/%s.crt", certs_dir, who);
	snprintf(key, sizeof(key), "%s/%s.key", certs_dir, who);
	return rawconn_open(c, port, ca, cert, key);
}

void rawconn_close(struct rawconn *c)
{
	if (c->ssl)
		SSL_free(c->ssl);
	if (c->ctx)
		SSL_CTX_free(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

int rawconn_write(struct rawconn *c, const void *p, size_t n)
{
	size_t done = 0;

	while (done < n) {
		int w = SSL_write(c->ssl, (const uint8_t *)p + done, (int)(n - done));

		if (w <= 0)
			return -1;
		done += (size_t)w;
	}
	return 0;
}

int rawconn_send(struct rawconn *c, const Dmlog__ClientMessage *m)
{
	size_t len = dmlog__client_message__get_packed_size(m);
	uint8_t *buf = malloc(len + 4);
	int rc;

	frame_put_header(buf, (uint32_t)len);
	dmlog__client_message__pack(m, buf + 4);
	rc = rawconn_write(c, buf, len + 4);
	free(buf);
	return rc;
}

int rawconn_read(struct rawconn *c, void *buf, size_t n, int timeout_ms)
{
	uint8_t *p = buf;
	size_t got = 0;

	while (got < n) {
		int r;

		if (SSL_pending(c->ssl) == 0) {
			struct pollfd pfd = {.fd = c->fd, .events = POLLIN};

			if (poll(&pfd, 1, timeout_ms) <= 0)
				return -1;
		}
		r = SSL_read(c->ssl, p + got, (int)(n - got));
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

Dmlog__ServerMessage *rawconn_recv(struct rawconn *c, int timeout_ms)
{
	uint8_t h[4];
	uint32_t len;
	uint8_t *buf;
	Dmlog__ServerMessage *m;

	if (rawconn_read(c, h, 4, timeout_ms) != 0)
		return NULL;
	len = frame_get_header(h);
	if (len == 0 || len > (64u << 20))
		return NULL;
	buf = malloc(len);
	if (rawconn_read(c, buf, len, timeout_ms) != 0) {
		free(buf);
		return NULL;
	}
	m = dmlog__server_message__unpack(NULL, len, buf);
	free(buf);
	return m;
}

bool rawconn_closed(struct rawconn *c, int timeout_ms)
{
	uint8_t b;
	struct pollfd pfd = {.fd = c->fd, .events = POLLIN};

	if (SSL_pending(c->ssl) == 0 && poll(&pfd, 1, timeout_ms) <= 0)
		return false;
	return SSL_read(c->ssl, &b, 1) <= 0;
}

int rawconn_hello(struct rawconn *c, uint64_t client_id)
{
	Dmlog__ClientMessage m = DMLOG__CLIENT_MESSAGE__INIT;
	Dmlog__Hello h = DMLOG__HELLO__INIT;
	Dmlog__ServerMessage *r;
	int ok;

	h.protocol_version = DMLOG__VERSION__PROTOCOL_VERSION;
	h.client_name = (char *)"integration-test";
	h.client_id = client_id;
	m.id = 1;
	m.body_case = DMLOG__CLIENT_MESSAGE__BODY_HELLO;
	m.hello = &h;
	if (rawconn_send(c, &m) != 0)
		return -1;
	r = rawconn_recv(c, 10000);
	ok = r && r->id == 1 && r->body_case == DMLOG__SERVER_MESSAGE__BODY_HELLO;
	if (!ok)
		snprintf(c->err, sizeof(c->err), "hello: %s",
			 r && r->body_case == DMLOG__SERVER_MESSAGE__BODY_ERROR ? r->error->message
										: "no hello reply");
	if (r)
		dmlog__server_message__free_unpacked(r, NULL);
	return ok ? 0 : -1;
}

int rawconn_ping(struct rawconn *c, uint64_t id)
{
	Dmlog__ClientMessage m = DMLOG__CLIENT_MESSAGE__INIT;
	Dmlog__Ping ping = DMLOG__PING__INIT;

	m.id = id;
	m.body_case = DMLOG__CLIENT_MESSAGE__BODY_PING;
	m.ping = &ping;
	return rawconn_send(c, &m);
}

Dmlog__ServerMessage *rawconn_call(struct rawconn *c, Dmlog__ClientMessage *m, int timeout_ms)
{
	if (rawconn_send(c, m) != 0)
		return NULL;
	return rawconn_recv(c, timeout_ms);
}
