/* test_bridge_config.c: dmlog-bridge's option table, its rules, the node certificate check and
 * the shipped example file (deploy/dmlog-bridge.ini), which must be what the table generates.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridge_config.h"
#include "log.h"
#include "testcerts.h"
#include "testdir.h"
#include "testmain.h"

#define EXAMPLE_INI DMLOG_SOURCE_DIR "/deploy/dmlog-bridge.ini"

static char dir[64], ini[128], certs[128];

static void setup(void)
{
	ck_assert_int_eq(testdir_make(dir, sizeof(dir), "bcfg"), 0);
	snprintf(ini, sizeof(ini), "%s/dmlog-bridge.ini", dir);
	snprintf(certs, sizeof(certs), "%s/tls", dir);
}

static void teardown(void)
{
	ck_assert_int_eq(testdir_remove(dir), 0);
}

static void expect_bad(const char *name, const char *value, const char *what)
{
	struct bridge_config cfg;
	char err[512];

	ck_assert_int_eq(bridge_config_init(&cfg), 0);
	ck_assert_int_eq(bridge_config_set(&cfg, name, value, err, sizeof(err)), -EINVAL);
	if (what != NULL)
		ck_assert_str_eq(err, what);
	bridge_config_free(&cfg);
}

START_TEST(defaults_and_table)
{
	struct bridge_config cfg;
	char err[256];

	ck_assert_int_eq(bridge_config_init(&cfg), 0);
	ck_assert_str_eq(cfg.servers, "127.0.0.1:7788");
	ck_assert_str_eq(cfg.cert_file, "/etc/dmlog/tls/node.crt");
	ck_assert_str_eq(cfg.verify_name, "");
	ck_assert_str_eq(cfg.transport, "netlink");
	ck_assert_int_eq(cfg.no_server_policy, RELAY_POLICY_WAIT);
	ck_assert_int_eq(cfg.fail_after_ms, 10000);
	ck_assert_int_eq(cfg.request_expiry_ms, 20000);
	ck_assert_int_eq(cfg.keepalive_ms, 2000);
	ck_assert_int_eq(cfg.max_outstanding, 4096);
	ck_assert_int_eq(cfg.rcvbuf, 8 * 1024 * 1024);
	ck_assert_str_eq(cfg.ready_file, "");
	ck_assert_int_eq(cfg.log_level, LOG_LEVEL_NOTICE);
	ck_assert_int_eq(bridge_config_validate(&cfg, err, sizeof(err)), 0);
	for (int k = 0; k < BRIDGE__COUNT; k++) {
		const struct optab_option *o = bridge_config_option((enum bridge_key)k);

		ck_assert_ptr_nonnull(o);
		ck_assert_msg(o->doc != NULL && strchr(o->doc, '\n') == NULL, "%s doc", o->name);
		ck_assert_ptr_nonnull(o->metavar);
	}
	ck_assert_ptr_null(bridge_config_option(BRIDGE__COUNT));
	bridge_config_free(&cfg);
}
END_TEST

START_TEST(values_and_rules)
{
	struct bridge_config cfg;
	struct bridge_servers s;
	char err[512];

	ck_assert_int_eq(bridge_config_servers("10.0.0.1:7788, [::1]:7790 ,peer3:1", &s, err,
					       sizeof(err)),
			 0);
	ck_assert_uint_eq(s.count, 3);
	ck_assert_str_eq(s.addr[0], "10.0.0.1:7788");
	ck_assert_str_eq(s.addr[1], "[::1]:7790");
	ck_assert_str_eq(s.addr[2], "peer3:1");
	ck_assert_int_eq(bridge_config_servers("a:1,,b:2", &s, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "empty entry in the servers list");
	ck_assert_int_eq(bridge_config_servers("a:1,b:2,c:3,d:4,e:5,f:6,g:7,h:8,i:9", &s, err,
					       sizeof(err)),
			 -EINVAL);
	ck_assert_str_eq(err, "more than 8 servers");
	expect_bad("servers", "", "servers: empty entry in the servers list");
	expect_bad("servers", "localhost",
		   "servers: 'localhost' is not HOST:PORT or [IPv6]:PORT with a port of 1-65535");
	expect_bad("transport", "dgram:", NULL);
	expect_bad("transport", "udp",
		   "transport: 'udp' is not netlink or dgram:PATH (PATH of 1-107 bytes)");
	expect_bad("no_server_policy", "retry",
		   "no_server_policy: 'retry' is not one of wait, fail");
	expect_bad("fail_after", "50ms", "fail_after: 50ms is out of range 100ms..1h");
	expect_bad("max_outstanding", "65537", "max_outstanding: 65537 is out of range 1..65536");
	expect_bad("rcvbuf", "1K", "rcvbuf: 1K is out of range 64KiB..1GiB");

	ck_assert_int_eq(bridge_config_init(&cfg), 0);
	ck_assert_int_eq(bridge_config_set(&cfg, "transport", "dgram:/run/k.sock", err,
					   sizeof(err)),
			 0);
	ck_assert_int_eq(bridge_config_set(&cfg, "reconnect-min", "3s", err, sizeof(err)), 0);
	ck_assert_int_eq(bridge_config_validate(&cfg, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "reconnect_min (3000ms) must not exceed reconnect_max (2000ms)");
	bridge_config_free(&cfg);
}
END_TEST

START_TEST(relay_options_come_from_the_settings)
{
	struct bridge_config cfg;
	struct bridge_servers s;
	struct relay_options o;
	char err[512];

	ck_assert_int_eq(bridge_config_init(&cfg), 0);
	ck_assert_int_eq(bridge_config_set(&cfg, "servers", "127.0.0.1:1,127.0.0.1:2", err,
					   sizeof(err)),
			 0);
	ck_assert_int_eq(bridge_config_set(&cfg, "no_server_policy", "fail", err, sizeof(err)), 0);
	ck_assert_int_eq(bridge_config_set(&cfg, "fail_after", "1s", err, sizeof(err)), 0);
	ck_assert_int_eq(bridge_config_relay_options(&cfg, &s, &o, err, sizeof(err)), 0);
	ck_assert_str_eq(o.client.servers[0], "127.0.0.1:1");
	ck_assert_str_eq(o.client.servers[1], "127.0.0.1:2");
	ck_assert_ptr_null(o.client.servers[2]);
	ck_assert_ptr_null(o.client.verify_name);
	ck_assert_str_eq(o.client.cert_file, "/etc/dmlog/tls/node.crt");
	ck_assert_uint_eq(o.client.reconnect_min_ms, 100);
	ck_assert_uint_eq(o.client.reconnect_max_ms, 2000);
	ck_assert_int_eq(o.policy, RELAY_POLICY_FAIL);
	ck_assert_uint_eq(o.fail_after_ms, 1000);
	ck_assert_uint_eq(o.expire_after_ms, 20000);
	ck_assert_uint_eq(o.max_outstanding, 4096);
	ck_assert_uint_eq(o.keepalive_ms, 2000);
	bridge_config_free(&cfg);
}
END_TEST

START_TEST(command_line_file_and_reload)
{
	struct bridge_config cfg;
	enum optab_action action;
	uint64_t changed, ignored;
	char err[512], names[256];
	char *argv[] = {"dmlog-bridge", "--config", ini, "--transport", "dgram:/tmp/x.sock",
			"--keepalive=500ms", NULL};
	char *bad[] = {"dmlog-bridge", "--config", ini, "--servrs=a:1", NULL};

	testdir_write(ini,
		      "[dmlog-bridge]\nservers = 10.1.1.1:7788 # the leader\nlog_level = info\n");
	ck_assert_msg(bridge_config_from_args(&cfg, 6, argv, &action, err, sizeof(err)) == 0, "%s",
		      err);
	ck_assert_int_eq(action, OPTAB_ACTION_RUN);
	ck_assert_str_eq(cfg.servers, "10.1.1.1:7788");
	ck_assert_str_eq(cfg.transport, "dgram:/tmp/x.sock");
	ck_assert_int_eq(cfg.keepalive_ms, 500);
	ck_assert_int_eq(cfg.log_level, LOG_LEVEL_INFO);
	ck_assert_str_eq(cfg.src.path, ini);

	testdir_write(ini, "servers = 10.1.1.2:7788\nrcvbuf = 16M\nlog_level = debug\n");
	ck_assert_int_eq(bridge_config_reload(&cfg, &changed, &ignored, err, sizeof(err)), 0);
	bridge_config_mask_names(changed, names, sizeof(names));
	ck_assert_str_eq(names, "servers,log_level");
	bridge_config_mask_names(ignored, names, sizeof(names));
	ck_assert_str_eq(names, "rcvbuf");
	ck_assert_str_eq(cfg.servers, "10.1.1.2:7788");
	ck_assert_int_eq(cfg.rcvbuf, 8 * 1024 * 1024);
	ck_assert_str_eq(cfg.transport, "dgram:/tmp/x.sock"); /* the command line still wins */

	testdir_write(ini, "[dmlogd]\n");
	ck_assert_int_eq(bridge_config_reload(&cfg, &changed, &ignored, err, sizeof(err)),
			 -EINVAL);
	ck_assert_msg(strstr(err, ":1: unknown section [dmlogd] (only [dmlog-bridge])") != NULL,
		      "%s", err);
	bridge_config_free(&cfg);

	ck_assert_int_eq(bridge_config_from_args(&cfg, 4, bad, &action, err, sizeof(err)),
			 -EINVAL);
	ck_assert_str_eq(err, "unknown option '--servrs' (did you mean '--servers'?)");
	bridge_config_free(&cfg);
}
END_TEST

