/* test_config.c: the option table, the INI parser, the command line, reload and the shipped
 * example file (deploy/dmlogd.ini), which must match the table exactly.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "testcerts.h"
#include "testdir.h"
#include "testmain.h"

#define EXAMPLE_INI DMLOG_SOURCE_DIR "/deploy/dmlogd.ini"

static char dir[64];
static char ini[128];

static void setup(void)
{
	ck_assert_int_eq(testdir_make(dir, sizeof(dir), "config"), 0);
	snprintf(ini, sizeof(ini), "%s/dmlogd.ini", dir);
}

static void teardown(void)
{
	ck_assert_int_eq(testdir_remove(dir), 0);
}

/* Loads text as a file on top of the defaults; returns the result, error in err. */
static int load_text(struct config *cfg, const char *text, char *err, size_t len)
{
	ck_assert_int_eq(config_init(cfg), 0);
	testdir_write(ini, text);
	return config_load_file(cfg, ini, err, len);
}

/* Expects text to fail with "INI:line: what". */
static void expect_file_error(const char *text, unsigned line, const char *what)
{
	struct config cfg;
	char err[512], want[512];

	ck_assert_int_eq(load_text(&cfg, text, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:%u: %s", ini, line, what);
	ck_assert_str_eq(err, want);
	config_free(&cfg);
}

/* Expects config_set(name, value) to fail with err equal to what (when not NULL). */
static void expect_bad(const char *name, const char *value, const char *what)
{
	struct config cfg;
	char err[512], before[512], after[512];
	enum config_key key;

	ck_assert_int_eq(config_init(&cfg), 0);
	ck_assert_ptr_nonnull(config_option_find(name, &key));
	config_format(&cfg, key, before, sizeof(before));
	ck_assert_int_eq(config_set(&cfg, name, value, err, sizeof(err)), -EINVAL);
	if (what != NULL)
		ck_assert_str_eq(err, what);
	config_format(&cfg, key, after, sizeof(after));
	ck_assert_str_eq(before, after);
	config_free(&cfg);
}

static int64_t set_num(const char *name, const char *value)
{
	struct config cfg;
	const struct config_option *o;
	char err[512];
	int64_t v;

	ck_assert_int_eq(config_init(&cfg), 0);
	o = config_option_find(name, NULL);
	ck_assert_msg(config_set(&cfg, name, value, err, sizeof(err)) == 0, "%s", err);
	memcpy(&v, (const char *)&cfg + o->offset, sizeof(v));
	config_free(&cfg);
	return v;
}

/* ---- the table ---- */

START_TEST(test_defaults)
{
	struct config cfg;

	ck_assert_int_eq(config_init(&cfg), 0);
	ck_assert_str_eq(cfg.listen, "127.0.0.1:7788");
	ck_assert_str_eq(cfg.id, "dmlogd1");
	ck_assert_int_eq(cfg.raft_id, 1);
	ck_assert_str_eq(cfg.raft_address, "127.0.0.1:7789");
	ck_assert_str_eq(cfg.peers, "");
	ck_assert_str_eq(cfg.state_dir, "/var/lib/dmlog");
	ck_assert_str_eq(cfg.ca_file, "/etc/dmlog/tls/ca.crt");
	ck_assert_str_eq(cfg.cert_file, "/etc/dmlog/tls/peer-dmlogd1.crt");
	ck_assert_str_eq(cfg.key_file, "/etc/dmlog/tls/peer-dmlogd1.key");
	ck_assert_int_eq(cfg.max_connections, 1024);
	ck_assert_int_eq(cfg.max_frame, 1024 * 1024);
	ck_assert_int_eq(cfg.write_high_watermark, 4 * 1024 * 1024);
	ck_assert_int_eq(cfg.idle_timeout_ms, 60000); /* "1m" */
	ck_assert_int_eq(cfg.node_lease_ms, 10000);
	ck_assert_int_eq(cfg.dedup_window, 4096);
	ck_assert_int_eq(cfg.election_timeout_ms, 300);
	ck_assert_int_eq(cfg.heartbeat_ms, 30);
	ck_assert_int_eq(cfg.snapshot_threshold, 16384);
	ck_assert_int_eq(cfg.snapshot_trailing, 4096);
	ck_assert_int_eq(cfg.log_level, LOG_LEVEL_NOTICE);
	ck_assert_int_eq(cfg.log_target, LOG_TARGET_STDERR);
	ck_assert(!cfg.log_timestamps);
	ck_assert_int_eq(config_validate(&cfg, (char[256]){0}, 256), 0);
	config_free(&cfg);
	config_free(&cfg); /* zeroed: fine */
}
END_TEST

START_TEST(test_table_rows_are_complete_and_consistent)
{
	struct config cfg;
	char v[512];

	ck_assert_int_eq(config_init(&cfg), 0);
	for (int k = 0; k < CONFIG__COUNT; k++) {
		const struct config_option *o = config_option_get((enum config_key)k);
		enum config_key found;

		ck_assert_ptr_nonnull(o->name);
		ck_assert_msg(o->doc != NULL && o->doc[0] != '\0', "%s has no doc", o->name);
		ck_assert_ptr_nonnull(o->metavar);
		ck_assert_ptr_nonnull(o->def);
		ck_assert_ptr_eq(config_option_find(o->name, &found), o);
		ck_assert_int_eq(found, k);
		/* The default is spelled the way the value is printed. */
		config_format(&cfg, (enum config_key)k, v, sizeof(v));
		ck_assert_msg(strcmp(v, o->def) == 0, "%s: default '%s' prints as '%s'", o->name,
			      o->def, v);
		ck_assert_msg(strchr(o->doc, '\n') == NULL, "%s: doc must be one line", o->name);
	}
	ck_assert_ptr_null(config_option_get(CONFIG__COUNT));
	ck_assert_ptr_null(config_option_find("nope", NULL));
	ck_assert_ptr_nonnull(config_option_find("max-frame", NULL));
	ck_assert(CONFIG__COUNT <= 64); /* reload masks are 64 bits */
	ck_assert(config_option_get(CONFIG_LOG_LEVEL)->reloadable);
	ck_assert(!config_option_get(CONFIG_LISTEN)->reloadable);
	config_free(&cfg);
}
END_TEST

/* ---- values ---- */

START_TEST(test_duration_values)
{
	ck_assert_int_eq(set_num("election_timeout", "300ms"), 300);
	ck_assert_int_eq(set_num("election_timeout", "250"), 250);
	ck_assert_int_eq(set_num("idle_timeout", "10s"), 10000);
	ck_assert_int_eq(set_num("idle_timeout", "5m"), 300000);
	ck_assert_int_eq(set_num("idle_timeout", "5min"), 300000);
	ck_assert_int_eq(set_num("idle_timeout", "2H"), 7200000);
	expect_bad("idle_timeout", "1.5s",
		   "idle_timeout: '1.5s' is not a duration (like 300ms, 10s, 5m, 1h)");
	expect_bad("idle_timeout", "", NULL);
	expect_bad("idle_timeout", "-1s", NULL);
	expect_bad("idle_timeout", "10 s", NULL);
	expect_bad("idle_timeout", "60", "idle_timeout: 60 is out of range 1s..24h");
	expect_bad("heartbeat", "99999999999999999999h", NULL);
	expect_bad("heartbeat", "9999999999999999h",
		   "heartbeat: 9999999999999999h is out of range 5ms..10s");
}
END_TEST

START_TEST(test_size_values)
{
	ck_assert_int_eq(set_num("max_frame", "4096"), 4096);
	ck_assert_int_eq(set_num("max_frame", "64K"), 65536);
	ck_assert_int_eq(set_num("max_frame", "64KiB"), 65536);
	ck_assert_int_eq(set_num("max_frame", "2m"), 2 * 1024 * 1024);
	ck_assert_int_eq(set_num("write_high_watermark", "1G"), 1024 * 1024 * 1024);
	ck_assert_int_eq(set_num("max_frame", "8192b"), 8192);
	expect_bad("max_frame", "1K", "max_frame: 1K is out of range 4KiB..64MiB");
	expect_bad("max_frame", "65M", "max_frame: 65M is out of range 4KiB..64MiB");
	expect_bad("max_frame", "1MB", "max_frame: '1MB' is not a size (like 4096, 64K, 1M, 2G)");
	expect_bad("max_frame", "0x1000", NULL);
}
END_TEST

START_TEST(test_int_bool_enum_values)
{
	struct config cfg;
	char err[256];

	ck_assert_int_eq(set_num("max_connections", "1"), 1);
	ck_assert_int_eq(set_num("raft_id", "4294967295"), INT64_C(4294967295));
	expect_bad("raft_id", "0", "raft_id: 0 is out of range 1..4294967295");
	expect_bad("max_connections", "12abc", "max_connections: '12abc' is not a whole number");
	expect_bad("max_connections", "+5", NULL);
	expect_bad("max_connections", "99999999999999999999999", NULL);

	ck_assert_int_eq(config_init(&cfg), 0);
	for (const char *const *y = (const char *const[]){"yes", "true", "on", "1", "YES", NULL};
	     *y != NULL; y++) {
		cfg.log_timestamps = false;
		ck_assert_int_eq(config_set(&cfg, "log_timestamps", *y, err, sizeof(err)), 0);
		ck_assert(cfg.log_timestamps);
	}
	for (const char *const *n = (const char *const[]){"no", "false", "off", "0", NULL};
	     *n != NULL; n++) {
		cfg.log_timestamps = true;
		ck_assert_int_eq(config_set(&cfg, "log_timestamps", *n, err, sizeof(err)), 0);
		ck_assert(!cfg.log_timestamps);
	}
	ck_assert_int_eq(config_set(&cfg, "log_level", "debug", err, sizeof(err)), 0);
	ck_assert_int_eq(cfg.log_level, LOG_LEVEL_DEBUG);
	ck_assert_int_eq(config_set(&cfg, "log_target", "syslog", err, sizeof(err)), 0);
	ck_assert_int_eq(cfg.log_target, LOG_TARGET_SYSLOG);
	config_free(&cfg);
	expect_bad("log_timestamps", "maybe", "log_timestamps: 'maybe' is not yes or no");
	expect_bad("log_level", "verbose",
		   "log_level: 'verbose' is not one of err, warning, notice, info, debug");
	expect_bad("log_target", "file", "log_target: 'file' is not one of stderr, syslog");
}
END_TEST

START_TEST(test_string_and_name_values)
{
	expect_bad("state_dir", "", "state_dir: must not be empty");
	expect_bad("state_dir", "/a\tb", "state_dir: control character in value");
	expect_bad("id", "bad name",
		   "id: 'bad name' is not 1-63 of A-Z a-z 0-9 . _ - starting with a letter or "
		   "digit");
	expect_bad("id", "", NULL);
	{
		struct config cfg;
		char err[256];

		ck_assert_int_eq(config_init(&cfg), 0);
		ck_assert_int_eq(config_set(&cfg, "nosuch", "1", err, sizeof(err)), -EINVAL);
		ck_assert_str_eq(err, "unknown key 'nosuch'");
		ck_assert_int_eq(config_set(&cfg, "max_frme", "1M", err, sizeof(err)), -EINVAL);
		ck_assert_str_eq(err, "unknown key 'max_frme' (did you mean 'max_frame'?)");
		config_free(&cfg);
	}
}
END_TEST

START_TEST(test_addresses)
{
	char host[256], err[256];
	uint16_t port;

	ck_assert_int_eq(config_split_address("127.0.0.1:7788", host, sizeof(host), &port, err,
					      sizeof(err)),
			 0);
	ck_assert_str_eq(host, "127.0.0.1");
	ck_assert_int_eq(port, 7788);
	ck_assert_int_eq(config_split_address("[::1]:1", host, sizeof(host), &port, err,
					      sizeof(err)),
			 0);
	ck_assert_str_eq(host, "::1");
	ck_assert_int_eq(port, 1);
	ck_assert_int_eq(config_split_address("peer-2.example:65535", host, sizeof(host), &port,
					      err, sizeof(err)),
			 0);
	ck_assert_str_eq(host, "peer-2.example");
	ck_assert_int_eq(config_split_address("127.0.0.1:7788", host, 4, &port, err, sizeof(err)),
			 -EINVAL);

	static const char *const bad[] = {"127.0.0.1", ":80",	  "h:0",	  "h:65536",
					  "[::1]7788", "a b:1",	  "::1:80",	  "[zz]:80",
					  "h:80x",     "-h:80",	  "h:",		  ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(config_split_address(bad[i], host, sizeof(host), &port, err,
						   sizeof(err)) == -EINVAL,
			      "'%s' accepted", bad[i]);
	}
	expect_bad("listen", "localhost",
		   "listen: 'localhost' is not HOST:PORT or [IPv6]:PORT with a port of 1-65535");
}
END_TEST

START_TEST(test_peers_list)
{
	struct config_peer p[CONFIG_PEERS_MAX];
	char err[256];
	size_t n;

	ck_assert_int_eq(config_parse_peers("", p, CONFIG_PEERS_MAX, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(config_parse_peers("  ", p, CONFIG_PEERS_MAX, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(config_parse_peers("2@10.0.0.2:7789, 3@[::1]:7790 ,4@peer4:1", p,
					    CONFIG_PEERS_MAX, &n, err, sizeof(err)),
			 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(p[0].raft_id, 2);
	ck_assert_str_eq(p[0].host, "10.0.0.2");
	ck_assert_int_eq(p[0].port, 7789);
	ck_assert_str_eq(p[0].address, "10.0.0.2:7789");
	ck_assert_str_eq(p[1].host, "::1");
	ck_assert_str_eq(p[1].address, "[::1]:7790");
	ck_assert_uint_eq(p[2].raft_id, 4);

	ck_assert_int_eq(config_parse_peers("x@h:1", p, CONFIG_PEERS_MAX, &n, err, sizeof(err)),
			 -EINVAL);
	ck_assert_str_eq(err, "peer 'x@h:1' is not RAFT_ID@HOST:PORT");
	ck_assert_int_eq(config_parse_peers("2@h", p, CONFIG_PEERS_MAX, &n, err, sizeof(err)),
			 -EINVAL);
	ck_assert_int_eq(config_parse_peers("0@h:1", p, CONFIG_PEERS_MAX, &n, err, sizeof(err)),
			 -EINVAL);
	ck_assert_int_eq(config_parse_peers("2@h:1,,3@h:2", p, CONFIG_PEERS_MAX, &n, err,
					    sizeof(err)),
			 -EINVAL);
	ck_assert_str_eq(err, "empty entry in the peers list");
	ck_assert_int_eq(config_parse_peers("2@h:1,", p, CONFIG_PEERS_MAX, &n, err, sizeof(err)),
			 -EINVAL);
	ck_assert_int_eq(config_parse_peers("2@h:1,2@h:2", p, CONFIG_PEERS_MAX, &n, err,
					    sizeof(err)),
			 -EINVAL);
	ck_assert_str_eq(err, "raft id 2 appears twice in peers");
	ck_assert_int_eq(config_parse_peers("2@h:1,3@h:2,4@h:3", p, 2, &n, err, sizeof(err)),
			 -EINVAL);
	ck_assert_str_eq(err, "more than 2 peers");
}
END_TEST

START_TEST(test_rules_between_options)
{
	struct config cfg;
	char err[256];

	ck_assert_int_eq(config_init(&cfg), 0);
	ck_assert_int_eq(config_set(&cfg, "heartbeat", "300ms", err, sizeof(err)), 0);
	ck_assert_int_eq(config_validate(&cfg, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "heartbeat (300ms) must be below election_timeout (300ms)");
	config_free(&cfg);

	ck_assert_int_eq(config_init(&cfg), 0);
	ck_assert_int_eq(config_set(&cfg, "raft_address", "127.0.0.1:7788", err, sizeof(err)), 0);
	ck_assert_int_eq(config_validate(&cfg, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "listen and raft_address are both 127.0.0.1:7788");
	config_free(&cfg);

	ck_assert_int_eq(config_init(&cfg), 0);
	ck_assert_int_eq(config_set(&cfg, "peers", "2@127.0.0.1:8000,1@127.0.0.1:8001", err,
				    sizeof(err)),
			 0);
	ck_assert_int_eq(config_validate(&cfg, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "peers: raft id 1 is this peer's raft_id");
	ck_assert_int_eq(config_set(&cfg, "peers", "2@127.0.0.1:7789", err, sizeof(err)), 0);
	ck_assert_int_eq(config_validate(&cfg, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "peers: 127.0.0.1:7789 is this peer's raft_address");
	ck_assert_int_eq(config_set(&cfg, "peers", "2@127.0.0.1:7799,3@127.0.0.1:7809", err,
				    sizeof(err)),
			 0);
	ck_assert_int_eq(config_validate(&cfg, err, sizeof(err)), 0);
	config_free(&cfg);
}
END_TEST

/* ---- the file ---- */

START_TEST(test_file_syntax)
{
	struct config cfg;
	char err[512] = "";

	ck_assert_msg(load_text(&cfg,
				"# a comment\n"
				"; another\n"
				"\n"
				"listen = 127.0.0.1:9000\n"
				"[dmlogd]\n"
				"  max-frame=2M   # inline comment\n"
				"state_dir = \"/srv/dm log;#\" ; comment after quotes\n"
				"id = node-x\n"
				"key_file = /k;x.key\n"
				"\tlog_level\t=\tdebug\r\n"
				"cert_file = \"/a/\\\"q\\\"\\\\.crt\"\n"
				"peers = \"\"\n"
				"ca_file = /x/ca.crt#kept\n",
				err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert_str_eq(cfg.listen, "127.0.0.1:9000");
	ck_assert_int_eq(cfg.max_frame, 2 * 1024 * 1024);
	ck_assert_str_eq(cfg.state_dir, "/srv/dm log;#");
	ck_assert_str_eq(cfg.id, "node-x");
	ck_assert_str_eq(cfg.key_file, "/k;x.key");
	ck_assert_int_eq(cfg.log_level, LOG_LEVEL_DEBUG);
	ck_assert_str_eq(cfg.cert_file, "/a/\"q\"\\.crt");
	ck_assert_str_eq(cfg.peers, "");
	ck_assert_str_eq(cfg.ca_file, "/x/ca.crt#kept");
	config_free(&cfg);
}
END_TEST

START_TEST(test_file_errors_name_the_line)
{
	expect_file_error("listen = 127.0.0.1:1\n\nlisen = 127.0.0.1:2\n", 3,
			  "unknown key 'lisen' (did you mean 'listen'?)");
	expect_file_error("frobnicate = 1\n", 1, "unknown key 'frobnicate'");
	expect_file_error("# x\nmax_frame = 1K\n", 2, "max_frame: 1K is out of range 4KiB..64MiB");
	expect_file_error("id = a\nid = b\n", 2, "id already set on line 1");
	expect_file_error("id = a\nmax_frame = 4K\nmax-frame = 8K\n", 3,
			  "max_frame already set on line 2");
	expect_file_error("[server]\n", 1, "unknown section [server] (only [dmlogd])");
	expect_file_error("[dmlogd]\n[dmlogd]\n", 2, "second [dmlogd] section");
	expect_file_error("[dmlogd\n", 1, "malformed section header");
	expect_file_error("listen\n", 1, "expected 'key = value'");
	expect_file_error("state_dir = \"/x\n", 1, "unterminated quoted value");
	expect_file_error("state_dir = \"/x\" y\n", 1, "text after the closing quote");
	expect_file_error("state_dir = \"/x\\n\"\n", 1,
			  "unknown escape in quoted value (use \\\" or \\\\)");
	expect_file_error("state_dir =\n", 1, "state_dir: must not be empty");
	expect_file_error(" = 5\n", 1, "unknown key ''");

	char *big = malloc(CONFIG_LINE_MAX + 64);
	ck_assert_ptr_nonnull(big);
	memset(big, ' ', CONFIG_LINE_MAX + 10);
	strcpy(big + CONFIG_LINE_MAX + 10, "id=x\n");
	expect_file_error(big, 1, "line too long");
	free(big);
}
END_TEST

START_TEST(test_missing_file)
{
	struct config cfg;
	char err[512], want[512];
	char path[160];

	ck_assert_int_eq(config_init(&cfg), 0);
	snprintf(path, sizeof(path), "%s/nope.ini", dir);
	ck_assert_int_eq(config_load_file(&cfg, path, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "open %s: No such file or directory", path);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(config_load_file(&cfg, dir, err, sizeof(err)), -EISDIR);
	config_free(&cfg);
}
END_TEST

/* ---- the command line ---- */

START_TEST(test_args_file_then_overrides)
{
	struct config cfg;
	enum config_action action;
	char err[512];
	char *argv[] = {"dmlogd", "--config", ini, "--listen=127.0.0.1:9001", "--max-frame",
			"2M", "--log_timestamps", "--idle_timeout", "5s", "--log-timestamps=no",
			NULL};

	testdir_write(ini, "listen = 127.0.0.1:9000\nmax_frame = 64K\nid = dmlogd7\n");
	ck_assert_msg(config_from_args(&cfg, 10, argv, &action, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(action, CONFIG_ACTION_RUN);
	ck_assert_str_eq(cfg.listen, "127.0.0.1:9001");
	ck_assert_int_eq(cfg.max_frame, 2 * 1024 * 1024);
	ck_assert_str_eq(cfg.id, "dmlogd7");
	ck_assert_int_eq(cfg.idle_timeout_ms, 5000);
	ck_assert(!cfg.log_timestamps);
	ck_assert_str_eq(cfg.path, ini);
	ck_assert(cfg.path_explicit);
	ck_assert_uint_eq(cfg.n_overrides, 5);
	ck_assert_str_eq(cfg.overrides[1], "max_frame=2M");
	ck_assert_str_eq(cfg.overrides[2], "log_timestamps=yes");
	config_free(&cfg);

	char *argv2[] = {"dmlogd", "--config=" "/nonexistent/dmlogd.ini", NULL};
	ck_assert_int_eq(config_from_args(&cfg, 2, argv2, &action, err, sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, "open /nonexistent/dmlogd.ini: No such file or directory");
	config_free(&cfg);
}
END_TEST

START_TEST(test_args_without_config_uses_default_path)
{
	struct config cfg;
	enum config_action action;
	char err[512];
	char *argv[] = {"dmlogd", "--state-dir", "/tmp/x", NULL};

	if (access(CONFIG_DEFAULT_PATH, F_OK) == 0)
		return; /* a real installation: nothing to pin here */
	ck_assert_msg(config_from_args(&cfg, 3, argv, &action, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(cfg.path, CONFIG_DEFAULT_PATH);
	ck_assert(!cfg.path_explicit);
	ck_assert_str_eq(cfg.state_dir, "/tmp/x");
	config_free(&cfg);
}
END_TEST

START_TEST(test_args_errors)
{
	struct config cfg;
	enum config_action action;
	char err[512];
	char *a1[] = {"dmlogd", "--lisen=127.0.0.1:1", NULL};
	char *a2[] = {"dmlogd", "--listen", NULL};
	char *a3[] = {"dmlogd", "stray", NULL};
	char *a4[] = {"dmlogd", "--config", ini, "--max_frame=1", NULL};
	char *a5[] = {"dmlogd", "--config", ini, "--heartbeat=1s", NULL};
	char *a6[] = {"dmlogd", "--", NULL};

	testdir_write(ini, "");
	ck_assert_int_eq(config_from_args(&cfg, 2, a1, &action, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "unknown option '--lisen' (did you mean '--listen'?)");
	config_free(&cfg);
	ck_assert_int_eq(config_from_args(&cfg, 2, a2, &action, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "--listen needs a value");
	config_free(&cfg);
	ck_assert_int_eq(config_from_args(&cfg, 2, a3, &action, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "unexpected argument 'stray' (see --help)");
	config_free(&cfg);
	ck_assert_int_eq(config_from_args(&cfg, 4, a4, &action, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "command line: max_frame: 1 is out of range 4KiB..64MiB");
	config_free(&cfg);
	ck_assert_int_eq(config_from_args(&cfg, 4, a5, &action, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "heartbeat (1000ms) must be below election_timeout (300ms)");
	config_free(&cfg);
	ck_assert_int_eq(config_from_args(&cfg, 2, a6, &action, err, sizeof(err)), -EINVAL);
	config_free(&cfg);
}
END_TEST

START_TEST(test_args_actions)
{
	struct config cfg;
	enum config_action action;
	char err[512];
	char *help[] = {"dmlogd", "--bogus", "--help", NULL};
	char *version[] = {"dmlogd", "-V", NULL};
	char *check[] = {"dmlogd", "--check-config", "--config", "/nonexistent.ini", NULL};
	char *print[] = {"dmlogd", "--print-config", "--help", NULL};
	char *def[] = {"dmlogd", "--print-default-config", "--config", "/nonexistent.ini", NULL};

	/* --help wins and reads nothing, so a broken command line still gets help. */
	ck_assert_int_eq(config_from_args(&cfg, 3, help, &action, err, sizeof(err)), 0);
	ck_assert_int_eq(action, CONFIG_ACTION_HELP);
	config_free(&cfg);
	ck_assert_int_eq(config_from_args(&cfg, 2, version, &action, err, sizeof(err)), 0);
	ck_assert_int_eq(action, CONFIG_ACTION_VERSION);
	config_free(&cfg);
	ck_assert_int_eq(config_from_args(&cfg, 4, check, &action, err, sizeof(err)), -ENOENT);
	ck_assert_int_eq(action, CONFIG_ACTION_CHECK);
	config_free(&cfg);
	ck_assert_int_eq(config_from_args(&cfg, 3, print, &action, err, sizeof(err)), 0);
	ck_assert_int_eq(action, CONFIG_ACTION_HELP);
	config_free(&cfg);
	ck_assert_int_eq(config_from_args(&cfg, 4, def, &action, err, sizeof(err)), 0);
	ck_assert_int_eq(action, CONFIG_ACTION_PRINT_DEFAULT);
	config_free(&cfg);
}
END_TEST

/* Runs config_run_action with output captured; returns the status. */
static int run_action(enum config_action action, int rc, const char *load_err,
		      const struct config *cfg, char *out, char *errout, size_t len)
{
	FILE *o = tmpfile(), *e = tmpfile();
	int status;
	size_t n;

	ck_assert_ptr_nonnull(o);
	ck_assert_ptr_nonnull(e);
	status = config_run_action(action, rc, load_err, cfg, "dmlogd", o, e);
	rewind(o);
	n = fread(out, 1, len - 1, o);
	out[n] = '\0';
	rewind(e);
	n = fread(errout, 1, len - 1, e);
	errout[n] = '\0';
	fclose(o);
	fclose(e);
	return status;
}

START_TEST(test_help_and_version)
{
	static char out[16384], errout[1024];
	struct config cfg;

	ck_assert_int_eq(config_init(&cfg), 0);
	ck_assert_int_eq(run_action(CONFIG_ACTION_HELP, 0, "", &cfg, out, errout, sizeof(out)),
			 0);
	ck_assert_ptr_nonnull(strstr(out, "Usage: dmlogd"));
	ck_assert_ptr_nonnull(strstr(out, "--check-config"));
	for (int k = 0; k < CONFIG__COUNT; k++) {
		const struct config_option *o = config_option_get((enum config_key)k);
		char want[128];

		snprintf(want, sizeof(want), "--%s=%s", o->name, o->metavar);
		ck_assert_msg(strstr(out, want) != NULL, "--help lacks %s", want);
		ck_assert_ptr_nonnull(strstr(out, o->doc));
	}
	ck_assert_int_eq(run_action(CONFIG_ACTION_VERSION, 0, "", &cfg, out, errout, sizeof(out)),
			 0);
	ck_assert_int_eq(strncmp(out, "dmlogd ", 7), 0);
	ck_assert_str_eq(errout, "");
	config_free(&cfg);
}
END_TEST

START_TEST(test_run_action_statuses)
{
	static char out[16384], errout[1024];
	struct config cfg;

	ck_assert_int_eq(config_init(&cfg), 0);
	ck_assert_int_eq(run_action(CONFIG_ACTION_RUN, 0, "", &cfg, out, errout, sizeof(out)), -1);
	ck_assert_int_eq(run_action(CONFIG_ACTION_RUN, -EINVAL, "x.ini:3: bad", &cfg, out, errout,
				    sizeof(out)),
			 CONFIG_EXIT_USAGE);
	ck_assert_str_eq(errout, "dmlogd: x.ini:3: bad\n");
	ck_assert_int_eq(run_action(CONFIG_ACTION_CHECK, -EINVAL, "x.ini:3: bad", &cfg, out, errout,
				    sizeof(out)),
			 1);
	ck_assert_str_eq(errout, "dmlogd: x.ini:3: bad\n");
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(run_action(CONFIG_ACTION_PRINT, -EINVAL, "bad", &cfg, out, errout,
				    sizeof(out)),
			 CONFIG_EXIT_USAGE);
	config_free(&cfg);
}
END_TEST

START_TEST(test_check_config_loads_tls)
{
	static char out[4096], errout[1024];
	struct config cfg;
	char path[256], err[256];

	snprintf(path, sizeof(path), "%s/tls", dir);
	ck_assert_int_eq(testcerts_make(path, "dev", "peer dmlogd2", NULL), 0);
	ck_assert_int_eq(config_init(&cfg), 0);
	snprintf(path, sizeof(path), "%s/tls/ca.crt", dir);
	ck_assert_int_eq(config_set(&cfg, "ca_file", path, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/tls/peer-dmlogd1.crt", dir);
	ck_assert_int_eq(config_set(&cfg, "cert_file", path, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/tls/peer-dmlogd1.key", dir);
	ck_assert_int_eq(config_set(&cfg, "key_file", path, err, sizeof(err)), 0);
	ck_assert_int_eq(run_action(CONFIG_ACTION_CHECK, 0, "", &cfg, out, errout, sizeof(out)),
			 0);
	ck_assert_str_eq(out, "config OK\n");
	ck_assert_str_eq(errout, "");

	/* The id must be the certificate's CN. */
	ck_assert_int_eq(config_set(&cfg, "id", "dmlogd2", err, sizeof(err)), 0);
	ck_assert_int_eq(run_action(CONFIG_ACTION_CHECK, 0, "", &cfg, out, errout, sizeof(out)),
			 1);
	ck_assert_msg(strstr(errout, "id is 'dmlogd2' but cert ") != NULL, "%s", errout);
	ck_assert_msg(strstr(errout, "is for 'dmlogd1'") != NULL, "%s", errout);

	/* A node certificate is no server certificate. */
	snprintf(path, sizeof(path), "%s/tls/node-node1.crt", dir);
	ck_assert_int_eq(config_set(&cfg, "cert_file", path, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/tls/node-node1.key", dir);
	ck_assert_int_eq(config_set(&cfg, "key_file", path, err, sizeof(err)), 0);
	ck_assert_int_eq(run_action(CONFIG_ACTION_CHECK, 0, "", &cfg, out, errout, sizeof(out)),
			 1);
	ck_assert_str_eq(errout,
			 "dmlogd: own certificate has OU dmlog-node, dmlogd needs dmlog-peer\n");

	/* A missing key names the file. */
	snprintf(path, sizeof(path), "%s/tls/peer-dmlogd2.crt", dir);
	ck_assert_int_eq(config_set(&cfg, "cert_file", path, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/tls/gone.key", dir);
	ck_assert_int_eq(config_set(&cfg, "key_file", path, err, sizeof(err)), 0);
	ck_assert_int_eq(run_action(CONFIG_ACTION_CHECK, 0, "", &cfg, out, errout, sizeof(out)),
			 1);
	ck_assert_msg(strstr(errout, "load key ") != NULL &&
			      strstr(errout, "gone.key: No such") != NULL,
		      "%s", errout);
	config_free(&cfg);
}
END_TEST

START_TEST(test_print_config_round_trips)
{
	static char out[16384], errout[1024];
	struct config cfg, back;
	char err[512];

	ck_assert_int_eq(config_init(&cfg), 0);
	ck_assert_int_eq(config_set(&cfg, "state_dir", "/srv/a dir;#x", err, sizeof(err)), 0);
	ck_assert_int_eq(config_set(&cfg, "cert_file", "/q/\"x\"\\y.crt", err, sizeof(err)), 0);
	ck_assert_int_eq(config_set(&cfg, "peers", "2@127.0.0.1:7790", err, sizeof(err)), 0);
	ck_assert_int_eq(config_set(&cfg, "idle_timeout", "90s", err, sizeof(err)), 0);
	ck_assert_int_eq(config_set(&cfg, "log_timestamps", "yes", err, sizeof(err)), 0);
	ck_assert_int_eq(run_action(CONFIG_ACTION_PRINT, 0, "", &cfg, out, errout, sizeof(out)),
			 0);
	ck_assert_ptr_nonnull(strstr(out, "idle_timeout = 90s\n"));
	ck_assert_ptr_nonnull(strstr(out, "key_file = /etc/dmlog/tls/peer-dmlogd1.key\n"));
	ck_assert_ptr_null(strstr(out, "PRIVATE"));
	ck_assert_msg(load_text(&back, out, err, sizeof(err)) == 0, "%s\n%s", err, out);
	for (int k = 0; k < CONFIG__COUNT; k++)
		ck_assert_msg(config_same(&cfg, &back, (enum config_key)k), "%s differs",
			      config_option_get((enum config_key)k)->name);
	config_free(&back);
	config_free(&cfg);
}
END_TEST

/* ---- reload ---- */

START_TEST(test_reload_applies_only_reloadable)
{
	struct config cfg;
	struct config_reload res;
	enum config_action action;
	char err[512], names[256];
	char *argv[] = {"dmlogd", "--config", ini, "--max_connections=50", NULL};

	testdir_write(ini, "listen = 127.0.0.1:9000\nlog_level = notice\n");
	ck_assert_msg(config_from_args(&cfg, 4, argv, &action, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(cfg.max_connections, 50);

	/* Nothing changed. */
	ck_assert_int_eq(config_reload(&cfg, &res, err, sizeof(err)), 0);
	ck_assert_uint_eq(res.changed, 0);
	ck_assert_uint_eq(res.ignored, 0);

	testdir_write(ini, "listen = 127.0.0.1:9100\n"
			"log_level = debug\n"
			"ca_file = /new/ca.crt\n"
			"max_connections = 10\n"
			"heartbeat = 40ms\n");
	ck_assert_msg(config_reload(&cfg, &res, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(res.changed, CONFIG_BIT(CONFIG_LOG_LEVEL) | CONFIG_BIT(CONFIG_CA_FILE));
	ck_assert_uint_eq(res.ignored, CONFIG_BIT(CONFIG_LISTEN) | CONFIG_BIT(CONFIG_HEARTBEAT));
	ck_assert_int_eq(cfg.log_level, LOG_LEVEL_DEBUG);
	ck_assert_str_eq(cfg.ca_file, "/new/ca.crt");
	ck_assert_str_eq(cfg.listen, "127.0.0.1:9000");
	ck_assert_int_eq(cfg.heartbeat_ms, 30);
	ck_assert_int_eq(cfg.max_connections, 50); /* the command line still wins */
	config_mask_names(res.changed, names, sizeof(names));
	ck_assert_str_eq(names, "ca_file,log_level");
	config_mask_names(res.ignored, names, sizeof(names));
	ck_assert_str_eq(names, "listen,heartbeat");
	config_mask_names(0, names, sizeof(names));
	ck_assert_str_eq(names, "none");

	/* A broken file changes nothing. */
	testdir_write(ini, "log_level = info\nlisten = nope\n");
	ck_assert_int_eq(config_reload(&cfg, &res, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, ":2: listen: 'nope' is not HOST:PORT") != NULL, "%s", err);
	ck_assert_uint_eq(res.changed, 0);
	ck_assert_int_eq(cfg.log_level, LOG_LEVEL_DEBUG);

	/* A vanished explicit file is an error too. */
	unlink(ini);
	ck_assert_int_eq(config_reload(&cfg, &res, err, sizeof(err)), -ENOENT);
	ck_assert_int_eq(cfg.log_level, LOG_LEVEL_DEBUG);
	config_free(&cfg);
}
END_TEST

/* ---- deploy/dmlogd.ini ---- */

START_TEST(test_example_file_lists_every_key_at_its_default)
{
	char *text = testdir_read(EXAMPLE_INI), *line, *save = NULL;
	unsigned count[CONFIG__COUNT] = {0};

	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char key[64];
		const struct config_option *o;
		enum config_key k;
		char want[256];

		/* Commented-out settings look like "#key = value". */
		if (sscanf(line, "#%63[a-z_] =", key) != 1 || strstr(line, " = ") == NULL)
			continue;
		o = config_option_find(key, &k);
		ck_assert_msg(o != NULL, "dmlogd.ini names unknown key '%s'", key);
		count[k]++;
		snprintf(want, sizeof(want), o->def[0] != '\0' ? "#%s = %s" : "#%s = \"%s\"",
			 o->name, o->def);
		ck_assert_msg(strcmp(line, want) == 0, "dmlogd.ini has '%s', the table says '%s'",
			      line, want);
	}
	for (int k = 0; k < CONFIG__COUNT; k++)
		ck_assert_msg(count[k] == 1, "dmlogd.ini lists '%s' %u times",
			      config_option_get((enum config_key)k)->name, count[k]);
	free(text);
}
END_TEST

START_TEST(test_example_file_is_what_the_table_generates)
{
	char *text = testdir_read(EXAMPLE_INI);
	char *gen = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&gen, &len);

	ck_assert_ptr_nonnull(f);
	config_print_default(f);
	fclose(f);
	ck_assert_msg(strcmp(text, gen) == 0,
		      "deploy/dmlogd.ini is out of date: regenerate it with "
		      "'dmlogd --print-default-config > deploy/dmlogd.ini'");
	free(gen);
	free(text);
}
END_TEST

START_TEST(test_example_file_uncommented_gives_defaults)
{
	char *text = testdir_read(EXAMPLE_INI), *p;
	struct config cfg, def;
	char err[512];

	/* Uncomment every setting line. */
	for (p = text; (p = strstr(p, "\n#")) != NULL; p++) {
		char key[64];
		if (sscanf(p + 2, "%63[a-z_] =", key) == 1 && config_option_find(key, NULL))
			p[1] = ' ';
	}
	ck_assert_msg(load_text(&cfg, text, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(config_init(&def), 0);
	for (int k = 0; k < CONFIG__COUNT; k++)
		ck_assert(config_same(&cfg, &def, (enum config_key)k));
	ck_assert_int_eq(config_validate(&cfg, err, sizeof(err)), 0);
	config_free(&cfg);
	config_free(&def);
	free(text);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *table = tcase_create("table");
	TCase *file = tcase_create("file");
	TCase *args = tcase_create("args");
	TCase *reload = tcase_create("reload");
	TCase *example = tcase_create("example");
	TCase *all[] = {table, file, args, reload, example};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		tcase_add_checked_fixture(all[i], setup, teardown);
	tcase_add_test(table, test_defaults);
	tcase_add_test(table, test_table_rows_are_complete_and_consistent);
	tcase_add_test(table, test_duration_values);
	tcase_add_test(table, test_size_values);
	tcase_add_test(table, test_int_bool_enum_values);
	tcase_add_test(table, test_string_and_name_values);
	tcase_add_test(table, test_addresses);
	tcase_add_test(table, test_peers_list);
	tcase_add_test(table, test_rules_between_options);
	tcase_add_test(file, test_file_syntax);
	tcase_add_test(file, test_file_errors_name_the_line);
	tcase_add_test(file, test_missing_file);
	tcase_add_test(args, test_args_file_then_overrides);
	tcase_add_test(args, test_args_without_config_uses_default_path);
	tcase_add_test(args, test_args_errors);
	tcase_add_test(args, test_args_actions);
	tcase_add_test(args, test_help_and_version);
	tcase_add_test(args, test_run_action_statuses);
	tcase_add_test(args, test_check_config_loads_tls);
	tcase_add_test(args, test_print_config_round_trips);
	tcase_add_test(reload, test_reload_applies_only_reloadable);
	tcase_add_test(example, test_example_file_lists_every_key_at_its_default);
	tcase_add_test(example, test_example_file_is_what_the_table_generates);
	tcase_add_test(example, test_example_file_uncommented_gives_defaults);
	suite_add_tcase(s, table);
	suite_add_tcase(s, file);
	suite_add_tcase(s, args);
	suite_add_tcase(s, reload);
	suite_add_tcase(s, example);
	return s;
}

int main(void)
{
	return testmain_run(config_suite());
}
