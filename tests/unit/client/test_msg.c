/* test_msg.c: requests to frames and replies to results, without any network (msg.c), and
 * owned copies of results (result.c). */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "frame.h"
#include "msg.h"
#include "testmain.h"

/* Encodes req, checks the frame header, and decodes the message back. */
static Dmlog__ClientMessage *round_trip(const struct dmlog_request *req, uint64_t id)
{
	uint8_t *frame;
	size_t len;
	char cause[128];
	Dmlog__ClientMessage *cm;

	ck_assert_msg(msg_encode(req, id, &frame, &len, cause, sizeof(cause)) == 0, "%s", cause);
	ck_assert_uint_gt(len, FRAME_HEADER_SIZE);
	ck_assert_uint_eq(frame_get_header(frame), len - FRAME_HEADER_SIZE);
	cm = dmlog__client_message__unpack(NULL, len - FRAME_HEADER_SIZE, frame + FRAME_HEADER_SIZE);
	ck_assert_ptr_nonnull(cm);
	free(frame);
	return cm;
}

START_TEST(every_request_type_encodes_field_by_field)
{
	for (size_t i = 0; i < CASES_COUNT; i++) {
		Dmlog__ClientMessage *cm = round_trip(cases_request(i), 1000 + i);

		cases_check_wire(cases_request(i), cm, 1000 + i);
		dmlog__client_message__free_unpacked(cm, NULL);
	}
}
END_TEST

START_TEST(ctr_without_args_sends_an_empty_string)
{
	struct dmlog_request req = { .op = DMLOG_OP_CTR, .log = { .uuid = "u", .luid = 1 } };
	Dmlog__ClientMessage *cm = round_trip(&req, 5);

	ck_assert_str_eq(cm->ctr->args, "");
	ck_assert(!cm->ctr->reconnect);
	dmlog__client_message__free_unpacked(cm, NULL);
}
END_TEST

START_TEST(hello_carries_version_name_and_client_id)
{
	uint8_t *frame;
	size_t len;
	Dmlog__ClientMessage *cm;

	ck_assert_int_eq(msg_encode_hello(9, "bridge/1.0", 0x1234567890abcdefull, &frame, &len), 0);
	cm = dmlog__client_message__unpack(NULL, len - FRAME_HEADER_SIZE, frame + FRAME_HEADER_SIZE);
	cases_check_hello(cm, "bridge/1.0", 0x1234567890abcdefull);
	ck_assert_uint_eq(cm->id, 9);
	dmlog__client_message__free_unpacked(cm, NULL);
	free(frame);
}
END_TEST

START_TEST(invalid_requests_name_the_problem)
{
	uint64_t r[40] = { 0 };
	char uuid[DMLOG_UUID_MAX + 1];
	char cause[128];
	uint8_t *frame = NULL;
	size_t len;
	struct dmlog_request req = { .op = DMLOG_OP_CLEAR_REGION, .log = { .uuid = "u" },
				     .regions = r, .region_count = 33 };

	ck_assert_int_eq(msg_encode(&req, 1, &frame, &len, cause, sizeof(cause)), -EINVAL);
	ck_assert_str_eq(cause, "CLEAR_REGION: 33 regions (1 to 32 allowed)");
	req.op = DMLOG_OP_FLUSH;
	ck_assert_int_eq(msg_encode(&req, 1, &frame, &len, cause, sizeof(cause)), -EINVAL);
	ck_assert_str_eq(cause, "FLUSH: 33 regions (0 to 32 allowed)");
	req.region_count = 1;
	req.regions = NULL;
	ck_assert_int_eq(msg_encode(&req, 1, &frame, &len, cause, sizeof(cause)), -EINVAL);
	ck_assert_str_eq(cause, "FLUSH: regions missing");
	memset(uuid, 'a', sizeof(uuid));
	uuid[DMLOG_UUID_MAX] = '\0';
	req.op = DMLOG_OP_RESUME;
	req.log.uuid = uuid;
	ck_assert_int_eq(msg_encode(&req, 1, &frame, &len, cause, sizeof(cause)), 0);
	free(frame);
	char longer[DMLOG_UUID_MAX + 2];
	memset(longer, 'a', sizeof(longer));
	longer[DMLOG_UUID_MAX + 1] = '\0';
	req.log.uuid = longer;
	ck_assert_int_eq(msg_encode(&req, 1, &frame, &len, cause, sizeof(cause)), -EINVAL);
	ck_assert_str_eq(cause, "RESUME: log uuid longer than 128 bytes");
	req.op = (enum dmlog_op)0;
	ck_assert_int_eq(msg_encode(&req, 1, &frame, &len, cause, sizeof(cause)), -EINVAL);
	ck_assert_str_eq(cause, "request type 0 unknown");
}
END_TEST

