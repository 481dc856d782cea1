/* responder.c: bench_responder, an in-memory userspace dirty log for the kernel, the yardstick.
 *
 * It answers dm-log-userspace on the real netlink connector straight from dmlogd's engine, in
 * this process: no network, no TLS, no Raft, no fsync, no logging per request. It is what the
 * userspace log protocol itself costs a mirror, so the VM benchmark sets dmlog (bridge +
 * dmlogd) beside it and beside the kernel's own core and disk logs. Datagrams are decoded and
 * encoded with the bridge's codec (kernel-bridge/ulog_codec.h), so the replies have exactly
 * the sizes the kernel takes. Every request is applied under the node name "local".
 *
 * Needs CAP_NET_ADMIN to join the connector group and CAP_SYS_ADMIN for the kernel to accept
 * its replies (root in the guest), and the initial network namespace.
 *
 * Usage: bench_responder [ready=FILE] [counts=FILE]
 * Writes FILE once it has joined the group; on SIGTERM/SIGINT writes the number of requests of
 * each type to the counts file (or stderr) and exits 0. */
#include <errno.h>
#include <fcntl.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"
#include "engine.h"
#include "ulog_codec.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif
#define RESPONDER_CN_IDX_DM 7
#define RESPONDER_BUF 8192

static volatile sig_atomic_t responder_stop;
static unsigned long long responder_counts[ULOG_CODEC_TYPE_MAX + 1];

static void responder_on_signal(int sig)
{
	responder_stop = 1;
}

static int responder_socket(uint32_t *nl_pid)
{
	struct sockaddr_nl sa;
	socklen_t len = sizeof(sa);
	int group = RESPONDER_CN_IDX_DM, size = 8 << 20;
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);

	if (fd < 0) {
		perror("bench_responder: socket");
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0 ||
	    setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) != 0) {
		perror("bench_responder: bind/join");
		close(fd);
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) != 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	*nl_pid = sa.nl_pid;
	return fd;
}

/* The engine's answer to one parsed request. */
static void responder_answer(struct engine *e, const struct ulog_codec_req *q,
			     struct ulog_codec_res *out)
{
	static struct engine_req req;
	static struct engine_res res;

	memset(&req, 0, sizeof(req));
	req.op = q->hdr.type;
	req.node = "local";
	req.uuid = q->hdr.uuid;
	req.luid = q->hdr.luid;
	req.version = q->hdr.version;
	req.args = q->ctr;
	req.args_len = q->ctr_len;
	req.reconnect = q->reconnect;
	req.nregions = q->nregions;
	memcpy(req.regions, q->regions, sizeof(uint64_t) * q->nregions);
	req.region = q->region;
	req.in_sync = q->in_sync;
	engine_apply(e, &req, &res);
	memset(out, 0, sizeof(*out));
	out->error = res.error;
	if (res.error == 0) {
		out->flag = res.flag;
		out->value = res.value;
		snprintf(out->text, sizeof(out->text), "%s", res.text);
	}
}

int main(int argc, char **argv)
{
	const char *ready = agent_arg(argc - 1, argv + 1, "ready", NULL);
	const char *counts = agent_arg(argc - 1, argv + 1, "counts", NULL);
	static uint8_t in[RESPONDER_BUF], out[ULOG_CODEC_REPLY_MAX];
	struct sockaddr_nl to = {.nl_family = AF_NETLINK};
	struct sigaction sa;
	struct engine *e = engine_new();
	uint32_t nl_pid;
	int fd;
	FILE *f;

	if (!e)
		return 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = responder_on_signal; /* no SA_RESTART: recv() returns EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	fd = responder_socket(&nl_pid);
	if (fd < 0)
		return 1;
	if (ready) {
		int rfd = open(ready, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (rfd >= 0)
			close(rfd);
	}
	while (!responder_stop) {
		static struct ulog_codec_req q;
		struct ulog_codec_res r;
		ssize_t n = recv(fd, in, sizeof(in), 0);
		size_t len;
		int rc;

		if (n < 0) {
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			perror("bench_responder: recv");
			break;
		}
		rc = ulog_codec_parse(in, (size_t)n, &q);
		if (rc == -ENOMSG || (rc != 0 && !q.replyable))
			continue;
		responder_counts[q.hdr.type <= ULOG_CODEC_TYPE_MAX ? q.hdr.type : 0]++;
		if (rc != 0) {
			memset(&r, 0, sizeof(r));
			r.error = -EINVAL;
		} else {
			responder_answer(e, &q, &r);
		}
		if (ulog_codec_encode_reply(&q, &r, nl_pid, out, sizeof(out), &len) != 0) {
			memset(&r, 0, sizeof(r));
			r.error = -EINVAL;
			if (ulog_codec_encode_reply(&q, &r, nl_pid, out, sizeof(out), &len) != 0)
				continue;
		}
		if (sendto(fd, out, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0 && errno != EINTR)
			perror("bench_responder: sendto");
	}
	f = counts ? fopen(counts, "w") : NULL;
	for (int i = 0; i <= ULOG_CODEC_TYPE_MAX; i++)
		if (responder_counts[i])
			fprintf(f ? f : stderr, "type %d %llu\n", i, responder_counts[i]);
	if (f)
		fclose(f);
	close(fd);
	engine_free(e);
	return 0;
}
