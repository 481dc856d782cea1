/* test_raftsvc_hold.c: the hold of InstallSnapshot messages while a snapshot is being written
 * (server/raftsvc_hold.c), on its own: a raftsvc whose raft_io start stands in for libuv's
 * backend (it keeps the receive callback the hold hands it) and whose libraft receive callback
 * records what reaches it.
 *
 * The whole path on real libraft, where the crash this hold prevents happens, is
 * test_snapshot_sent_while_one_is_written in test_raftsvc_group.c.
 */
#include "raftsvc_impl.h"
#include "testmain.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define MAXGOT 16

static struct raftsvc s;
static raft_io_recv_cb hold_cb;      /* what the wrapped start handed to the backend */
static struct {
	enum raft_message_type type;
	raft_term term;
	char address[64];
} got[MAXGOT];
static int n_got;

static int backend_start(struct raft_io *io, unsigned msecs, raft_io_tick_cb tick,
		      raft_io_recv_cb recv)
{
	(void)io;
	(void)msecs;
	(void)tick;
	hold_cb = recv;
	return 0;
}

/* libraft's receive callback: takes ownership of an install's data and configuration. */
static void record(struct raft_io *io, struct raft_message *m)
{
	ck_assert_ptr_eq(io, &s.io);
	ck_assert_int_lt(n_got, MAXGOT);
	got[n_got].type = m->type;
	got[n_got].term = m->type == RAFT_INSTALL_SNAPSHOT ? m->install_snapshot.term :
			  m->append_entries.term;
	snprintf(got[n_got].address, sizeof(got[n_got].address), "%s", m->server_address);
	n_got++;
	if (m->type == RAFT_INSTALL_SNAPSHOT) {
		ck_assert_uint_eq(m->install_snapshot.data.len, 100);
		ck_assert_uint_eq(((uint8_t *)m->install_snapshot.data.base)[99], 0xa5);
		ck_assert_uint_eq(m->install_snapshot.conf.n, 1);
		raft_free(m->install_snapshot.data.base);
		raft_configuration_close(&m->install_snapshot.conf);
	}
}

static void setup(void)
{
	memset(&s, 0, sizeof(s));
	memset(got, 0, sizeof(got));
	n_got = 0;
	s.io.start = backend_start;
	raftsvc_hold_wrap(&s);
	ck_assert_int_eq(s.io.start(&s.io, 100, NULL, record), 0);
	ck_assert_ptr_nonnull(hold_cb);
}

static void teardown(void)
{
	raftsvc_hold_drop(&s);
}

/* An InstallSnapshot as libuv hands it over: data and configuration allocated, owned by the
 * receiver; the address belongs to the connection. */
static void send_install(raft_term term, const char *address)
{
	struct raft_message m;
	uint8_t *data = raft_malloc(100);

	ck_assert_ptr_nonnull(data);
	memset(data, 0xa5, 100);
	memset(&m, 0, sizeof(m));
	m.type = RAFT_INSTALL_SNAPSHOT;
	m.server_id = 1;
	m.server_address = address;
	m.install_snapshot.term = term;
	m.install_snapshot.last_index = 64;
	m.install_snapshot.data.base = data;
	m.install_snapshot.data.len = 100;
	raft_configuration_init(&m.install_snapshot.conf);
	ck_assert_int_eq(raft_configuration_add(&m.install_snapshot.conf, 1, "127.0.0.1:7001",
						RAFT_VOTER), 0);
	hold_cb(&s.io, &m);
}

static void send_append(raft_term term)
{
	struct raft_message m;

	memset(&m, 0, sizeof(m));
	m.type = RAFT_APPEND_ENTRIES;
	m.server_id = 1;
	m.server_address = "127.0.0.1:7001";
	m.append_entries.term = term;
	hold_cb(&s.io, &m);
}

