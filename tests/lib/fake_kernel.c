/* fake_kernel.c: the kernel's side of dm-log-userspace, played over a bridge's test transport
 * (see fake_kernel.h).
 *
 * Requests are encoded by the codec's kernel-style encoder (ulog_codec_encode_request), replies
 * parsed here the way dm-log-userspace-transfer.c reads them, independently of the bridge's
 * encoder so that the tests check the bridge against the kernel's rules and not against itself.
 */
#include "fake_kernel.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <linux/dm-log-userspace.h>

#include "ulog_codec.h"

#define FK_HDR 36
#define FK_REQ 160
#define FK_SEND_WAIT_MS 10000

struct fake_kernel_log {
	char uuid[129];
	uint64_t luid;
	char args[ULOG_CODEC_CTR_MAX + 1];
	uint32_t version;
};

struct fake_kernel {
	int fd;
	char path[108];
	uint32_t seq;
	unsigned resend_ms, reconnect_ms, deadline_ms;
	struct fake_kernel_reply *stash; /* FAKE_KERNEL_STASH_MAX */
	size_t nstash;
	struct fake_kernel_log logs[FAKE_KERNEL_LOGS_MAX];
	size_t nlogs;
	struct fake_kernel_counts counts;
};

static uint64_t fk_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint16_t fk_get16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

static uint32_t fk_get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint64_t fk_get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

void fake_kernel_parse_reply(const uint8_t *buf, size_t len, struct fake_kernel_reply *out)
{
	memset(out, 0, sizeof(*out));
	out->raw_len = len < sizeof(out->raw) ? len : sizeof(out->raw);
	memcpy(out->raw, buf, out->raw_len);
	if (len < FK_HDR) {
		out->incomplete = true;
		return;
	}
	out->nl_len = fk_get32(buf);
	out->nl_type = fk_get16(buf + 4);
	out->nl_flags = fk_get16(buf + 6);
	out->nl_seq = fk_get32(buf + 8);
	out->nl_pid = fk_get32(buf + 12);
	out->cn_idx = fk_get32(buf + 16);
	out->cn_val = fk_get32(buf + 20);
	out->cn_seq = fk_get32(buf + 24);
	out->cn_ack = fk_get32(buf + 28);
	out->cn_len = fk_get16(buf + 32);
	out->cn_flags = fk_get16(buf + 34);
	if (out->cn_len == 0) {
		/* A bare ACK: matched by cn_msg.seq, the result is -ack, no data. */
		out->bare = true;
		out->seq = out->cn_seq;
		out->error = -(int)out->cn_ack;
		return;
	}
	if (out->cn_len < FK_REQ || len < FK_HDR + FK_REQ) {
		out->incomplete = true;
		return;
	}
	out->luid = fk_get64(buf + FK_HDR);
	memcpy(out->uuid, buf + FK_HDR + 8, 128);
	out->uuid[128] = '\0';
	out->version = fk_get32(buf + FK_HDR + 140);
	out->error = (int32_t)fk_get32(buf + FK_HDR + 144);
	out->seq = fk_get32(buf + FK_HDR + 148);
	out->type = fk_get32(buf + FK_HDR + 152);
	out->data_size = fk_get32(buf + FK_HDR + 156);
	if ((size_t)out->data_size > out->raw_len - FK_HDR - FK_REQ)
		out->incomplete = true; /* data_size runs past the datagram */
}

static int fk_connect(struct fake_kernel *fk)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	memcpy(sa.sun_path, fk->path, strlen(fk->path) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	if (fk->fd >= 0)
		close(fk->fd);
	fk->fd = fd;
	return 0;
}

struct fake_kernel *fake_kernel_new(const struct fake_kernel_options *o, char *err)
{
	struct fake_kernel *fk = calloc(1, sizeof(*fk));
	int rc;

