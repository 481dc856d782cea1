/* test_log.c: the logger's line format, level filtering, lazy arguments and value quoting.
 *
 * Output is captured by pointing the stderr target at a temporary file.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "testmain.h"

static FILE *capture;

static void setup(void)
{
	unsetenv("JOURNAL_STREAM");
	log_init("dmlogd");
	capture = tmpfile();
	ck_assert_ptr_nonnull(capture);
	log_set_fd(fileno(capture));
}

static void teardown(void)
{
	log_init(NULL);
	fclose(capture);
}

/* Everything written so far (static buffer). */
static const char *captured(void)
{
	static char buf[8192];
	size_t n;

	rewind(capture);
	n = fread(buf, 1, sizeof(buf) - 1, capture);
	buf[n] = '\0';
	return buf;
}

static int calls;

static int counted(void)
{
	return ++calls;
}

START_TEST(test_plain_line_format)
{
	log_notice("listening addr=%s", "127.0.0.1:7788");
	ck_assert_str_eq(captured(), "dmlogd: notice: listening addr=127.0.0.1:7788\n");
}
END_TEST

START_TEST(test_level_filters_and_skips_argument_evaluation)
{
	calls = 0;
	log_debug("expensive %d", counted());
	log_info("expensive %d", counted());
	ck_assert_int_eq(calls, 0);
	ck_assert_str_eq(captured(), "");

	log_set_level(LOG_LEVEL_DEBUG);
	log_debug("expensive %d", counted());
	ck_assert_int_eq(calls, 1);
	ck_assert_str_eq(captured(), "dmlogd: debug: expensive 1\n");

	log_set_level(LOG_LEVEL_ERR);
	ck_assert(!log_enabled(LOG_LEVEL_WARNING));
	ck_assert(log_enabled(LOG_LEVEL_ERR));
	ck_assert_int_eq(log_get_level(), LOG_LEVEL_ERR);
}
END_TEST

START_TEST(test_levels_are_syslog_priorities)
{
	enum log_level l;

	ck_assert_int_eq(LOG_LEVEL_ERR, 3);
	ck_assert_int_eq(LOG_LEVEL_DEBUG, 7);
	ck_assert_int_eq(log_level_parse("warning", &l), 0);
	ck_assert_int_eq(l, LOG_LEVEL_WARNING);
	ck_assert_int_lt(log_level_parse("verbose", &l), 0);
	ck_assert_str_eq(log_level_name(LOG_LEVEL_INFO), "info");
	ck_assert_str_eq(log_level_name((enum log_level)42), "?");
}
END_TEST

START_TEST(test_journal_stream_gets_priority_prefix)
{
	char env[64];
	struct stat st;

	ck_assert_int_eq(fstat(fileno(capture), &st), 0);
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	log_set_fd(fileno(capture));
	log_err("raft stopped err=%d", -5);
	ck_assert_str_eq(captured(), "<3>err: raft stopped err=-5\n");

	/* Another file is not the journal. */
	setenv("JOURNAL_STREAM", "1:1", 1);
	log_set_fd(fileno(capture));
	log_warning("x");
	ck_assert_str_eq(captured(), "<3>err: raft stopped err=-5\ndmlogd: warning: x\n");
}
END_TEST

START_TEST(test_timestamps_prefix_plain_lines)
{
	const char *out;

	log_set_timestamps(true);
	log_notice("hello");
	out = captured();
	/* 2024-05-01T12:00:00.123Z dmlogd: notice: hello */
	ck_assert_int_eq(strlen(out), 25 + strlen("dmlogd: notice: hello\n"));
	ck_assert_int_eq(out[4], '-');
	ck_assert_int_eq(out[10], 'T');
	ck_assert_int_eq(out[23], 'Z');
	ck_assert_str_eq(out + 25, "dmlogd: notice: hello\n");
}
END_TEST

START_TEST(test_message_stays_one_line)
{
	log_notice("a\nb\rc");
	ck_assert_str_eq(captured(), "dmlogd: notice: a?b?c\n");
}
END_TEST

START_TEST(test_long_message_is_cut)
{
	char big[LOG_LINE_MAX * 2];
	const char *out;
	size_t n;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_notice("%s", big);
	out = captured();
	n = strlen(out);
	ck_assert_int_eq(n, LOG_LINE_MAX - 1);
	ck_assert_str_eq(out + n - 4, "...\n");
}
END_TEST

