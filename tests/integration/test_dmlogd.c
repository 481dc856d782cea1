/* test_dmlogd.c: dmlogd as a real process on 127.0.0.1 with real TLS.
 *
 * Each test makes its own certificates and state directory, starts dmlogd, talks to it with a
 * blocking TLS client (tests/integration/harness.c), and stops it. Covered: handshakes per role
 * and CA, every request type end to end, each kind of bad input, kill -9 under a write load
 * with every acknowledged MARK still there after the restart, restart from snapshot plus log,
 * SIGHUP reload of certificates, idle timeout, connection limit, node lease expiry, a client
 * that stops reading, a reply over max_frame, certificates of the right CA without a role.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "frame.h"
#include "harness.h"
#include "ops.h"
#include "testcerts.h"
#include "testmain.h"

#define UUID "LVM-integrationtest0123456789abcdefABCDEF"
#define UUID_OTHER "LVM-integrationtest0123456789abcdefOTHER0"
#define LUID2 0xffff888000002000ull /* a second instance (node2's in the lease tests) */

static char dir[256], certs[300], state[300];
static struct dmlogd d;

static void setup(void)
{
	signal(SIGPIPE, SIG_IGN); /* a write to a connection the server closed must not kill us */
	memset(&d, 0, sizeof(d));
	harness_tmpdir(dir, sizeof(dir));
	snprintf(certs, sizeof(certs), "%s/tls", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	harness_certs(certs);
	mkdir(state, 0700);
}

static void teardown(void)
{
	if (d.pid > 0)
		dmlogd_stop(&d, SIGKILL);
	harness_rmdir(dir);
}

static void start(const char *const *extra)
{
	ck_assert_msg(dmlogd_start(&d, certs, state, extra) == 0, "dmlogd did not start (see %s)",
		      d.logfile);
}

static void node(struct rawconn *c, const char *who, uint64_t client_id)
{
	ck_assert_msg(rawconn_open_as(c, d.port, certs, who) == 0, "connect: %s", c->err);
	ck_assert_msg(rawconn_hello(c, client_id) == 0, "%s", c->err);
}

static struct op OP(int kind)
{
	struct op o;

	memset(&o, 0, sizeof(o));
	o.kind = kind;
	o.uuid = UUID;
	o.luid = 0xffff888000001000ull;
	o.version = 3;
	return o;
}

/* MARK_REGION of one region. */
static struct op MARK(uint64_t region)
{
	struct op o = OP(DMLOG__CLIENT_MESSAGE__BODY_MARK_REGION);

	o.n = 1;
	o.regions[0] = region;
	return o;
}

/* One call that must succeed with the given reply case; returns the reply (free it). */
static Dmlog__ServerMessage *ok(struct rawconn *c, uint64_t id, struct op o, int want)
{
	Dmlog__ServerMessage *r = op_call(c, id, &o);

	ck_assert_msg(r != NULL, "no reply to request %llu", (unsigned long long)id);
	ck_assert_uint_eq(r->id, id);
	ck_assert_msg(r->body_case == (Dmlog__ServerMessage__BodyCase)want,
		      "request %llu: reply case %d (error %d %s), want %d", (unsigned long long)id,
		      r->body_case, op_errno(r),
		      r->body_case == DMLOG__SERVER_MESSAGE__BODY_ERROR ? r->error->message : "", want);
	return r;
}

static void ok_done(struct rawconn *c, uint64_t id, struct op o)
{
	dmlog__server_message__free_unpacked(ok(c, id, o, DMLOG__SERVER_MESSAGE__BODY_DONE), NULL);
}

/* The same op on another instance of the log. */
static struct op OP_ON(int kind, uint64_t luid)
{
	struct op o = OP(kind);

	o.luid = luid;
	return o;
}

/* A query of one region answered true or false, on the instance luid; the same on OP's. */
static bool ok_bool_on(struct rawconn *c, uint64_t id, int kind, uint64_t luid, uint64_t region)
{
	struct op o = OP_ON(kind, luid);
	Dmlog__ServerMessage *r;
	bool v;

	o.region = region;
	r = ok(c, id, o, DMLOG__SERVER_MESSAGE__BODY_BOOL_RESULT);
	v = r->bool_result->value;
	dmlog__server_message__free_unpacked(r, NULL);
	return v;
}

static bool ok_bool(struct rawconn *c, uint64_t id, int kind, uint64_t region)
{
	return ok_bool_on(c, id, kind, OP(kind).luid, region);
}

static void create_log(struct rawconn *c, uint64_t *id, const char *args)
{
	struct op o = OP(DMLOG__CLIENT_MESSAGE__BODY_CTR);
	Dmlog__ServerMessage *r;

	o.args = args;
	r = ok(c, (*id)++, o, DMLOG__SERVER_MESSAGE__BODY_CTR);
	dmlog__server_message__free_unpacked(r, NULL);
	ok_done(c, (*id)++, OP(DMLOG__CLIENT_MESSAGE__BODY_RESUME));
}

START_TEST(handshakes_per_role_and_ca)
{
	struct rawconn c;
	char other[320], ca[400];
	Dmlog__ServerMessage *r;
	Dmlog__ClientMessage m = DMLOG__CLIENT_MESSAGE__INIT;
	Dmlog__Hello h = DMLOG__HELLO__INIT;

	start(NULL);
	/* node, admin and peer certificates from our CA are accepted, and the server reads the
	 * role and identity from the certificate. */
	static const char *who[] = {"node-node1", "admin-admin", "peer-dmlogd1"};
	static const char *role[] = {"node", "admin", "peer"};
	static const char *ident[] = {"node1", "admin", "dmlogd1"};
	for (int i = 0; i < 3; i++) {
		ck_assert_msg(rawconn_open_as(&c, d.port, certs, who[i]) == 0, "%s: %s", who[i],
			      c.err);
		h.protocol_version = 1;
		h.client_id = 7;
		m.id = 5;
		m.body_case = DMLOG__CLIENT_MESSAGE__BODY_HELLO;
		m.hello = &h;
		r = rawconn_call(&c, &m, 5000);
		ck_assert_ptr_nonnull(r);
		ck_assert_int_eq(r->body_case, DMLOG__SERVER_MESSAGE__BODY_HELLO);
		ck_assert_str_eq(r->hello->role, role[i]);
		ck_assert_str_eq(r->hello->identity, ident[i]);
		ck_assert_str_eq(r->hello->server_id, "dmlogd1");
		ck_assert_uint_eq(r->hello->protocol_version, 1);
		dmlog__server_message__free_unpacked(r, NULL);
		rawconn_close(&c);
	}
	/* A client certificate from another CA is refused (the handshake fails or the server
	 * closes before any reply). */
	snprintf(other, sizeof(other), "%s/other", certs);
	snprintf(ca, sizeof(ca), "%s/ca.crt", certs);
	{
		char cert[512], key[512];

		snprintf(cert, sizeof(cert), "%s/node-node1.crt", other);
		snprintf(key, sizeof(key), "%s/node-node1.key", other);
		if (rawconn_open(&c, d.port, ca, cert, key) == 0)
			ck_assert_int_ne(rawconn_hello(&c, 1), 0);
		rawconn_close(&c);
	}
	/* No client certificate at all: refused. */
	if (rawconn_open(&c, d.port, ca, NULL, NULL) == 0)
		ck_assert_int_ne(rawconn_hello(&c, 1), 0);
	rawconn_close(&c);
	/* The client refuses a server whose certificate is from a CA it does not trust. */
	ck_assert_int_ne(rawconn_open_as(&c, d.port, other, "node-node1"), 0);
	ck_assert_msg(strstr(c.err, "certificate verify failed") != NULL, "%s", c.err);
	rawconn_close(&c);
	ck_assert_int_ge(dmlogd_log_count(&d, "TLS handshake failed"), 1);
	/* The server is still fine. */
	node(&c, "node-node1", 1);
	rawconn_close(&c);
}
END_TEST

START_TEST(every_request_type_end_to_end)
{
	struct rawconn c;
	uint64_t id = 10;
	struct op o;
	Dmlog__ServerMessage *r;

	start(NULL);
	node(&c, "node-node1", 42);
	/* CTR of a clustered-disk log returns its device (request version 3). */
	o = OP(DMLOG__CLIENT_MESSAGE__BODY_CTR);
	o.args = "8192 clustered-disk 253:2 1024";
	r = ok(&c, id++, o, DMLOG__SERVER_MESSAGE__BODY_CTR);
	ck_assert_str_eq(r->ctr->device, "253:2");
	dmlog__server_message__free_unpacked(r, NULL);
	/* GET_REGION_SIZE, GET_SYNC_COUNT before resume (pending log). */
	r = ok(&c, id++, OP(DMLOG__CLIENT_MESSAGE__BODY_GET_REGION_SIZE),
	       DMLOG__SERVER_MESSAGE__BODY_REGION_SIZE);
	ck_assert_uint_eq(r->region_size->region_size, 1024);
	dmlog__server_message__free_unpacked(r, NULL);
	r = ok(&c, id++, OP(DMLOG__CLIENT_MESSAGE__BODY_GET_SYNC_COUNT),
	       DMLOG__SERVER_MESSAGE__BODY_SYNC_COUNT);
	ck_assert_uint_eq(r->sync_count->count, 0);
	dmlog__server_message__free_unpacked(r, NULL);
	ok_done(&c, id++, OP(DMLOG__CLIENT_MESSAGE__BODY_RESUME));
	/* Resync of region 0: assigned, re-asking gives the same region, then set in sync. */
	for (int i = 0; i < 2; i++) {
		r = ok(&c, id++, OP(DMLOG__CLIENT_MESSAGE__BODY_GET_RESYNC_WORK),
		       DMLOG__SERVER_MESSAGE__BODY_RESYNC_WORK);
		ck_assert(r->resync_work->has_work);
		ck_assert_uint_eq(r->resync_work->region, 0);
		dmlog__server_message__free_unpacked(r, NULL);
	}
	ck_assert(!ok_bool(&c, id++, DMLOG__CLIENT_MESSAGE__BODY_IN_SYNC, 0));
	o = OP(DMLOG__CLIENT_MESSAGE__BODY_IS_REMOTE_RECOVERING);
	o.region = 5;
	r = ok(&c, id++, o, DMLOG__SERVER_MESSAGE__BODY_REMOTE_RECOVERING);
	ck_assert(r->remote_recovering->recovering);
	ck_assert_uint_eq(r->remote_recovering->in_sync_hint, 0);
	dmlog__server_message__free_unpacked(r, NULL);
	o = OP(DMLOG__CLIENT_MESSAGE__BODY_SET_REGION_SYNC);
	o.region = 0;
	o.in_sync = true;
	ok_done(&c, id++, o);
	ck_assert(ok_bool(&c, id++, DMLOG__CLIENT_MESSAGE__BODY_IN_SYNC, 0));
	ck_assert(!ok_bool(&c, id++, DMLOG__CLIENT_MESSAGE__BODY_IS_CLEAN, 0));
	o = OP(DMLOG__CLIENT_MESSAGE__BODY_CLEAR_REGION);
	o.n = 1;
	o.regions[0] = 0;
	ok_done(&c, id++, o);
	ok_done(&c, id++, OP(DMLOG__CLIENT_MESSAGE__BODY_FLUSH));
	ck_assert(ok_bool(&c, id++, DMLOG__CLIENT_MESSAGE__BODY_IS_CLEAN, 0));
	/* MARK + FLUSH, and an integrated FLUSH carrying a mark. */
	ok_done(&c, id++, MARK(0));
	ok_done(&c, id++, OP(DMLOG__CLIENT_MESSAGE__BODY_FLUSH));
	ck_assert(!ok_bool(&c, id++, DMLOG__CLIENT_MESSAGE__BODY_IS_CLEAN, 0));
	o = OP(DMLOG__CLIENT_MESSAGE__BODY_FLUSH);
	o.n = 2;
	o.regions[0] = 6;
	o.regions[1] = 7;
	ok_done(&c, id++, o);
	ck_assert(!ok_bool(&c, id++, DMLOG__CLIENT_MESSAGE__BODY_IS_CLEAN, 7));
	/* Status texts. */
	r = ok(&c, id++, OP(DMLOG__CLIENT_MESSAGE__BODY_STATUS_INFO), DMLOG__SERVER_MESSAGE__BODY_STATUS);
	ck_assert_str_eq(r->status->text, "3 clustered-disk 253:2 A");
	dmlog__server_message__free_unpacked(r, NULL);
	r = ok(&c, id++, OP(DMLOG__CLIENT_MESSAGE__BODY_STATUS_TABLE), DMLOG__SERVER_MESSAGE__BODY_STATUS);
	ck_assert_str_eq(r->status->text, "clustered-disk 253:2 1024 ");
	dmlog__server_message__free_unpacked(r, NULL);
	/* Suspend and destroy. */
	ok_done(&c, id++, OP(DMLOG__CLIENT_MESSAGE__BODY_PRESUSPEND));
	ok_done(&c, id++, OP(DMLOG__CLIENT_MESSAGE__BODY_POSTSUSPEND));
	ok_done(&c, id++, OP(DMLOG__CLIENT_MESSAGE__BODY_DTR));
	/* A request on an instance that no longer exists: an error reply, connection kept. */
	r = op_call(&c, id++, &(struct op){.kind = DMLOG__CLIENT_MESSAGE__BODY_IN_SYNC, .uuid = "LVM-unknown",
					   .luid = 1});
	ck_assert_int_eq(op_errno(r), -EINVAL);
	dmlog__server_message__free_unpacked(r, NULL);
	/* A region out of range is bad input (the kernel never sends one): the error, a log
	 * line, and the connection is closed, for a write and for a read alike. */
	create_log(&c, &id, "8192 clustered-disk 253:2 1024");
	o = MARK(8);
	o.n = 2;
	o.regions[0] = 1;
	o.regions[1] = 8;
	r = op_call(&c, id++, &o);
	ck_assert_int_eq(op_errno(r), -EINVAL);
	ck_assert_str_eq(r->error->message, "region 8 out of range (8 regions)");
	dmlog__server_message__free_unpacked(r, NULL);
	ck_assert_msg(rawconn_closed(&c, 5000), "connection kept after a region out of range");
	rawconn_close(&c);
	ck_assert_int_ge(dmlogd_log_count(&d, "closing connection: region 8 out of range"), 1);
	node(&c, "node-node1", 42);
	o = OP(DMLOG__CLIENT_MESSAGE__BODY_IS_CLEAN);
	o.region = 9;
	r = op_call(&c, id++, &o);
	ck_assert_int_eq(op_errno(r), -EINVAL);
	dmlog__server_message__free_unpacked(r, NULL);
	ck_assert_msg(rawconn_closed(&c, 5000), "connection kept after a read out of range");
	rawconn_close(&c);
	ck_assert_int_ge(dmlogd_log_count(&d, "closing connection: region 9 out of range"), 1);
	node(&c, "node-node1", 42);
	ck_assert(!ok_bool(&c, id++, DMLOG__CLIENT_MESSAGE__BODY_IN_SYNC, 7));
	/* Exactly once: a request id that was already applied returns its stored answer and is
	 * not applied again. CTR of a second instance (id 900), DTR of it, then id 900 again: the
	 * instance must stay destroyed. */
	o = OP(DMLOG__CLIENT_MESSAGE__BODY_CTR);
	o.luid = 0xabc;
	o.args = "8192 clustered-disk 253:2 1024";
	dmlog__server_message__free_unpacked(ok(&c, 900, o, DMLOG__SERVER_MESSAGE__BODY_CTR), NULL);
	o = OP(DMLOG__CLIENT_MESSAGE__BODY_DTR);
	o.luid = 0xabc;
	ok_done(&c, 901, o);
	o = OP(DMLOG__CLIENT_MESSAGE__BODY_CTR);
	o.luid = 0xabc;
	o.args = "8192 clustered-disk 253:2 1024";
	dmlog__server_message__free_unpacked(ok(&c, 900, o, DMLOG__SERVER_MESSAGE__BODY_CTR), NULL);
	o = OP(DMLOG__CLIENT_MESSAGE__BODY_GET_REGION_SIZE);
	o.luid = 0xabc;
	r = op_call(&c, 902, &o);
	ck_assert_int_eq(op_errno(r), -EINVAL);
	dmlog__server_message__free_unpacked(r, NULL);
	rawconn_close(&c);
}
END_TEST

/* Sends bytes that must be refused, checks the error reply (if any) and the close. */
static void expect_rejected(const char *who, const void *bytes, size_t n, bool hello_first,
			    int want_errno, const char *log_needle)
{
	struct rawconn c, other;
	Dmlog__ServerMessage *r;

	ck_assert_msg(rawconn_open_as(&c, d.port, certs, who) == 0, "%s", c.err);
	if (hello_first)
		ck_assert_int_eq(rawconn_hello(&c, 9), 0);
	ck_assert_int_eq(rawconn_write(&c, bytes, n), 0);
	r = rawconn_recv(&c, 5000);
	ck_assert_msg(r != NULL, "no error reply for: %s", log_needle);
	ck_assert_int_eq(r->body_case, DMLOG__SERVER_MESSAGE__BODY_ERROR);
	ck_assert_int_eq(r->error->errno_neg, want_errno);
	dmlog__server_message__free_unpacked(r, NULL);
	ck_assert_msg(rawconn_closed(&c, 5000), "connection not closed after: %s", log_needle);
	rawconn_close(&c);
	ck_assert_msg(dmlogd_log_count(&d, log_needle) >= 1, "no log line '%s'", log_needle);
	/* Nobody else is affected. */
	node(&other, "node-node2", 77);
	ck_assert(!ok_bool(&other, 500, DMLOG__CLIENT_MESSAGE__BODY_IN_SYNC, 1));
	rawconn_close(&other);
}

static size_t pack(const Dmlog__ClientMessage *m, uint8_t *out)
{
	size_t len = dmlog__client_message__get_packed_size(m);

	frame_put_header(out, (uint32_t)len);
	dmlog__client_message__pack(m, out + 4);
	return len + 4;
}

START_TEST(bad_inputs_are_refused_and_logged)
{
	struct rawconn c;
	uint64_t id = 2;
	uint8_t buf[512];
	Dmlog__ClientMessage m = DMLOG__CLIENT_MESSAGE__INIT;
	Dmlog__Ping ping = DMLOG__PING__INIT;
	Dmlog__ListLogsRequest ll = DMLOG__LIST_LOGS_REQUEST__INIT;
	Dmlog__InSync is = DMLOG__IN_SYNC__INIT;
	Dmlog__MarkRegion mr = DMLOG__MARK_REGION__INIT;
	Dmlog__LogRef ref = DMLOG__LOG_REF__INIT;
	Dmlog__Hello h = DMLOG__HELLO__INIT;
	size_t n;

	start((const char *const[]){"--max-frame=4096", NULL});
	/* node2 has a log so that "nobody else is affected" can be checked with IN_SYNC. */
	node(&c, "node-node2", 77);
	create_log(&c, &id, "8192 clustered-core 1024");
	rawconn_close(&c);

	/* Zero-length frame. */
	expect_rejected("node-node1", "\0\0\0\0", 4, true, -EBADMSG, "zero-length frame");
	/* Oversized frame: refused from its header alone. */
	expect_rejected("node-node1", "\x00\x00\x10\x01", 4, true, -EMSGSIZE, "frame over the 4096-byte limit");
	/* Undecodable protobuf. */
	expect_rejected("node-node1", "\x00\x00\x00\x03\xff\xff\xff", 7, true, -EBADMSG, "undecodable message");
	/* A message with no body. */
	m.id = 3;
	n = pack(&m, buf);
	expect_rejected("node-node1", buf, n, true, -EBADMSG, "unknown or empty message");
	/* A request before hello. */
	m.body_case = DMLOG__CLIENT_MESSAGE__BODY_PING;
	m.ping = &ping;
	n = pack(&m, buf);
	expect_rejected("node-node1", buf, n, false, -EPROTO, "request before hello");
	/* Wrong protocol version. */
	h.protocol_version = 99;
	m.body_case = DMLOG__CLIENT_MESSAGE__BODY_HELLO;
	m.hello = &h;
	n = pack(&m, buf);
	expect_rejected("node-node1", buf, n, false, -EPROTONOSUPPORT, "protocol version 99");
	/* A node asking an admin question. */
	m.body_case = DMLOG__CLIENT_MESSAGE__BODY_ADMIN_LIST_LOGS;
	m.admin_list_logs = &ll;
	n = pack(&m, buf);
	expect_rejected("node-node1", buf, n, true, -EPERM, "admin requests are for the admin role only");
	/* An admin (or a peer) sending a log request. */
	ref.uuid = (char *)UUID;
	is.log = &ref;
	m.body_case = DMLOG__CLIENT_MESSAGE__BODY_IN_SYNC;
	m.in_sync = &is;
	n = pack(&m, buf);
	expect_rejected("admin-admin", buf, n, true, -EPERM, "log requests are for the node role only");
	expect_rejected("peer-dmlogd1", buf, n, true, -EPERM, "log requests are for the node role only");
	/* Invalid fields: a MARK with no region, a uuid over 128 bytes. */
	mr.log = &ref;
	m.body_case = DMLOG__CLIENT_MESSAGE__BODY_MARK_REGION;
	m.mark_region = &mr;
	n = pack(&m, buf);
	expect_rejected("node-node1", buf, n, true, -EINVAL, "0 regions in one request");
	{
		char longuuid[200];

		memset(longuuid, 'u', 150);
		longuuid[150] = '\0';
		ref.uuid = longuuid;
		m.body_case = DMLOG__CLIENT_MESSAGE__BODY_IN_SYNC;
		n = pack(&m, buf);
		expect_rejected("node-node1", buf, n, true, -EINVAL, "uuid of 150 bytes");
	}
	/* A peer that disappears mid-frame: half a frame, then gone. The server logs nothing
	 * alarming and keeps serving. */
	ck_assert_int_eq(rawconn_open_as(&c, d.port, certs, "node-node1"), 0);
	ck_assert_int_eq(rawconn_hello(&c, 5), 0);
	ck_assert_int_eq(rawconn_write(&c, "\x00\x00\x00\x40\x08\x01", 6), 0);
	rawconn_close(&c);
	node(&c, "node-node2", 77);
	ck_assert(!ok_bool(&c, 900, DMLOG__CLIENT_MESSAGE__BODY_IN_SYNC, 2));
	rawconn_close(&c);
	ck_assert_int_eq(kill(d.pid, 0), 0);
}
END_TEST

/* A writer process: node `who` marks regions first, first + 2, ... one synchronous MARK at a
 * time, and reports each acknowledged region on fd out, until the server goes away. */
static void writer(const char *who, uint64_t client_id, uint64_t first, uint64_t luid, int out)
{
	struct rawconn c;
	uint64_t id = 100;

	if (rawconn_open_as(&c, d.port, certs, who) != 0 || rawconn_hello(&c, client_id) != 0)
		_exit(2);
	for (uint64_t r = first; r < 4096; r += 2) {
		struct op o = OP(DMLOG__CLIENT_MESSAGE__BODY_MARK_REGION);
		Dmlog__ServerMessage *m;
		bool done;

		o.luid = luid;
		o.n = 1;
		o.regions[0] = r;
		m = op_call(&c, id++, &o);
		done = m && m->body_case == DMLOG__SERVER_MESSAGE__BODY_DONE;
		if (m)
			dmlog__server_message__free_unpacked(m, NULL);
		if (!done)
			break;
		if (write(out, &r, sizeof(r)) != sizeof(r))
			break;
	}
	rawconn_close(&c);
	_exit(0);
}

/* kill -9 while two nodes write: every MARK that was acknowledged is still dirty after the
 * restart. Repeated three times on the same state directory. */
START_TEST(kill9_under_write_load_loses_no_acknowledged_mark)
{
	struct rawconn c;
	uint64_t id = 2;
	static bool acked[4096];
	int nacked = 0, total = 0, in_flight_dirty = 0;
	const uint64_t luid2 = 0xffff888000002000ull;

	start(NULL);
	node(&c, "node-node1", 1);
	create_log(&c, &id, "65536 clustered-core 16 nosync");
	rawconn_close(&c);
	node(&c, "node-node2", 2);
	{
		struct op o = OP(DMLOG__CLIENT_MESSAGE__BODY_CTR);

		o.luid = luid2;
		o.args = "65536 clustered-core 16 nosync";
		dmlog__server_message__free_unpacked(ok(&c, id++, o, DMLOG__SERVER_MESSAGE__BODY_CTR), NULL);
		o = OP(DMLOG__CLIENT_MESSAGE__BODY_RESUME);
		o.luid = luid2;
		ok_done(&c, id++, o);
	}
	rawconn_close(&c);

	for (int round = 0; round < 3; round++) {
		int fds[2];
		pid_t w[2];
		uint64_t r;
		int got = 0;

		ck_assert_int_eq(pipe(fds), 0);
		w[0] = fork();
		if (w[0] == 0) {
			close(fds[0]);
			writer("node-node1", 100 + (uint64_t)round, (uint64_t)round * 2 * 600 % 4096 & ~1ull,
			       0xffff888000001000ull, fds[1]);
		}
		w[1] = fork();
		if (w[1] == 0) {
			close(fds[0]);
			writer("node-node2", 200 + (uint64_t)round, ((uint64_t)round * 2 * 600 % 4096) | 1, luid2,
			       fds[1]);
		}
		close(fds[1]);
		/* Kill dmlogd in the middle of the load. */
		while (read(fds[0], &r, sizeof(r)) == sizeof(r)) {
			if (!acked[r])
				nacked++;
			acked[r] = true;
			if (++got == 150 + 50 * round)
				kill(d.pid, SIGKILL);
		}
		close(fds[0]);
		waitpid(w[0], NULL, 0);
		waitpid(w[1], NULL, 0);
		dmlogd_stop(&d, SIGKILL);
		total += got;
		ck_assert_int_ge(got, 150 + 50 * round);
		start(NULL);
	}
	node(&c, "node-node1", 4242);
	for (int i = 0; i < 4096; i++) {
		bool clean = ok_bool(&c, 10000 + (uint64_t)i, DMLOG__CLIENT_MESSAGE__BODY_IS_CLEAN, (uint64_t)i);

		/* Acknowledged: must be dirty. Not acknowledged: clean, except the one request each
		 * writer had in flight when the server died (committed, answer lost). */
		ck_assert_msg(!(acked[i] && clean), "acknowledged mark on region %d lost after kill -9", i);
		if (!acked[i] && !clean)
			in_flight_dirty++;
	}
	ck_assert_int_le(in_flight_dirty, 2 * 3);
	rawconn_close(&c);
	printf("kill -9 x3 under 2 writers: %d acknowledged marks (%d distinct), all still dirty\n", total,
	       nacked);
}
END_TEST

START_TEST(restart_recovers_from_snapshot_and_log)
{
	struct rawconn c;
	uint64_t id = 2;
	const char *const extra[] = {"--snapshot-threshold=64", "--snapshot-trailing=16", NULL};

	start(extra);
	node(&c, "node-node1", 11);
	create_log(&c, &id, "65536 clustered-core 16 nosync");
	for (int i = 0; i < 500; i++) {
		struct op o;

		ok_done(&c, id++, MARK((uint64_t)(i * 7)));
		if (i % 3 == 0) {
			o = OP(DMLOG__CLIENT_MESSAGE__BODY_CLEAR_REGION);
			o.n = 1;
			o.regions[0] = (uint64_t)(i * 7);
			ok_done(&c, id++, o);
		}
	}
	rawconn_close(&c);
	ck_assert_int_eq(dmlogd_stop(&d, SIGTERM), 0);
	start(extra);
	node(&c, "node-node1", 11);
	for (int i = 0; i < 500; i++)
		ck_assert_msg(ok_bool(&c, id++, DMLOG__CLIENT_MESSAGE__BODY_IS_CLEAN, (uint64_t)(i * 7)) == (i % 3 == 0),
			      "region %d wrong after restart", i * 7);
	rawconn_close(&c);
}
END_TEST

static void copy_file(const char *from, const char *to)
{
	char cmd[1200];

	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(sighup_reloads_certificates)
{
	struct rawconn c;
	char live[400], path[500], from[500], arg[3][600];
	const char *extra[4];

	/* dmlogd reads its TLS files from "live", which the test rewrites. */
	snprintf(live, sizeof(live), "%s/live", dir);
	mkdir(live, 0700);
	snprintf(from, sizeof(from), "%s/ca.crt", certs);
	snprintf(path, sizeof(path), "%s/ca.crt", live);
	copy_file(from, path);
	snprintf(from, sizeof(from), "%s/peer-dmlogd1.crt", certs);
	snprintf(path, sizeof(path), "%s/peer.crt", live);
	copy_file(from, path);
	snprintf(from, sizeof(from), "%s/peer-dmlogd1.key", certs);
	snprintf(path, sizeof(path), "%s/peer.key", live);
	copy_file(from, path);
	snprintf(arg[0], sizeof(arg[0]), "--ca-file=%s/ca.crt", live);
	snprintf(arg[1], sizeof(arg[1]), "--cert-file=%s/peer.crt", live);
	snprintf(arg[2], sizeof(arg[2]), "--key-file=%s/peer.key", live);
	extra[0] = arg[0];
	extra[1] = arg[1];
	extra[2] = arg[2];
	extra[3] = NULL;
	start(extra);
	node(&c, "node-node1", 1);
	rawconn_close(&c);

	/* A broken key: the reload is refused and the old context keeps serving. */
	snprintf(path, sizeof(path), "%s/peer.key", live);
	{
		FILE *f = fopen(path, "w");

		fputs("not a key\n", f);
		fclose(f);
	}
	kill(d.pid, SIGHUP);
	for (int i = 0; i < 100 && dmlogd_log_count(&d, "TLS contexts kept") == 0; i++)
		usleep(50000);
	ck_assert_int_eq(dmlogd_log_count(&d, "TLS contexts kept"), 1);
	node(&c, "node-node1", 1);
	rawconn_close(&c);

	/* The other CA's files: the new context replaces the old one. */
	snprintf(from, sizeof(from), "%s/other/ca.crt", certs);
	snprintf(path, sizeof(path), "%s/ca.crt", live);
	copy_file(from, path);
	snprintf(from, sizeof(from), "%s/other/peer-dmlogd1.crt", certs);
	snprintf(path, sizeof(path), "%s/peer.crt", live);
	copy_file(from, path);
	snprintf(from, sizeof(from), "%s/other/peer-dmlogd1.key", certs);
	snprintf(path, sizeof(path), "%s/peer.key", live);
	copy_file(from, path);
	kill(d.pid, SIGHUP);
	for (int i = 0; i < 100 && dmlogd_log_count(&d, "TLS contexts replaced") == 0; i++)
		usleep(50000);
	ck_assert_int_eq(dmlogd_log_count(&d, "TLS contexts replaced"), 1);
	{
		char other[400];

		snprintf(other, sizeof(other), "%s/other", certs);
		ck_assert_msg(rawconn_open_as(&c, d.port, other, "node-node1") == 0, "%s", c.err);
		ck_assert_int_eq(rawconn_hello(&c, 2), 0);
		rawconn_close(&c);
	}
	/* The old CA's clients are now refused. */
	ck_assert_int_ne(rawconn_open_as(&c, d.port, certs, "node-node1"), 0);
	rawconn_close(&c);
}
END_TEST

START_TEST(idle_timeout_and_connection_limit)
{
	struct rawconn a, b, c;

	start((const char *const[]){"--idle-timeout=1s", "--max-connections=2", NULL});
	node(&a, "node-node1", 1);
	node(&b, "node-node2", 2);
	/* A third connection is refused: closed before or during the handshake. */
	if (rawconn_open_as(&c, d.port, certs, "node-node1") == 0)
		ck_assert_int_ne(rawconn_hello(&c, 3), 0);
	rawconn_close(&c);
	ck_assert_int_ge(dmlogd_log_count(&d, "connection limit reached"), 1);
	/* Silent connections are closed after the idle timeout. */
	ck_assert(rawconn_closed(&a, 4000));
	ck_assert(rawconn_closed(&b, 4000));
	rawconn_close(&a);
	rawconn_close(&b);
	ck_assert_int_ge(dmlogd_log_count(&d, "idle timeout"), 2);
	node(&a, "node-node1", 1);
	rawconn_close(&a);
}
END_TEST

/* dmlogd with a node lease of 1 s, and node1 on n1 holding a mark on region 3 of a new log. */
static void start_with_a_mark(struct rawconn *n1, uint64_t *id)
{
	start((const char *const[]){"--node-lease=1s", NULL});
	node(n1, "node-node1", 1);
	create_log(n1, id, "8192 clustered-core 1024 nosync");
	ok_done(n1, (*id)++, MARK(3));
}

/* A node that goes silent past its lease loses its marks: its regions stay dirty and go out
 * of sync (they must be resynced), and its instances answer -ESTALE until it resumes again. */
START_TEST(node_lease_expiry_drops_marks_and_resyncs)
{
	struct rawconn n1, n2;
	uint64_t id = 2;
	struct op o;
	Dmlog__ServerMessage *r;

	start_with_a_mark(&n1, &id);
	rawconn_close(&n1);

	node(&n2, "node-node2", 2);
	o = OP_ON(DMLOG__CLIENT_MESSAGE__BODY_CTR, LUID2);
	o.args = "8192 clustered-core 1024 nosync";
	dmlog__server_message__free_unpacked(ok(&n2, id++, o, DMLOG__SERVER_MESSAGE__BODY_CTR), NULL);
	ok_done(&n2, id++, OP_ON(DMLOG__CLIENT_MESSAGE__BODY_RESUME, LUID2));
	/* Keep node2 alive with pings while node1's lease runs out. */
	for (int i = 0; i < 30 && dmlogd_log_count(&d, "node lease expired") == 0; i++) {
		ck_assert_int_eq(rawconn_ping(&n2, id++), 0);
		r = rawconn_recv(&n2, 2000);
		ck_assert_ptr_nonnull(r);
		ck_assert_int_eq(r->body_case, DMLOG__SERVER_MESSAGE__BODY_PONG);
		dmlog__server_message__free_unpacked(r, NULL);
		usleep(200000);
	}
	ck_assert_int_ge(dmlogd_log_count(&d, "node lease expired"), 1);
	ck_assert_int_eq(dmlogd_log_count(&d, "node lease expired: dropping its marks, its regions will be resynced node=node2"), 0);
	usleep(300000); /* the NodeLost command commits */
	/* The region node1 was writing is out of sync now (node2 never saw a full resync since its
	 * resume, so no sticky in_sync applies). */
	ck_assert(!ok_bool_on(&n2, id++, DMLOG__CLIENT_MESSAGE__BODY_IN_SYNC, LUID2, 3));
	ck_assert(!ok_bool_on(&n2, id++, DMLOG__CLIENT_MESSAGE__BODY_IS_CLEAN, LUID2, 3));
	r = ok(&n2, id++, OP_ON(DMLOG__CLIENT_MESSAGE__BODY_GET_SYNC_COUNT, LUID2),
	       DMLOG__SERVER_MESSAGE__BODY_SYNC_COUNT);
	ck_assert_uint_eq(r->sync_count->count, 7);
	dmlog__server_message__free_unpacked(r, NULL);
	/* node2 is handed region 3 to recover. */
	r = ok(&n2, id++, OP_ON(DMLOG__CLIENT_MESSAGE__BODY_GET_RESYNC_WORK, LUID2),
	       DMLOG__SERVER_MESSAGE__BODY_RESYNC_WORK);
	ck_assert(r->resync_work->has_work);
	ck_assert_uint_eq(r->resync_work->region, 3);
	dmlog__server_message__free_unpacked(r, NULL);
	rawconn_close(&n2);
	/* node1 comes back: its old instance answers -ESTALE until it resumes. */
	node(&n1, "node-node1", 3);
	o = MARK(4);
	r = op_call(&n1, id++, &o);
	ck_assert_int_eq(op_errno(r), -ESTALE);
	dmlog__server_message__free_unpacked(r, NULL);
	ok_done(&n1, id++, OP(DMLOG__CLIENT_MESSAGE__BODY_RESUME));
	ok_done(&n1, id++, o);
	rawconn_close(&n1);
}
END_TEST

/* A stall of dmlogd itself (SIGSTOP) longer than the node lease does not make it declare the
 * nodes lost when it runs again: their pings wait unread in the sockets. */
START_TEST(server_stall_does_not_expire_node_leases)
{
	struct rawconn n1;
	uint64_t id = 2;
	Dmlog__ServerMessage *r;

	start_with_a_mark(&n1, &id);
	kill(d.pid, SIGSTOP);
	for (int i = 0; i < 10; i++) {
		ck_assert_int_eq(rawconn_ping(&n1, id++), 0);
		usleep(250000);
	}
	kill(d.pid, SIGCONT);
	for (int i = 0; i < 10; i++) {
		r = rawconn_recv(&n1, 5000);
		ck_assert_ptr_nonnull(r);
		ck_assert_int_eq(r->body_case, DMLOG__SERVER_MESSAGE__BODY_PONG);
		dmlog__server_message__free_unpacked(r, NULL);
	}
	ok_done(&n1, id++, MARK(4));
	ck_assert_int_eq(dmlogd_log_count(&d, "node lease expired"), 0);
	ck_assert_int_ge(dmlogd_log_count(&d, "every node gets a fresh lease"), 1);
	rawconn_close(&n1);
}
END_TEST

/* The admin view's dirty count of UUID (the only log), asked right now. */
static uint64_t admin_dirty(struct rawconn *a, uint64_t id)
{
	Dmlog__ClientMessage m = DMLOG__CLIENT_MESSAGE__INIT;
	Dmlog__ListLogsRequest ll = DMLOG__LIST_LOGS_REQUEST__INIT;
	Dmlog__ServerMessage *r;
	uint64_t dirty;

	m.id = id;
	m.body_case = DMLOG__CLIENT_MESSAGE__BODY_ADMIN_LIST_LOGS;
	m.admin_list_logs = &ll;
	r = rawconn_call(a, &m, 5000);
	ck_assert_msg(r != NULL, "admin list: %s", a->err);
	ck_assert_int_eq(r->body_case, DMLOG__SERVER_MESSAGE__BODY_ADMIN_LOGS);
	ck_assert_uint_eq(r->admin_logs->n_logs, 1);
	dirty = r->admin_logs->logs[0]->dirty_count;
	dmlog__server_message__free_unpacked(r, NULL);
	return dirty;
}

/* The value of "key=" in dmlogd's newest state dump (after a fresh SIGUSR1). */
static unsigned long long dump_value(const char *key)
{
	int before = dmlogd_log_count(&d, "state dump: leader=");
	char line[2048], last[2048] = "", want[64];
	unsigned long long v = 0;
	const char *p;
	FILE *f;

	kill(d.pid, SIGUSR1);
	for (int i = 0; i < 300 && dmlogd_log_count(&d, "state dump: leader=") == before; i++)
		usleep(10 * 1000);
	f = fopen(d.logfile, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "state dump: leader="))
			snprintf(last, sizeof(last), "%s", line);
	fclose(f);
	snprintf(want, sizeof(want), " %s=", key);
	p = strstr(last, want);
	ck_assert_msg(p != NULL, "no %s in the dump: %s", key, last);
	ck_assert_int_eq(sscanf(p + strlen(want), "%llu", &v), 1);
	return v;
}

/* A valid CLEAR_REGION is answered before its commit (early_clear_ack, the default), yet every
 * read that could see it, sent after its answer or pipelined right behind it, sees it: IS_CLEAN
 * and the admin views wait until it is applied. With early_clear_ack = no every clear waits for
 * its commit and the answers are the same. A clear that fails its checks is never answered
 * early. */
static void clears_keep_read_your_writes(bool early)
{
	const char *args[] = {early ? "--early-clear-ack=yes" : "--early-clear-ack=no", NULL};
	struct rawconn c, a;
	uint64_t id = 1, aid = 1;
	struct op clr = OP(DMLOG__CLIENT_MESSAGE__BODY_CLEAR_REGION);
	struct op isc = OP(DMLOG__CLIENT_MESSAGE__BODY_IS_CLEAN);
	Dmlog__ServerMessage *r;

	start(args);
	node(&c, "node-node1", 1);
	ck_assert_msg(rawconn_open_as(&a, d.port, certs, "admin-admin") == 0, "%s", a.err);
	ck_assert_msg(rawconn_hello(&a, 2) == 0, "%s", a.err);
	create_log(&c, &id, "65536 clustered-core 16 nosync");
	clr.n = 1;
	for (uint64_t i = 0; i < 100; i++) {
		uint64_t region = i * 37 % 4096;
		bool done = false;

		ok_done(&c, id++, MARK(region));
		ck_assert(!ok_bool(&c, id++, DMLOG__CLIENT_MESSAGE__BODY_IS_CLEAN, region));
		ck_assert_uint_eq(admin_dirty(&a, aid++), 1);
		/* the clear and IS_CLEAN back to back: the read reaches dmlogd before the clear's
		 * commit can have finished */
		clr.regions[0] = region;
		isc.region = region;
		ck_assert_int_eq(op_send(&c, id, &clr), 0);
		ck_assert_int_eq(op_send(&c, id + 1, &isc), 0);
		/* Replies in the order they were answered: early, the clear's comes first and the
		 * read that follows it must see it; committed, a read may be answered before the
		 * clear (it was not acknowledged yet), and sees it only when answered after. */
		for (int k = 0; k < 2; k++) {
			r = rawconn_recv(&c, 5000);
			ck_assert_msg(r != NULL, "request %llu: no answer", (unsigned long long)(id + k));
			if (r->id == id) {
				ck_assert_int_eq(r->body_case, DMLOG__SERVER_MESSAGE__BODY_DONE);
				done = true;
				/* an admin asking right after the clear's answer sees it */
				ck_assert_uint_eq(admin_dirty(&a, aid++), 0);
			} else {
				ck_assert_uint_eq(r->id, id + 1);
				ck_assert_int_eq(r->body_case, DMLOG__SERVER_MESSAGE__BODY_BOOL_RESULT);
				ck_assert_msg(!early || done, "IS_CLEAN answered before an early clear");
				ck_assert_msg(r->bool_result->value || !done,
					      "region %llu not clean after its clear was answered",
					      (unsigned long long)region);
			}
			dmlog__server_message__free_unpacked(r, NULL);
		}
		id += 2;
	}
	/* a clear out of range is refused as before, and never counted as answered early */
	clr.regions[0] = 4096;
	r = op_call(&c, id++, &clr);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(op_errno(r), -EINVAL);
	dmlog__server_message__free_unpacked(r, NULL);
	ck_assert_msg(rawconn_closed(&c, 5000), "connection kept after a clear out of range");
	ck_assert_uint_eq(dump_value("early_clears"), early ? 100 : 0);
	rawconn_close(&a);
	rawconn_close(&c);
	/* A clear with nothing after it (answered early, it waits up to 50 ms for marks to share
	 * its entry) is still committed on its own: it survives a kill -9 that comes later. */
	node(&c, "node-node1", 3);
	ok_done(&c, id++, MARK(7));
	clr.regions[0] = 7;
	ok_done(&c, id++, clr);
	usleep(300 * 1000);
	rawconn_close(&c);
	dmlogd_stop(&d, SIGKILL);
	start(args);
	node(&c, "node-node1", 4);
	ck_assert_msg(ok_bool(&c, id++, DMLOG__CLIENT_MESSAGE__BODY_IS_CLEAN, 7),
		      "the clear answered before the kill was lost");
	rawconn_close(&c);
}

START_TEST(early_clear_answers_keep_read_your_writes)
{
	clears_keep_read_your_writes(true);
}
END_TEST

START_TEST(clears_answered_after_commit_when_early_acks_are_off)
{
	clears_keep_read_your_writes(false);
}
END_TEST

/* A FLUSH without marks is answered at once only when nothing it could cover is still being
 * committed. A client that pipelines MARK_REGION and the FLUSH behind it (the kernel never does;
 * libdmlog's async API lets anyone) must not get the FLUSH's answer before the mark is durable:
 * the answers come back MARK first, every time. A FLUSH of another log behind that MARK, one
 * behind clears answered early (it owes them no durability) and one with nothing before it
 * are still answered at once. */
START_TEST(a_flush_pipelined_behind_a_mark_is_answered_after_it)
{
	struct rawconn c;
	uint64_t id = 1;
	struct op fl = OP(DMLOG__CLIENT_MESSAGE__BODY_FLUSH);
	struct op clr = OP(DMLOG__CLIENT_MESSAGE__BODY_CLEAR_REGION);
	Dmlog__ServerMessage *r;

	start(NULL);
	node(&c, "node-node1", 1);
	create_log(&c, &id, "65536 clustered-core 16 nosync");
	for (uint64_t i = 0; i < 50; i++) {
		struct op mk = MARK(i * 7 % 4096);

		ck_assert_int_eq(op_send(&c, id, &mk), 0);
		ck_assert_int_eq(op_send(&c, id + 1, &fl), 0);
		for (uint64_t k = 0; k < 2; k++) {
			r = rawconn_recv(&c, 5000);
			ck_assert_msg(r != NULL, "round %llu: no answer", (unsigned long long)i);
			ck_assert_msg(r->id == id + k, "round %llu: answer to %llu came before the "
				      "MARK's (%llu): the FLUSH was answered before the mark was durable",
				      (unsigned long long)i, (unsigned long long)r->id,
				      (unsigned long long)id);
			ck_assert_int_eq(r->body_case, DMLOG__SERVER_MESSAGE__BODY_DONE);
			dmlog__server_message__free_unpacked(r, NULL);
		}
		id += 2;
	}
	/* A FLUSH of another log (a bridge relays many mirrors on one connection) owes the
	 * MARK still being committed nothing: it is answered at once, ahead of the MARK. (The
	 * two logs fall in different slots of the session's per-instance count; were they to
	 * share one, this FLUSH would be committed: correct, only slower.) */
	{
		struct op ctr = OP(DMLOG__CLIENT_MESSAGE__BODY_CTR);
		struct op res = OP(DMLOG__CLIENT_MESSAGE__BODY_RESUME);
		struct op flb = fl;

		ctr.uuid = res.uuid = flb.uuid = UUID_OTHER;
		ctr.args = "65536 clustered-core 16 nosync";
		dmlog__server_message__free_unpacked(ok(&c, id++, ctr, DMLOG__SERVER_MESSAGE__BODY_CTR),
						     NULL);
		ok_done(&c, id++, res);
		for (uint64_t i = 0; i < 20; i++) {
			struct op mk = MARK(1000 + i);

			ck_assert_int_eq(op_send(&c, id, &mk), 0);
			ck_assert_int_eq(op_send(&c, id + 1, &flb), 0);
			for (uint64_t k = 0; k < 2; k++) {
				r = rawconn_recv(&c, 5000);
				ck_assert_ptr_nonnull(r);
				ck_assert_msg(r->id == id + 1 - k, "round %llu: the other log's FLUSH "
					      "waited for this log's MARK", (unsigned long long)i);
				ck_assert_int_eq(r->body_case, DMLOG__SERVER_MESSAGE__BODY_DONE);
				dmlog__server_message__free_unpacked(r, NULL);
			}
			id += 2;
		}
	}
	/* behind an early clear: answered like a read, the clear's answer first */
	clr.n = 1;
	clr.regions[0] = 0;
	ck_assert_int_eq(op_send(&c, id, &clr), 0);
	ck_assert_int_eq(op_send(&c, id + 1, &fl), 0);
	for (uint64_t k = 0; k < 2; k++) {
		r = rawconn_recv(&c, 5000);
		ck_assert_ptr_nonnull(r);
		ck_assert_uint_eq(r->id, id + k);
		ck_assert_int_eq(r->body_case, DMLOG__SERVER_MESSAGE__BODY_DONE);
		dmlog__server_message__free_unpacked(r, NULL);
	}
	id += 2;
	ok_done(&c, id++, fl);
	rawconn_close(&c);
}
END_TEST

/* An admin connection past Hello. */
static void admin(struct rawconn *a, uint64_t client_id)
{
	ck_assert_msg(rawconn_open_as(a, d.port, certs, "admin-admin") == 0, "%s", a->err);
	ck_assert_msg(rawconn_hello(a, client_id) == 0, "%s", a->err);
}

/* Sends an admin "show log" of UUID (no wait). */
static int show_log_send(struct rawconn *a, uint64_t id)
{
	Dmlog__ClientMessage m = DMLOG__CLIENT_MESSAGE__INIT;
	Dmlog__ShowLogRequest sl = DMLOG__SHOW_LOG_REQUEST__INIT;

	sl.uuid = (char *)UUID;
	m.id = id;
	m.body_case = DMLOG__CLIENT_MESSAGE__BODY_ADMIN_SHOW_LOG;
	m.admin_show_log = &sl;
	return rawconn_send(a, &m);
}

/* node1's log UUID (made with args) with n regions 0, 2, 4, ... marked (n a multiple of 32):
 * n dirty ranges and n marks, which makes a long admin view. */
static void marked_log(struct rawconn *c, uint64_t *id, const char *args, unsigned n)
{
	struct op o = OP(DMLOG__CLIENT_MESSAGE__BODY_MARK_REGION);

	create_log(c, id, args);
	o.n = 32;
	for (unsigned k = 0; k < n / 32; k++) {
		for (unsigned j = 0; j < 32; j++)
			o.regions[j] = 2 * (32 * k + j);
		ok_done(c, (*id)++, o);
	}
}

/* Reads and drops what c receives until the server ends the connection (true) or timeout_ms
 * pass (false). */
static bool drained_to_close(struct rawconn *c, int timeout_ms)
{
	static char buf[65536];
	uint64_t end = harness_now_ms() + (uint64_t)timeout_ms;

	while (harness_now_ms() < end) {
		struct pollfd pfd = {.fd = c->fd, .events = POLLIN};

		if (SSL_pending(c->ssl) == 0 && poll(&pfd, 1, 100) <= 0)
			continue;
		if (SSL_read(c->ssl, buf, sizeof(buf)) <= 0)
			return true;
	}
	return false;
}

/* Back-pressure: a client that pipelines requests and reads none of the replies stops being
 * read once its replies pass the watermark, and is closed (with a log line) once they have not
 * moved for the idle timeout; a client that reads slowly, in bursts, gets every reply, and
 * another client is served all along. */
START_TEST(a_client_that_stops_reading_is_closed_others_are_served)
{
	struct rawconn c, stuck, slow;
	uint64_t id = 2, t0, worst = 0;
	int served = 0;
	Dmlog__ServerMessage *r;

	start((const char *const[]){"--idle-timeout=2s", "--write-high-watermark=64KiB", NULL});
	node(&c, "node-node1", 1);
	/* 4096 marks in 8192 regions: each view is some 40 KB */
	marked_log(&c, &id, "65536 clustered-core 8 nosync", 4096);
	admin(&stuck, 2);
	admin(&slow, 3);
	/* a small receive buffer: the server's writes block sooner */
	setsockopt(stuck.fd, SOL_SOCKET, SO_RCVBUF, &(int){4096}, sizeof(int));
	for (uint64_t i = 0; i < 400; i++)
		ck_assert_int_eq(show_log_send(&stuck, 10 + i), 0);
	t0 = harness_now_ms();
	/* The slow reader: 200 views, read 40 at a time with pauses well under the timeout. */
	for (uint64_t i = 0; i < 200; i++)
		ck_assert_int_eq(show_log_send(&slow, 10 + i), 0);
	for (uint64_t i = 0; i < 200; i++) {
		if (i % 40 == 0) {
			usleep(300 * 1000);
			ck_assert(ok_bool(&c, id++, DMLOG__CLIENT_MESSAGE__BODY_IN_SYNC, 1));
			served++;
		}
		r = rawconn_recv(&slow, 5000);
		ck_assert_msg(r != NULL, "slow reader: no reply %llu", (unsigned long long)i);
		ck_assert_uint_eq(r->id, 10 + i);
		ck_assert_int_eq(r->body_case, DMLOG__SERVER_MESSAGE__BODY_ADMIN_LOG);
		ck_assert_uint_eq(r->admin_log->n_marks, 1);
		ck_assert_uint_eq(r->admin_log->marks[0]->n_regions, 4096);
		dmlog__server_message__free_unpacked(r, NULL);
	}
	ck_assert_uint_eq(admin_dirty(&slow, 1000), 4096);
	/* node1 is answered promptly while the stuck client waits for its end */
	while (dmlogd_log_count(&d, "client not reading") == 0 && harness_now_ms() - t0 < 20000) {
		uint64_t t = harness_now_ms();

		ck_assert(ok_bool(&c, id++, DMLOG__CLIENT_MESSAGE__BODY_IN_SYNC, 1));
		if (harness_now_ms() - t > worst)
			worst = harness_now_ms() - t;
		served++;
		usleep(100 * 1000);
	}
	ck_assert_msg(dmlogd_log_count(&d, "client not reading") == 1,
		      "the stuck client was not closed within 20 s (%d lines)",
		      dmlogd_log_count(&d, "client not reading"));
	/* paused, it held at most the watermark and a view when its writes stopped: the write
	 * timeout closed it, not the cap on queued output */
	ck_assert_int_eq(dmlogd_log_count(&d, "no reply could be written for 2000 ms"), 1);
	ck_assert_msg(worst < 2000, "node1 waited %llu ms for an answer",
		      (unsigned long long)worst);
	ck_assert_msg(drained_to_close(&stuck, 10000), "the stuck client's connection stays open");
	rawconn_close(&stuck);
	/* the slow reader and node1 are still connected and served */
	ck_assert_uint_eq(admin_dirty(&slow, 1001), 4096);
	ck_assert(ok_bool(&c, id++, DMLOG__CLIENT_MESSAGE__BODY_IN_SYNC, 1));
	ck_assert_int_ge(served, 5);
	rawconn_close(&slow);
	rawconn_close(&c);
}
END_TEST

/* max_frame bounds what is sent too: an admin view that would make a longer frame is refused
 * with an Error saying so (the connection stays usable), and the shorter views still work. */
START_TEST(a_reply_over_max_frame_is_refused_with_an_error)
{
	struct rawconn c, a;
	uint64_t id = 2, n = 0;
	Dmlog__ServerMessage *r;
	const char *msg;

	start((const char *const[]){"--max-frame=4096", NULL});
	node(&c, "node-node1", 1);
	/* 512 separate dirty ranges and marks: a view of some 6 KB */
	marked_log(&c, &id, "8192 clustered-core 4 nosync", 512);
	admin(&a, 2);
	ck_assert_int_eq(show_log_send(&a, 50), 0);
	r = rawconn_recv(&a, 5000);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->id, 50);
	ck_assert_msg(r->body_case == DMLOG__SERVER_MESSAGE__BODY_ERROR, "reply case %d",
		      r->body_case);
	ck_assert_int_eq(r->error->errno_neg, -EMSGSIZE);
	msg = r->error->message;
	ck_assert_msg(sscanf(msg, "reply of %llu bytes over max_frame 4096",
			     (unsigned long long *)&n) == 1 && strstr(msg, "over max_frame 4096"),
		      "message: %s", msg);
	ck_assert_uint_gt(n, 4096);
	dmlog__server_message__free_unpacked(r, NULL);
	ck_assert_int_ge(dmlogd_log_count(&d, "refusing a reply: reply of"), 1);
	/* the connection is kept, and a view that fits is answered */
	ck_assert_uint_eq(admin_dirty(&a, 51), 512);
	rawconn_close(&a);
	rawconn_close(&c);
}
END_TEST