START_TEST(oversized_request_does_not_fit_a_frame)
{
	size_t n = FRAME_DEFAULT_MAX + 10;
	char *args = malloc(n);
	char cause[128];
	uint8_t *frame;
	size_t len;

	ck_assert_ptr_nonnull(args);
	memset(args, 'x', n - 1);
	args[n - 1] = '\0';
	struct dmlog_request req = { .op = DMLOG_OP_CTR, .log = { .uuid = "u" }, .args = args };
	ck_assert_int_eq(msg_encode(&req, 1, &frame, &len, cause, sizeof(cause)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(cause, "does not fit in a frame"));
	free(args);
}
END_TEST

START_TEST(reply_of_the_wrong_kind_is_a_protocol_error)
{
	Dmlog__ServerMessage m;
	Dmlog__BoolResult b;
	struct dmlog_result res;
	char cause[128];

	dmlog__server_message__init(&m);
	dmlog__bool_result__init(&b);
	m.id = 4;
	m.body_case = DMLOG__SERVER_MESSAGE__BODY_BOOL_RESULT;
	m.bool_result = &b;
	ck_assert_int_eq(msg_result(DMLOG_OP_GET_SYNC_COUNT, 4, &m, &res, cause, sizeof(cause)),
			 -EPROTO);
	ck_assert_str_eq(cause, "GET_SYNC_COUNT request 4: unexpected reply (body 13)");
	b.value = true;
	ck_assert_int_eq(msg_result(DMLOG_OP_IS_CLEAN, 4, &m, &res, cause, sizeof(cause)), 0);
	ck_assert(res.clean);
	ck_assert_uint_eq(res.request_id, 4);
	msg_result_release(&res);
}
END_TEST

START_TEST(admin_detail_without_summary_reads_as_empty)
{
	Dmlog__ServerMessage m;
	Dmlog__LogDetail d;
	struct dmlog_result res, *copy;
	char cause[128];

	dmlog__server_message__init(&m);
	dmlog__log_detail__init(&d);
	d.fully_synced = true;
	m.body_case = DMLOG__SERVER_MESSAGE__BODY_ADMIN_LOG;
	m.admin_log = &d;
	ck_assert_int_eq(msg_result(DMLOG_OP_ADMIN_SHOW_LOG, 3, &m, &res, cause, sizeof(cause)), 0);
	ck_assert_str_eq(res.log.summary.uuid, "");
	ck_assert_uint_eq(res.log.dirty_count, 0);
	ck_assert_ptr_null(res.log.dirty);
	ck_assert(res.log.fully_synced);
	copy = dmlog_result_dup(&res);
	msg_result_release(&res);
	ck_assert_ptr_nonnull(copy);
	ck_assert_str_eq(copy->log.summary.state, "");
	ck_assert(copy->log.fully_synced);
	dmlog_result_free(copy);
}
END_TEST

START_TEST(dup_copies_everything_into_one_block)
{
	struct dmlog_peer_info peers[2] = {
		{ .id = "p1", .address = "10.0.0.1:7788", .role = "leader", .voter = true },
		{ .id = "p2", .address = "10.0.0.2:7788", .role = "follower" },
	};
	char device[16] = "253:9";
	struct dmlog_result st = { .op = DMLOG_OP_ADMIN_STATUS, .request_id = 8 };
	struct dmlog_result ctr = { .op = DMLOG_OP_CTR, .request_id = 9, .device = device };
	struct dmlog_result *a, *b;

	st.status.server_id = "p1";
	st.status.raft_role = "leader";
	st.status.leader_id = "p1";
	st.status.version = "0.1.0";
	st.status.term = 3;
	st.status.peers = peers;
	st.status.peer_count = 2;
	a = dmlog_result_dup(&st);
	b = dmlog_result_dup(&ctr);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	peers[1].id = "changed";
	device[0] = 'X';
	ck_assert_str_eq(a->status.peers[1].id, "p2");
	ck_assert_str_eq(a->status.peers[0].address, "10.0.0.1:7788");
	ck_assert(a->status.peers[0].voter);
	ck_assert_uint_eq(a->status.term, 3);
	ck_assert_uint_eq(a->request_id, 8);
	/* Every pointer lies inside the copy's own block. */
	ck_assert_ptr_ne(a->status.peers, peers);
	ck_assert((const char *)a->status.peers > (const char *)a);
	ck_assert(a->status.peers[1].role > (const char *)a);
	ck_assert_str_eq(b->device, "253:9");
	dmlog_result_free(a);
	dmlog_result_free(b);
	ck_assert_ptr_null(dmlog_result_dup(NULL));
}
END_TEST

START_TEST(op_names)
{
	ck_assert_str_eq(dmlog_op_name(DMLOG_OP_CTR), "CTR");
	ck_assert_str_eq(dmlog_op_name(DMLOG_OP_IS_REMOTE_RECOVERING), "IS_REMOTE_RECOVERING");
	ck_assert_str_eq(dmlog_op_name(DMLOG_OP_ADMIN_SHOW_LOG), "ADMIN_SHOW_LOG");
	ck_assert_str_eq(dmlog_op_name((enum dmlog_op)18), "UNKNOWN");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("client_msg");
	TCase *t = tcase_create("msg");

	tcase_add_test(t, every_request_type_encodes_field_by_field);
	tcase_add_test(t, ctr_without_args_sends_an_empty_string);
	tcase_add_test(t, hello_carries_version_name_and_client_id);
	tcase_add_test(t, invalid_requests_name_the_problem);
	tcase_add_test(t, oversized_request_does_not_fit_a_frame);
	tcase_add_test(t, reply_of_the_wrong_kind_is_a_protocol_error);
	tcase_add_test(t, admin_detail_without_summary_reads_as_empty);
	tcase_add_test(t, dup_copies_everything_into_one_block);
	tcase_add_test(t, op_names);
	suite_add_tcase(s, t);
	return testmain_run(s);
}