	if (fk == NULL || (fk->stash = calloc(FAKE_KERNEL_STASH_MAX, sizeof(*fk->stash))) == NULL) {
		if (err != NULL)
			snprintf(err, 256, "fake kernel: out of memory");
		if (o->path == NULL && o->fd >= 0)
			close(o->fd);
		if (fk != NULL)
			free(fk);
		return NULL;
	}
	fk->fd = -1;
	fk->seq = o->first_seq;
	fk->resend_ms = o->resend_ms ? o->resend_ms : 15000;
	fk->reconnect_ms = o->reconnect_ms ? o->reconnect_ms : 2000;
	fk->deadline_ms = o->deadline_ms ? o->deadline_ms : 60000;
	if (o->path != NULL) {
		snprintf(fk->path, sizeof(fk->path), "%s", o->path);
		rc = fk_connect(fk);
		if (rc != 0) {
			if (err != NULL)
				snprintf(err, 256, "fake kernel: connect %s: %s", o->path,
					 strerror(-rc));
			fake_kernel_free(fk);
			return NULL;
		}
	} else {
		fk->fd = o->fd;
	}
	return fk;
}

void fake_kernel_free(struct fake_kernel *fk)
{
	if (fk == NULL)
		return;
	if (fk->fd >= 0)
		close(fk->fd);
	free(fk->stash);
	free(fk);
}

int fake_kernel_reconnect(struct fake_kernel *fk)
{
	if (fk->path[0] == '\0')
		return -ENOTSUP;
	return fk_connect(fk);
}

uint32_t fake_kernel_next_seq(const struct fake_kernel *fk)
{
	return fk->seq;
}