START_TEST(node_certificate_is_checked)
{
	char path[256], name[64], err[512];
	struct bridge_config cfg;
	FILE *out = tmpfile(), *errout = tmpfile();

	ck_assert_int_eq(testcerts_make(certs, "dev", NULL), 0);
	snprintf(path, sizeof(path), "%s/node-node1.crt", certs);
	ck_assert_int_eq(bridge_config_node_identity(path, name, sizeof(name), err, sizeof(err)),
			 0);
	ck_assert_str_eq(name, "node1");
	snprintf(path, sizeof(path), "%s/peer-dmlogd1.crt", certs);
	ck_assert_int_eq(bridge_config_node_identity(path, name, sizeof(name), err, sizeof(err)),
			 -EACCES);
	ck_assert_ptr_nonnull(strstr(err, "is not a node certificate"));
	snprintf(path, sizeof(path), "%s/nothing.crt", certs);
	ck_assert_int_eq(bridge_config_node_identity(path, name, sizeof(name), err, sizeof(err)),
			 -ENOENT);

	/* --check-config: "config OK" with the node's files, exit 1 with a peer's */
	ck_assert_int_eq(bridge_config_init(&cfg), 0);
	snprintf(path, sizeof(path), "%s/ca.crt", certs);
	ck_assert_int_eq(bridge_config_set(&cfg, "ca_file", path, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/node-node1.crt", certs);
	ck_assert_int_eq(bridge_config_set(&cfg, "cert_file", path, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/node-node1.key", certs);
	ck_assert_int_eq(bridge_config_set(&cfg, "key_file", path, err, sizeof(err)), 0);
	ck_assert_int_eq(bridge_config_run_action(OPTAB_ACTION_CHECK, 0, "", &cfg, "dmlog-bridge",
						  out, errout),
			 0);
	snprintf(path, sizeof(path), "%s/admin-admin.crt", certs);
	ck_assert_int_eq(bridge_config_set(&cfg, "cert_file", path, err, sizeof(err)), 0);
	ck_assert_int_eq(bridge_config_run_action(OPTAB_ACTION_CHECK, 0, "", &cfg, "dmlog-bridge",
						  out, errout),
			 1);
	ck_assert_int_eq(bridge_config_run_action(OPTAB_ACTION_RUN, -EINVAL, "bad",
						  &cfg, "dmlog-bridge", out, errout),
			 BRIDGE_EXIT_USAGE);
	fclose(out);
	fclose(errout);
	bridge_config_free(&cfg);
}
END_TEST

START_TEST(example_file_is_what_the_table_generates)
{
	char *text = testdir_read(EXAMPLE_INI);
	char *gen = NULL, *p;
	size_t len = 0;
	FILE *f = open_memstream(&gen, &len);
	struct bridge_config cfg, def;
	char err[512];

	ck_assert_ptr_nonnull(f);
	bridge_config_print_default(f);
	fclose(f);
	ck_assert_msg(strcmp(text, gen) == 0,
		      "deploy/dmlog-bridge.ini is out of date: regenerate it with "
		      "'dmlog-bridge --print-default-config > deploy/dmlog-bridge.ini'");
	/* uncommented, every setting gives its default */
	for (p = text; (p = strstr(p, "\n#")) != NULL; p++) {
		char key[64];

		if (sscanf(p + 2, "%63[a-z_] =", key) == 1)
			p[1] = ' ';
	}
	testdir_write(ini, text);
	ck_assert_int_eq(bridge_config_init(&cfg), 0);
	ck_assert_int_eq(bridge_config_init(&def), 0);
	ck_assert_msg(bridge_config_load_file(&cfg, ini, err, sizeof(err)) == 0, "%s", err);
	for (int k = 0; k < BRIDGE__COUNT; k++)
		ck_assert_msg(bridge_config_same(&cfg, &def, (enum bridge_key)k), "%s differs",
			      bridge_config_option((enum bridge_key)k)->name);
	free(text);
	free(gen);
	bridge_config_free(&cfg);
	bridge_config_free(&def);
}
END_TEST

static Suite *bridge_config_suite(void)
{
	Suite *s = suite_create("bridge_config");
	TCase *tc = testmain_tcase(s, "config", setup, teardown, 0);

	tcase_add_test(tc, defaults_and_table);
	tcase_add_test(tc, values_and_rules);
	tcase_add_test(tc, relay_options_come_from_the_settings);
	tcase_add_test(tc, command_line_file_and_reload);
	tcase_add_test(tc, node_certificate_is_checked);
	tcase_add_test(tc, example_file_is_what_the_table_generates);
	return s;
}

int main(void)
{
	return testmain_run(bridge_config_suite());
}
