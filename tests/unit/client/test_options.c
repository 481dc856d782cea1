/* test_options.c: validation, defaults and address parsing of struct dmlog_options (options.c). */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "testmain.h"

static struct dmlog_options base_options(void)
{
	struct dmlog_options in;

	memset(&in, 0, sizeof(in));
	in.servers[0] = "10.0.0.1:7788";
	in.ca_file = "ca.crt";
	in.cert_file = "node.crt";
	in.key_file = "node.key";
	return in;
}

START_TEST(defaults_fill_every_zero_field)
{
	struct dmlog_options in = base_options();
	struct options o;
	char err[DMLOG_ERRMSG_SIZE];

	ck_assert_int_eq(options_load(&o, &in, err, sizeof(err)), 0);
	ck_assert_uint_eq(o.server_count, 1);
	ck_assert_uint_eq(o.connect_timeout_ms, 5000);
	ck_assert_uint_eq(o.request_timeout_ms, 30000);
	ck_assert_uint_eq(o.reconnect_min_ms, 100);
	ck_assert_uint_eq(o.reconnect_max_ms, 5000);
	ck_assert_uint_eq(o.max_in_flight, 1024);
	ck_assert_uint_eq(o.max_redirects, 32);
	ck_assert_str_eq(o.client_name, "libdmlog/" DMLOG_VERSION_STRING);
	ck_assert_ptr_null(o.verify_name);
	ck_assert_str_eq(o.servers[0].host, "10.0.0.1");
	ck_assert_str_eq(o.servers[0].port, "7788");
	ck_assert_str_eq(o.servers[0].text, "10.0.0.1:7788");
	options_free(&o);
}
END_TEST

START_TEST(strings_are_copied)
{
	struct dmlog_options in = base_options();
	struct options o;
	char err[DMLOG_ERRMSG_SIZE];
	char name[] = "bridge";

	in.client_name = name;
	in.verify_name = "dmlogd.cluster";
	in.request_timeout_ms = DMLOG_TIMEOUT_NONE;
	ck_assert_int_eq(options_load(&o, &in, err, sizeof(err)), 0);
	name[0] = 'X';
	ck_assert_str_eq(o.client_name, "bridge");
	ck_assert_str_eq(o.verify_name, "dmlogd.cluster");
	ck_assert_uint_eq(o.request_timeout_ms, DMLOG_TIMEOUT_NONE);
	options_free(&o);
}
END_TEST

START_TEST(server_list_ends_at_the_first_null)
{
	struct dmlog_options in = base_options();
	struct options o;
	char err[DMLOG_ERRMSG_SIZE];

	for (int i = 0; i < DMLOG_MAX_SERVERS; i++)
		in.servers[i] = "h:1";
	ck_assert_int_eq(options_load(&o, &in, err, sizeof(err)), 0);
	ck_assert_uint_eq(o.server_count, DMLOG_MAX_SERVERS);
	options_free(&o);
	in.servers[3] = NULL;
	ck_assert_int_eq(options_load(&o, &in, err, sizeof(err)), 0);
	ck_assert_uint_eq(o.server_count, 3);
	options_free(&o);
}
END_TEST

START_TEST(addresses_parse_or_are_refused)
{
	struct server_addr a;

	ck_assert_int_eq(options_parse_address("[fe80::1]:7788", &a), 0);
	ck_assert_str_eq(a.host, "fe80::1");
	ck_assert_str_eq(a.text, "[fe80::1]:7788");
	ck_assert_int_eq(options_parse_address("dmlogd-2.example:65535", &a), 0);
	ck_assert_str_eq(a.host, "dmlogd-2.example");
	ck_assert_str_eq(a.port, "65535");
	ck_assert_int_eq(options_parse_address("host:007", &a), 0);
	ck_assert_str_eq(a.port, "7");
	ck_assert_int_eq(options_parse_address("fe80::1:7788", &a), -EINVAL);
	ck_assert_int_eq(options_parse_address("host", &a), -EINVAL);
	ck_assert_int_eq(options_parse_address(":7788", &a), -EINVAL);
	ck_assert_int_eq(options_parse_address("host:", &a), -EINVAL);
	ck_assert_int_eq(options_parse_address("host:0", &a), -EINVAL);
	ck_assert_int_eq(options_parse_address("host:65536", &a), -EINVAL);
	ck_assert_int_eq(options_parse_address("host:77a", &a), -EINVAL);
	ck_assert_int_eq(options_parse_address("[::1]7788", &a), -EINVAL);
	ck_assert_int_eq(options_parse_address(NULL, &a), -EINVAL);
}
END_TEST

START_TEST(bounds_are_checked)
{
	struct dmlog_options in = base_options();
	struct options o;
	char err[DMLOG_ERRMSG_SIZE];

	in.max_in_flight = 65537;
	ck_assert_int_eq(options_load(&o, &in, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "options: max_in_flight 65537 is over the limit of 65536");
	in = base_options();
	in.key_file = "";
	ck_assert_int_eq(options_load(&o, &in, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "options: key_file is required");
	ck_assert_int_eq(options_load(&o, NULL, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "options: none given");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("client_options");
	TCase *t = tcase_create("options");

	tcase_add_test(t, defaults_fill_every_zero_field);
	tcase_add_test(t, strings_are_copied);
	tcase_add_test(t, server_list_ends_at_the_first_null);
	tcase_add_test(t, addresses_parse_or_are_refused);
	tcase_add_test(t, bounds_are_checked);
	suite_add_tcase(s, t);
	return testmain_run(s);
}