START_TEST(test_messages_pass_at_once_when_no_snapshot_is_written)
{
	send_append(3);
	send_install(3, "127.0.0.1:7001");
	ck_assert_int_eq(n_got, 2);
	ck_assert_int_eq(got[0].type, RAFT_APPEND_ENTRIES);
	ck_assert_int_eq(got[1].type, RAFT_INSTALL_SNAPSHOT);
	ck_assert_uint_eq(s.installs_held, 0);
	ck_assert_ptr_null(s.held);
}
END_TEST

/* Held while the flag is set, with a copy of the sender's address; other messages pass; handed
 * over by the first release after the take. */
START_TEST(test_an_install_waits_for_the_snapshot_being_written)
{
	char address[32] = "127.0.0.1:7001";

	s.raft.legacy.snapshot_taking = true;
	send_install(5, address);
	ck_assert_int_eq(n_got, 0);
	ck_assert_uint_eq(s.installs_held, 1);
	send_append(5);
	ck_assert_int_eq(n_got, 1);
	ck_assert_int_eq(got[0].type, RAFT_APPEND_ENTRIES);
	/* The connection goes away and with it libuv's copy of the address. */
	memset(address, 'X', sizeof(address) - 1);
	raftsvc_hold_release(&s);
	ck_assert_int_eq(n_got, 1);

	s.raft.legacy.snapshot_taking = false;
	raftsvc_hold_release(&s);
	ck_assert_int_eq(n_got, 2);
	ck_assert_int_eq(got[1].type, RAFT_INSTALL_SNAPSHOT);
	ck_assert_uint_eq(got[1].term, 5);
	ck_assert_str_eq(got[1].address, "127.0.0.1:7001");
	ck_assert_ptr_null(s.held);

	/* Nothing held: the next one passes at once again. */
	send_install(7, "127.0.0.1:7001");
	ck_assert_int_eq(n_got, 3);
	ck_assert_uint_eq(s.installs_held, 1);
}
END_TEST

/* At most one is kept: a later install replaces the held one (freed: ASan and valgrind check),
 * also one that comes after the take but before the release, so it cannot overtake it. */
START_TEST(test_a_later_install_replaces_the_held_one)
{
	s.raft.legacy.snapshot_taking = true;
	send_install(5, "127.0.0.1:7001");
	send_install(6, "127.0.0.1:7002");
	ck_assert_uint_eq(s.installs_held, 2);
	s.raft.legacy.snapshot_taking = false;
	send_install(7, "127.0.0.1:7003");
	ck_assert_int_eq(n_got, 0);
	ck_assert_uint_eq(s.installs_held, 3);
	raftsvc_hold_release(&s);
	ck_assert_int_eq(n_got, 1);
	ck_assert_uint_eq(got[0].term, 7);
	ck_assert_str_eq(got[0].address, "127.0.0.1:7003");
	raftsvc_hold_release(&s);
	ck_assert_int_eq(n_got, 1);
}
END_TEST

/* Once raft closes nothing more reaches it: the held install is freed, and one arriving
 * meanwhile is freed too. */
START_TEST(test_a_held_install_is_freed_when_raft_closes)
{
	s.raft.legacy.snapshot_taking = true;
	send_install(5, "127.0.0.1:7001");
	s.raft_closing = true;
	raftsvc_hold_release(&s);
	send_install(7, "127.0.0.1:7001");
	ck_assert_int_eq(n_got, 0);
	ck_assert_uint_eq(s.installs_held, 1);
	raftsvc_hold_drop(&s);
	ck_assert_ptr_null(s.held);
	s.raft.legacy.snapshot_taking = false;
	raftsvc_hold_release(&s);
	ck_assert_int_eq(n_got, 0);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("raftsvc_hold");
	TCase *tc = testmain_tcase(su, "hold", setup, teardown, 0);

	tcase_add_test(tc, test_messages_pass_at_once_when_no_snapshot_is_written);
	tcase_add_test(tc, test_an_install_waits_for_the_snapshot_being_written);
	tcase_add_test(tc, test_a_later_install_replaces_the_held_one);
	tcase_add_test(tc, test_a_held_install_is_freed_when_raft_closes);
	return testmain_run(su);
}
