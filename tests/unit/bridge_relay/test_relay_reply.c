/* test_relay_reply.c: libdmlog results as kernel replies, without a server.
 *
 * relay_reply_map() turns each type's result into the codec's result; an answer for another
 * type is -EPROTO and a text the kernel cannot take is -EMSGSIZE, never cut. relay_reply_send()
 * then puts the kernel's bytes on a socketpair transport, read back by the fake kernel: a
 * result that cannot be encoded becomes that error with data_size 0.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <linux/dm-log-userspace.h>

#include "fake_kernel.h"
#include "log.h"
#include "relay_impl.h"
#include "transport.h"

START_TEST(each_type_maps_its_result)
{
	struct dmlog_result res;
	struct ulog_codec_res out;

	memset(&res, 0, sizeof(res));
	res.op = DMLOG_OP_CTR;
	res.device = "253:2";
	ck_assert_int_eq(relay_reply_map(DM_ULOG_CTR, &res, &out), 0);
	ck_assert_str_eq(out.text, "253:2");
	ck_assert_int_eq(out.error, 0);

	res.op = DMLOG_OP_GET_REGION_SIZE;
	res.region_size = 1024;
	ck_assert_int_eq(relay_reply_map(DM_ULOG_GET_REGION_SIZE, &res, &out), 0);
	ck_assert_uint_eq(out.value, 1024);

	res.op = DMLOG_OP_IS_CLEAN;
	res.clean = true;
	ck_assert_int_eq(relay_reply_map(DM_ULOG_IS_CLEAN, &res, &out), 0);
	ck_assert(out.flag);

	res.op = DMLOG_OP_IN_SYNC;
	res.in_sync = false;
	ck_assert_int_eq(relay_reply_map(DM_ULOG_IN_SYNC, &res, &out), 0);
	ck_assert(!out.flag);

	res.op = DMLOG_OP_GET_RESYNC_WORK;
	res.resync_work.has_work = true;
	res.resync_work.region = 42;
	ck_assert_int_eq(relay_reply_map(DM_ULOG_GET_RESYNC_WORK, &res, &out), 0);
	ck_assert(out.flag);
	ck_assert_uint_eq(out.value, 42);

	res.op = DMLOG_OP_GET_SYNC_COUNT;
	res.sync_count = 77;
	ck_assert_int_eq(relay_reply_map(DM_ULOG_GET_SYNC_COUNT, &res, &out), 0);
	ck_assert_uint_eq(out.value, 77);

	res.op = DMLOG_OP_STATUS_TABLE;
	res.text = "clustered-core 1024 ";
	ck_assert_int_eq(relay_reply_map(DM_ULOG_STATUS_TABLE, &res, &out), 0);
	ck_assert_str_eq(out.text, "clustered-core 1024 ");

	res.op = DMLOG_OP_IS_REMOTE_RECOVERING;
	res.remote_recovering.recovering = true;
	res.remote_recovering.in_sync_hint = 40;
	ck_assert_int_eq(relay_reply_map(DM_ULOG_IS_REMOTE_RECOVERING, &res, &out), 0);
	ck_assert(out.flag);
	ck_assert_uint_eq(out.value, 40);

	res.op = DMLOG_OP_FLUSH;
	ck_assert_int_eq(relay_reply_map(DM_ULOG_FLUSH, &res, &out), 0);
	ck_assert_uint_eq(out.value, 0);
	ck_assert(!out.flag);
	ck_assert_str_eq(out.text, "");
}
END_TEST

START_TEST(wrong_answers_are_errors_not_guesses)
{
	static char long_text[300];
	struct dmlog_result res;
	struct ulog_codec_res out;

	memset(&res, 0, sizeof(res));
	res.op = DMLOG_OP_IS_CLEAN;
	res.clean = true;
	ck_assert_int_eq(relay_reply_map(DM_ULOG_IN_SYNC, &res, &out), -EPROTO);
	memset(long_text, 's', sizeof(long_text) - 1);
	res.op = DMLOG_OP_STATUS_INFO;
	res.text = long_text;
	ck_assert_int_eq(relay_reply_map(DM_ULOG_STATUS_INFO, &res, &out), -EMSGSIZE);
	long_text[255] = '\0'; /* 255 characters and the NUL: the most a reply carries */
	ck_assert_int_eq(relay_reply_map(DM_ULOG_STATUS_INFO, &res, &out), 0);
	ck_assert_uint_eq(strlen(out.text), 255);
}
END_TEST