START_TEST(test_quote_plain_values_unchanged)
{
	ck_assert_str_eq(log_q("node1").s, "node1");
	ck_assert_str_eq(log_q("127.0.0.1:7788").s, "127.0.0.1:7788");
	ck_assert_str_eq(log_q(NULL).s, "-");
}
END_TEST

START_TEST(test_quote_escapes_what_would_break_the_tail)
{
	ck_assert_str_eq(log_q("").s, "\"\"");
	ck_assert_str_eq(log_q("a b").s, "\"a b\"");
	ck_assert_str_eq(log_q("k=v").s, "\"k=v\"");
	ck_assert_str_eq(log_q("say \"hi\"\\").s, "\"say \\\"hi\\\"\\\\\"");
	ck_assert_str_eq(log_q("x\ny\tz\x01").s, "\"x\\ny\\tz\\x01\"");
	ck_assert_str_eq(log_q("\xc3\xa9").s, "\"\\xc3\\xa9\"");
}
END_TEST

START_TEST(test_quote_cuts_long_values)
{
	char big[1000];
	struct log_value v;
	size_t n;

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[0] = ' ';
	v = log_q(big);
	n = strlen(v.s);
	ck_assert_int_lt(n, LOG_VALUE_MAX);
	ck_assert_str_eq(v.s + n - 4, "...\"");
	ck_assert_int_eq(v.s[0], '"');
}
END_TEST

START_TEST(test_quote_in_a_log_line)
{
	log_notice("session opened node=%s cn=%s", log_q("node1").s, log_q("evil node=x").s);
	ck_assert_str_eq(captured(),
			 "dmlogd: notice: session opened node=node1 cn=\"evil node=x\"\n");
}
END_TEST

START_TEST(test_short_uuid_is_last_8)
{
	ck_assert_str_eq(log_short_uuid("LVM-abcdef0123456789a1b2c3d4"), "a1b2c3d4");
	ck_assert_str_eq(log_short_uuid("abc"), "abc");
	ck_assert_str_eq(log_short_uuid("12345678"), "12345678");
	ck_assert_str_eq(log_short_uuid(NULL), "-");
}
END_TEST

START_TEST(test_syslog_target_switches_and_back)
{
	log_set_target(LOG_TARGET_SYSLOG);
	ck_assert_int_eq(log_get_target(), LOG_TARGET_SYSLOG);
	log_debug("not emitted");
	log_notice("unit test of the syslog target (test_srvinfra_log)");
	ck_assert_str_eq(captured(), "");
	log_set_target(LOG_TARGET_STDERR);
	log_notice("back");
	ck_assert_str_eq(captured(), "dmlogd: notice: back\n");
}
END_TEST

START_TEST(test_ident_and_errno_preserved)
{
	log_init("dmlogd-test");
	log_set_fd(fileno(capture));
	errno = 42;
	log_notice("x");
	ck_assert_int_eq(errno, 42);
	ck_assert_str_eq(captured(), "dmlogd-test: notice: x\n");
}
END_TEST

static Suite *log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = testmain_tcase(s, "log", setup, teardown, 0);

	tcase_add_test(tc, test_plain_line_format);
	tcase_add_test(tc, test_level_filters_and_skips_argument_evaluation);
	tcase_add_test(tc, test_levels_are_syslog_priorities);
	tcase_add_test(tc, test_journal_stream_gets_priority_prefix);
	tcase_add_test(tc, test_timestamps_prefix_plain_lines);
	tcase_add_test(tc, test_message_stays_one_line);
	tcase_add_test(tc, test_long_message_is_cut);
	tcase_add_test(tc, test_quote_plain_values_unchanged);
	tcase_add_test(tc, test_quote_escapes_what_would_break_the_tail);
	tcase_add_test(tc, test_quote_cuts_long_values);
	tcase_add_test(tc, test_quote_in_a_log_line);
	tcase_add_test(tc, test_short_uuid_is_last_8);
	tcase_add_test(tc, test_syslog_target_switches_and_back);
	tcase_add_test(tc, test_ident_and_errno_preserved);
	return s;
}

int main(void)
{
	return testmain_run(log_suite());
}