/* Reads one datagram if one is there within timeout_ms. 0, -ETIMEDOUT, -ECONNRESET. */
static int fk_read(struct fake_kernel *fk, int timeout_ms, struct fake_kernel_reply *out)
{
	uint8_t buf[FAKE_KERNEL_RAW_MAX * 4];
	struct pollfd pfd = {fk->fd, POLLIN, 0};
	ssize_t n;
	int rc;

	if (fk->fd < 0)
		return -ECONNRESET;
	do {
		rc = poll(&pfd, 1, timeout_ms);
	} while (rc < 0 && errno == EINTR);
	if (rc == 0)
		return -ETIMEDOUT;
	if (rc < 0)
		return -errno;
	n = recv(fk->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN ? -ETIMEDOUT : -ECONNRESET;
	if (n == 0)
		return -ECONNRESET; /* the bridge closed its end */
	fake_kernel_parse_reply(buf, (size_t)n, out);
	fk->counts.replies++;
	return 0;
}

static void fk_stash(struct fake_kernel *fk, const struct fake_kernel_reply *r)
{
	if (fk->nstash == FAKE_KERNEL_STASH_MAX) {
		/* the oldest goes, as the kernel drops replies nobody waits for */
		memmove(fk->stash, fk->stash + 1, (FAKE_KERNEL_STASH_MAX - 1) * sizeof(*fk->stash));
		fk->nstash--;
		fk->counts.stale++;
	}
	fk->stash[fk->nstash++] = *r;
}

int fake_kernel_send_raw(struct fake_kernel *fk, const void *buf, size_t len)
{
	uint64_t until = fk_now_ms() + FK_SEND_WAIT_MS;

	if (fk->fd < 0)
		return -ECONNRESET;
	for (;;) {
		struct pollfd pfd = {fk->fd, POLLOUT | POLLIN, 0};
		ssize_t n = send(fk->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		uint64_t now;

		if (n == (ssize_t)len) {
			fk->counts.sent++;
			return 0;
		}
		if (n >= 0)
			return -EIO;
		if (errno == EPIPE || errno == ECONNRESET || errno == ENOTCONN ||
		    errno == ECONNREFUSED)
			return -ECONNRESET;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		now = fk_now_ms();
		if (now >= until)
			return -ETIMEDOUT;
		/* The socket is full: take replies meanwhile, or the bridge may block on us. */
		if (poll(&pfd, 1, (int)(until - now)) > 0 && (pfd.revents & POLLIN)) {
			struct fake_kernel_reply r;

			if (fk_read(fk, 0, &r) == 0)
				fk_stash(fk, &r);
		}
	}
}

int fake_kernel_send_seq(struct fake_kernel *fk, const struct fake_kernel_req *req, uint32_t seq)
{
	struct ulog_codec_hdr h;
	uint8_t buf[FK_HDR + FK_REQ + 4096];
	size_t len = 0;

	memset(&h, 0, sizeof(h));
	h.luid = req->luid;
	if (strlen(req->uuid) >= sizeof(h.uuid))
		return -EINVAL;
	memcpy(h.uuid, req->uuid, strlen(req->uuid) + 1);
	h.version = req->version;
	h.seq = seq;
	h.type = req->type;
	if (ulog_codec_encode_request(&h, req->data, req->size, buf, sizeof(buf), &len) != 0)
		return -EINVAL;
	return fake_kernel_send_raw(fk, buf, len);
}

int fake_kernel_send(struct fake_kernel *fk, const struct fake_kernel_req *req, uint32_t *seq)
{
	uint32_t s = fk->seq++; /* the kernel counts failed sends too */

	if (seq != NULL)
		*seq = s;
	return fake_kernel_send_seq(fk, req, s);
}

int fake_kernel_recv(struct fake_kernel *fk, unsigned timeout_ms, struct fake_kernel_reply *out)
{
	if (fk->nstash > 0) {
		*out = fk->stash[0];
		memmove(fk->stash, fk->stash + 1, (fk->nstash - 1) * sizeof(*fk->stash));
		fk->nstash--;
		return 0;
	}
	return fk_read(fk, (int)timeout_ms, out);
}

int fake_kernel_wait(struct fake_kernel *fk, uint32_t seq, unsigned timeout_ms,
		     struct fake_kernel_reply *out)
{
	uint64_t until = fk_now_ms() + timeout_ms;
	struct fake_kernel_reply r;

	for (size_t i = 0; i < fk->nstash; i++) {
		if (!fk->stash[i].incomplete && fk->stash[i].seq == seq) {
			*out = fk->stash[i];
			memmove(fk->stash + i, fk->stash + i + 1,
				(fk->nstash - i - 1) * sizeof(*fk->stash));
			fk->nstash--;
			return 0;
		}
	}
	for (;;) {
		uint64_t now = fk_now_ms();
		int rc;

		if (now >= until)
			return -ETIMEDOUT;
		rc = fk_read(fk, (int)(until - now), &r);
		if (rc != 0)
			return rc;
		if (!r.incomplete && r.seq == seq) {
			*out = r;
			return 0;
		}
		fk_stash(fk, &r);
	}
}

void fake_kernel_flush(struct fake_kernel *fk)
{
	fk->counts.stale += fk->nstash;
	fk->nstash = 0;
}

size_t fake_kernel_capacity(uint32_t type, bool reconnect_ctr)
{
	switch (type & DM_ULOG_REQUEST_MASK) {
	case DM_ULOG_CTR:
		return reconnect_ctr ? 0 : 128;
	case DM_ULOG_GET_REGION_SIZE:
	case DM_ULOG_IS_CLEAN:
	case DM_ULOG_IN_SYNC:
	case DM_ULOG_GET_SYNC_COUNT:
		return 8;
	case DM_ULOG_GET_RESYNC_WORK:
	case DM_ULOG_IS_REMOTE_RECOVERING:
		return 16;
	case DM_ULOG_STATUS_INFO:
	case DM_ULOG_STATUS_TABLE:
		return 512;
	default:
		return 0;
	}
}

int fake_kernel_result(const struct fake_kernel_reply *r, size_t capacity)
{
	if (r->bare)
		return r->error;
	if (r->data_size > capacity)
		return -ENOSPC;
	return r->error;
}

void fake_kernel_get_counts(const struct fake_kernel *fk, struct fake_kernel_counts *out)
{
	*out = fk->counts;
}

/* ---------------------------------------------------------------- the kernel's behaviour */

static struct fake_kernel_log *fk_log(struct fake_kernel *fk, const char *uuid, uint64_t luid)
{
	for (size_t i = 0; i < fk->nlogs; i++) {
		if (fk->logs[i].luid == luid && strcmp(fk->logs[i].uuid, uuid) == 0)
			return &fk->logs[i];
	}
	return NULL;
}

static void fk_remember_ctr(struct fake_kernel *fk, const struct fake_kernel_req *req)
{
	struct fake_kernel_log *l = fk_log(fk, req->uuid, req->luid);
	size_t n = req->size;

	if (l == NULL) {
		if (fk->nlogs == FAKE_KERNEL_LOGS_MAX)
			return;
		l = &fk->logs[fk->nlogs++];
	}
	snprintf(l->uuid, sizeof(l->uuid), "%s", req->uuid);
	l->luid = req->luid;
	l->version = req->version;
	if (n > 0 && ((const char *)req->data)[n - 1] == '\0')
		n--;
	if (n > ULOG_CODEC_CTR_MAX)
		n = ULOG_CODEC_CTR_MAX;
	memcpy(l->args, req->data, n);
	l->args[n] = '\0';
}

/* One exchange without the reconnect loop: send, wait resend_ms, resend with a new seq, until
 * the deadline. 0 with the reply, -ECONNRESET (bridge gone), -ETIMEDOUT. */
static int fk_exchange(struct fake_kernel *fk, const struct fake_kernel_req *req, uint64_t until,
		       struct fake_kernel_reply *out)
{
	for (bool first = true;; first = false) {
		uint64_t now = fk_now_ms();
		uint32_t seq;
		int rc;

		if (now >= until)
			return -ETIMEDOUT;
		if (!first)
			fk->counts.resends++;
		rc = fake_kernel_send(fk, req, &seq);
		if (rc != 0)
			return rc;
		now = fk_now_ms();
		rc = fake_kernel_wait(fk, seq, (unsigned)(until - now < fk->resend_ms ? until - now
										 : fk->resend_ms),
				      out);
		if (rc != -ETIMEDOUT)
			return rc;
	}
}

/* The reconnect loop for req's log: reconnect + CTR (NUL counted) until it succeeds, RESUME. */
static int fk_reconnect_loop(struct fake_kernel *fk, const struct fake_kernel_req *req,
			     uint64_t until)
{
	const struct fake_kernel_log *l = fk_log(fk, req->uuid, req->luid);
	struct fake_kernel_reply r;
	struct fake_kernel_req ctr = {DM_ULOG_CTR, req->uuid, req->luid, req->version, NULL, 0};
	struct fake_kernel_req resume = {DM_ULOG_RESUME, req->uuid, req->luid, req->version,
					 NULL, 0};

	if (fk->path[0] == '\0' || l == NULL)
		return -ESRCH;
	ctr.data = l->args;
	ctr.size = strlen(l->args) + 1;
	for (;;) {
		int rc;

		if (fk_now_ms() + fk->reconnect_ms >= until)
			return -ETIMEDOUT;
		usleep(fk->reconnect_ms * 1000u);
		if (fk_connect(fk) != 0)
			continue;
		fake_kernel_flush(fk);
		rc = fk_exchange(fk, &ctr, until, &r);
		if (rc == 0 && fake_kernel_result(&r, 0) == 0)
			break;
	}
	if (fk_exchange(fk, &resume, until, &r) != 0 || fake_kernel_result(&r, 0) != 0)
		return -ESRCH;
	fk->counts.reconnects++;
	return 0;
}

int fake_kernel_call(struct fake_kernel *fk, const struct fake_kernel_req *req,
		     struct fake_kernel_reply *out)
{
	uint64_t until = fk_now_ms() + fk->deadline_ms;
	bool reconnect_ctr = (req->type & DM_ULOG_REQUEST_MASK) == DM_ULOG_CTR && req->size > 0 &&
			     ((const char *)req->data)[req->size - 1] == '\0';
	struct fake_kernel_reply r;
	int rc, res;

	for (;;) {
		rc = fk_exchange(fk, req, until, &r);
		if (rc == -ECONNRESET) {
			rc = fk_reconnect_loop(fk, req, until);
			if (rc != 0)
				return rc;
			continue;
		}
		if (rc != 0)
			return rc;
		res = fake_kernel_result(&r, fake_kernel_capacity(req->type, reconnect_ctr));
		if (res != -EAGAIN)
			break;
		fk->counts.resends++; /* -EAGAIN: the kernel resends at once */
	}
	if (res == 0 && (req->type & DM_ULOG_REQUEST_MASK) == DM_ULOG_CTR)
		fk_remember_ctr(fk, req);
	if (out != NULL)
		*out = r;
	return res;
}