/* A relay reduced to what relay_reply_send() uses: the transport and the warning limit. */
static struct relay r;
static struct event_base *base;
static struct fake_kernel *fk;

static void setup(void)
{
	struct fake_kernel_options ko = {0};
	char err[256];
	int sv[2];

	log_init("dmlog-bridge");
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	base = event_base_new();
	memset(&r, 0, sizeof(r));
	r.t = transport_dgram_from_fd(base, sv[0], err, sizeof(err));
	ck_assert_msg(r.t != NULL, "%s", err);
	ko.fd = sv[1];
	fk = fake_kernel_new(&ko, err);
	ck_assert_msg(fk != NULL, "%s", err);
}

static void teardown(void)
{
	fake_kernel_free(fk);
	transport_free(r.t);
	event_base_free(base);
}

static struct ulog_codec_hdr hdr(uint32_t type, uint32_t seq)
{
	struct ulog_codec_hdr h;

	memset(&h, 0, sizeof(h));
	h.luid = 0x1234;
	strcpy(h.uuid, "LVM-reply");
	h.version = 3;
	h.seq = seq;
	h.type = type;
	return h;
}

START_TEST(unencodable_result_becomes_its_error)
{
	struct ulog_codec_hdr h = hdr(DM_ULOG_CTR, 9);
	struct ulog_codec_res res;
	struct fake_kernel_reply rep;

	memset(&res, 0, sizeof(res));
	memset(res.text, 'd', 200); /* a device name over DM_NAME_LEN */
	relay_reply_send(&r, &h, false, &res);
	ck_assert_int_eq(fake_kernel_wait(fk, 9, 1000, &rep), 0);
	ck_assert_int_eq(rep.error, -EMSGSIZE);
	ck_assert_uint_eq(rep.data_size, 0);
	ck_assert_uint_eq(rep.raw_len, 196);

	/* the same device for the reconnect CTR: no reply buffer, so nothing to encode */
	h.seq = 10;
	relay_reply_send(&r, &h, true, &res);
	ck_assert_int_eq(fake_kernel_wait(fk, 10, 1000, &rep), 0);
	ck_assert_int_eq(rep.error, 0);
	ck_assert_uint_eq(rep.data_size, 0);

	/* an error reply of a payload type carries its result size in zeros, so that the
	 * kernel's resend keeps its capacity (ulog_codec.h) */
	h = hdr(DM_ULOG_GET_RESYNC_WORK, 11);
	relay_reply_error(&r, &h, false, -ENOENT);
	ck_assert_int_eq(fake_kernel_wait(fk, 11, 1000, &rep), 0);
	ck_assert_int_eq(rep.error, -ENOENT);
	ck_assert_uint_eq(rep.data_size, 16);
	ck_assert_uint_eq(rep.cn_len, 176);
	ck_assert_uint_eq(rep.cn_seq, 11);
	ck_assert_uint_eq(rep.nl_len, 212);
}
END_TEST

static Suite *reply_suite(void)
{
	Suite *s = suite_create("bridge_relay_reply");
	TCase *tc = tcase_create("map");

	tcase_add_test(tc, each_type_maps_its_result);
	tcase_add_test(tc, wrong_answers_are_errors_not_guesses);
	suite_add_tcase(s, tc);
	tc = tcase_create("send");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, unencodable_result_becomes_its_error);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(reply_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