/* A certificate from the right CA whose subject names no dmlog role (no OU, an unknown OU): the
 * handshake completes, then an Error saying why, a log line, and the close. */
START_TEST(certificates_without_a_dmlog_role_are_refused)
{
	static const struct {
		const char *stem, *subject, *why;
	} cases[] = {
		{"node-noou", "/O=dmlog/CN=node9", "certificate has no OU"},
		{"node-badou", "/O=dmlog/OU=dmlog-intruder/CN=node9",
		 "certificate OU 'dmlog-intruder' is not a dmlog role"},
	};
	struct rawconn c;
	char ca[400], crt[400], key[400];
	Dmlog__ServerMessage *r;

	start(NULL);
	testcerts_path(ca, sizeof(ca), certs, "ca", "crt");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(testcerts_sign(certs, cases[i].stem, cases[i].subject), 0);
		testcerts_path(crt, sizeof(crt), certs, cases[i].stem, "crt");
		testcerts_path(key, sizeof(key), certs, cases[i].stem, "key");
		ck_assert_msg(rawconn_open(&c, d.port, ca, crt, key) == 0, "%s: %s", cases[i].stem,
			      c.err);
		r = rawconn_recv(&c, 5000);
		ck_assert_msg(r != NULL, "%s: no error reply", cases[i].stem);
		ck_assert_int_eq(r->body_case, DMLOG__SERVER_MESSAGE__BODY_ERROR);
		ck_assert_int_eq(r->error->errno_neg, -EACCES);
		ck_assert_msg(strstr(r->error->message, cases[i].why) != NULL, "%s: %s",
			      cases[i].stem, r->error->message);
		dmlog__server_message__free_unpacked(r, NULL);
		ck_assert_msg(rawconn_closed(&c, 5000), "%s: connection kept", cases[i].stem);
		rawconn_close(&c);
		ck_assert_msg(dmlogd_log_count(&d, cases[i].why) >= 1, "no log line '%s'",
			      cases[i].why);
	}
	/* nobody else is affected */
	node(&c, "node-node1", 1);
	rawconn_close(&c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dmlogd");
	TCase *tc = testmain_tcase(s, "process", setup, teardown, 120);

	tcase_add_test(tc, handshakes_per_role_and_ca);
	tcase_add_test(tc, every_request_type_end_to_end);
	tcase_add_test(tc, bad_inputs_are_refused_and_logged);
	tcase_add_test(tc, kill9_under_write_load_loses_no_acknowledged_mark);
	tcase_add_test(tc, restart_recovers_from_snapshot_and_log);
	tcase_add_test(tc, sighup_reloads_certificates);
	tcase_add_test(tc, idle_timeout_and_connection_limit);
	tcase_add_test(tc, node_lease_expiry_drops_marks_and_resyncs);
	tcase_add_test(tc, server_stall_does_not_expire_node_leases);
	tcase_add_test(tc, early_clear_answers_keep_read_your_writes);
	tcase_add_test(tc, clears_answered_after_commit_when_early_acks_are_off);
	tcase_add_test(tc, a_flush_pipelined_behind_a_mark_is_answered_after_it);
	tcase_add_test(tc, a_client_that_stops_reading_is_closed_others_are_served);
	tcase_add_test(tc, a_reply_over_max_frame_is_refused_with_an_error);
	tcase_add_test(tc, certificates_without_a_dmlog_role_are_refused);
	return testmain_run(s);
}
