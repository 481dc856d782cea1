/* test_startup.c: dmlogd's start-up and reload as a real process.
 *
 * Each failed start step has its own exit status (server/config.h, deploy/dmlogd.service) and a
 * "cannot start: ..." log line; these tests provoke each one with real files, sockets and
 * processes and assert the exact status and the line: TLS files that are missing, a key that is
 * not the certificate's, a certificate for another id (3); a state directory that cannot be made
 * or that another dmlogd holds (4); a Raft address already taken and a corrupt Raft state (5); a
 * listening port already taken (6). Then SIGHUP with a certificate for another id (refused, the
 * old one keeps serving, the running configuration keeps the old paths), and dmlogd with no
 * configuration at all on a fresh machine: it makes development certificates in /etc/dmlog/tls
 * and serves. That last one runs dmlogd in a private mount namespace with /etc and /var/lib
 * behind overlays whose upper layers are in the test's directory, so nothing reaches the real
 * /etc or /var/lib; where namespaces or the default ports are not available it says so and skips.
 *
 * dmlogd is started through a settings file (not harness.h's dmlogd_start(), which passes the
 * TLS files as flags and hides the exit status), so that a reload can change the TLS paths.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/x509.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "testcerts.h"
#include "testdir.h"
#include "testmain.h"

/* The exit statuses under test (server/config.h, enum config_exit). */
#define EXIT_TLS 3
#define EXIT_STATE 4
#define EXIT_RAFT 5
#define EXIT_LISTEN 6

/* What a namespace child exits with when it cannot set up its private mounts. */
#define NS_UNAVAILABLE 99

/* Certificates shared by every test (made once in main()): the dev set plus peer dmlogd2. */
static char certs_root[256], certs[300];

/* One dmlogd run: its directory, ports, settings file, state directory and log. */
struct run {
	char dir[256];
	char ini[320];
	char state[320];
	char log[320];
	int port;
	int raft_port;
	pid_t pid;
};

static struct run r;

static void setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	memset(&r, 0, sizeof(r));
	harness_tmpdir(r.dir, sizeof(r.dir));
	snprintf(r.ini, sizeof(r.ini), "%s/dmlogd.ini", r.dir);
	snprintf(r.state, sizeof(r.state), "%s/state", r.dir);
	snprintf(r.log, sizeof(r.log), "%s/dmlogd.log", r.dir);
	r.port = harness_free_port();
	r.raft_port = harness_free_port();
}

static void teardown(void)
{
	if (r.pid > 0)
		harness_reap(r.pid, SIGKILL, 5000);
	harness_rmdir(r.dir);
}

/* Writes the settings file of r with the certificate and key of peer `peer`. */
static void write_ini(const char *peer)
{
	char text[2048];

	snprintf(text, sizeof(text),
		 "[dmlogd]\n"
		 "listen = 127.0.0.1:%d\n"
		 "raft_address = 127.0.0.1:%d\n"
		 "state_dir = %s\n"
		 "ca_file = %s/ca.crt\n"
		 "cert_file = %s/peer-%s.crt\n"
		 "key_file = %s/peer-%s.key\n"
		 "log_level = info\n",
		 r.port, r.raft_port, r.state, certs, certs, peer, certs, peer);
	testdir_write(r.ini, text);
}

/* Starts dmlogd on r's settings file with extra "--key=value" flags (NULL-terminated). */
static pid_t spawn(const char *const *extra)
{
	pid_t pid = harness_bridge_spawn(DMLOGD_PATH, r.ini, extra, NULL, r.log);

	ck_assert_int_gt(pid, 0);
	return pid;
}

/* Starts dmlogd and returns its exit status (it must exit within 30 s). */
static int exit_status(const char *const *extra)
{
	int st = harness_reap(spawn(extra), 0, 30000);

	ck_assert_msg(st >= 0, "dmlogd did not exit within 30 s (see %s)", r.log);
	return st;
}

/* Asserts that r's log holds a line containing both a and b (b may be NULL). */
static void assert_logged(const char *a, const char *b)
{
	FILE *f = fopen(r.log, "r");
	char line[4096];
	bool found = false;

	ck_assert_msg(f != NULL, "no log at %s", r.log);
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, a) && (!b || strstr(line, b));
	fclose(f);
	if (!found) {
		char *all = testdir_read(r.log);

		ck_abort_msg("no log line with '%s'%s%s%s; the log:\n%s", a, b ? " and '" : "",
			     b ? b : "", b ? "'" : "", all);
	}
}

/* Waits (at most 20 s) until dmlogd pid accepts node1's TLS connection and answers its Hello
 * on port. False when it exited first (it is reaped then, its status in *status) or never
 * served. */
static bool serving(pid_t pid, int port, const char *tls, int *status)
{
	for (int i = 0; i < 400; i++) {
		struct rawconn c;
		int st;

		if (waitpid(pid, &st, WNOHANG) == pid) {
			if (status)
				*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			return false;
		}
		if (rawconn_open_as(&c, port, tls, "node-node1") == 0) {
			bool ok = rawconn_hello(&c, 1) == 0;

			rawconn_close(&c);
			if (ok)
				return true;
		}
		usleep(50 * 1000);
	}
	return false;
}

/* A listening TCP socket on 127.0.0.1:port, held by the test. */
static int hold_port(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_msg(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(fd, 4) == 0,
		      "cannot hold port %d: %s", port, strerror(errno));
	return fd;
}

/* The CN of the certificate the server on port presents now. */
static void server_cn(int port, char *cn, size_t len)
{
	struct rawconn c;
	X509 *x;

	ck_assert_msg(rawconn_open_as(&c, port, certs, "node-node1") == 0, "connect: %s", c.err);
	ck_assert_msg(rawconn_hello(&c, 7) == 0, "hello: %s", c.err);
	x = SSL_get_peer_certificate(c.ssl);
	ck_assert(x != NULL);
	cn[0] = '\0';
	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, (int)len);
	X509_free(x);
	rawconn_close(&c);
}

/* Waits (at most 10 s) until r's log holds a line with needle. */
static void wait_logged(const char *needle)
{
	for (int i = 0; i < 200 && harness_log_count(r.log, needle) == 0; i++)
		usleep(50 * 1000);
	assert_logged(needle, NULL);
}

START_TEST(tls_file_missing_exits_3)
{
	char flag[400];
	const char *extra[] = {flag, NULL};

	write_ini("dmlogd1");
	snprintf(flag, sizeof(flag), "--ca-file=%s/no-such-ca.crt", r.dir);
	ck_assert_int_eq(exit_status(extra), EXIT_TLS);
	assert_logged("cannot start: TLS", "no-such-ca.crt");
}
END_TEST

START_TEST(tls_key_of_another_certificate_exits_3)
{
	char flag[400];
	const char *extra[] = {flag, NULL};

	write_ini("dmlogd1");
	snprintf(flag, sizeof(flag), "--key-file=%s/peer-dmlogd2.key", certs);
	ck_assert_int_eq(exit_status(extra), EXIT_TLS);
	assert_logged("cannot start: TLS", "does not match");
}
END_TEST

START_TEST(tls_certificate_of_another_id_exits_3)
{
	write_ini("dmlogd2"); /* id stays dmlogd1 */
	ck_assert_int_eq(exit_status(NULL), EXIT_TLS);
	assert_logged("cannot start: TLS", "is for 'dmlogd2'");
}
END_TEST

START_TEST(unusable_state_dir_exits_4)
{
	char file[400], flag[450];
	const char *extra[] = {flag, NULL};

	write_ini("dmlogd1");
	snprintf(file, sizeof(file), "%s/a-file", r.dir);
	testdir_write(file, "not a directory\n");
	snprintf(flag, sizeof(flag), "--state-dir=%s/state", file);
	ck_assert_int_eq(exit_status(extra), EXIT_STATE);
	assert_logged("cannot start: state directory", "a-file");
}
END_TEST

START_TEST(second_dmlogd_on_one_state_dir_exits_4)
{
	char listen[64], raft[64], holder[64];
	const char *extra[] = {listen, raft, NULL};
	int port2 = harness_free_port(), st = -1;
	pid_t second;

	write_ini("dmlogd1");
	r.pid = spawn(NULL);
	ck_assert_msg(serving(r.pid, r.port, certs, &st), "first dmlogd exited %d (see %s)", st,
		      r.log);
	/* Another dmlogd, on its own ports but the same state directory. */
	snprintf(listen, sizeof(listen), "--listen=127.0.0.1:%d", port2);
	snprintf(raft, sizeof(raft), "--raft-address=127.0.0.1:%d", harness_free_port());
	ck_assert_int_eq(exit_status(extra), EXIT_STATE);
	snprintf(holder, sizeof(holder), "pid %d holds the lock", (int)r.pid);
	assert_logged("cannot start: state directory", holder);
	assert_logged(r.state, "is in use by another dmlogd");
	ck_assert(serving(r.pid, r.port, certs, NULL)); /* the first one is not disturbed */

	/* Once the holder is gone the directory is free again. */
	ck_assert_int_eq(harness_reap(r.pid, SIGTERM, 20000), 0);
	r.pid = 0;
	second = spawn(extra);
	r.pid = second;
	ck_assert_msg(serving(second, port2, certs, &st), "second dmlogd exited %d (see %s)", st,
		      r.log);
	ck_assert_int_eq(harness_reap(second, SIGTERM, 20000), 0);
	r.pid = 0;
}
END_TEST

START_TEST(raft_address_in_use_exits_5)
{
	char needle[64];
	int fd;

	write_ini("dmlogd1");
	fd = hold_port(r.raft_port);
	ck_assert_int_eq(exit_status(NULL), EXIT_RAFT);
	close(fd);
	assert_logged("cannot start: raft", r.state);
	/* Which address, and why (libraft itself says only "I/O error"). */
	snprintf(needle, sizeof(needle), "listen 127.0.0.1:%d", r.raft_port);
	assert_logged(needle, "in use");
}
END_TEST

START_TEST(corrupt_raft_state_exits_5)
{
	char path[400];
	int st = -1, damaged = 0;

	write_ini("dmlogd1");
	r.pid = spawn(NULL);
	ck_assert_msg(serving(r.pid, r.port, certs, &st), "dmlogd exited %d (see %s)", st, r.log);
	ck_assert_int_eq(harness_reap(r.pid, SIGTERM, 20000), 0);
	r.pid = 0;
	/* Garbage in place of Raft's metadata files (libraft keeps two, alternately). */
	for (int i = 1; i <= 2; i++) {
		snprintf(path, sizeof(path), "%s/raft/metadata%d", r.state, i);
		if (access(path, F_OK) == 0) {
			testdir_write(path, "this is not raft metadata, not at all\n");
			damaged++;
		}
	}
	ck_assert_int_gt(damaged, 0);
	ck_assert_int_eq(exit_status(NULL), EXIT_RAFT);
	assert_logged("cannot start: raft", "metadata");
}
END_TEST

START_TEST(listen_port_in_use_exits_6)
{
	char needle[64];
	int fd;

	write_ini("dmlogd1");
	fd = hold_port(r.port);
	ck_assert_int_eq(exit_status(NULL), EXIT_LISTEN);
	close(fd);
	snprintf(needle, sizeof(needle), "cannot start: listen 127.0.0.1:%d", r.port);
	assert_logged(needle, "in use");
}
END_TEST

/* SIGHUP with the files of peer dmlogd2 (a good certificate from the right CA, but not this
 * server's id) is refused like at start-up; the old context keeps serving and the running
 * configuration keeps the old paths: going back to them later is no change. */
START_TEST(sighup_refuses_a_certificate_for_another_id)
{
	char cn[64];
	int st = -1;

	write_ini("dmlogd1");
	r.pid = spawn(NULL);
	ck_assert_msg(serving(r.pid, r.port, certs, &st), "dmlogd exited %d (see %s)", st, r.log);
	server_cn(r.port, cn, sizeof(cn));
	ck_assert_str_eq(cn, "dmlogd1");

	write_ini("dmlogd2");
	kill(r.pid, SIGHUP);
	wait_logged("reload: TLS contexts kept");
	assert_logged("reload: TLS contexts kept", "is for 'dmlogd2'");
	ck_assert_int_eq(harness_log_count(r.log, "reload: TLS contexts replaced"), 0);
	ck_assert_int_eq(harness_log_count(r.log, "cert_file,key_file"), 0);
	server_cn(r.port, cn, sizeof(cn));
	ck_assert_str_eq(cn, "dmlogd1");

	/* Back to the original file: nothing to apply, since the refused paths were never taken. */
	write_ini("dmlogd1");
	kill(r.pid, SIGHUP);
	wait_logged("reload: TLS contexts replaced generation=1");
	ck_assert_int_eq(harness_log_count(r.log, "reload: applied"), 0);
	server_cn(r.port, cn, sizeof(cn));
	ck_assert_str_eq(cn, "dmlogd1");
	ck_assert_int_eq(harness_reap(r.pid, SIGTERM, 20000), 0);
	r.pid = 0;
}
END_TEST

/* ---------------------------------------------------------------- no configuration at all */

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* Child side: an overlay on target whose upper layer is dir/name (made here). */
static int overlay(const char *target, const char *name)
{
	char up[400], work[400], opts[1400];

	snprintf(up, sizeof(up), "%s/%s-upper", r.dir, name);
	snprintf(work, sizeof(work), "%s/%s-work", r.dir, name);
	if ((mkdir(up, 0755) != 0 && errno != EEXIST) || (mkdir(work, 0755) != 0 && errno != EEXIST))
		return -1;
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s", target, up, work);
	return mount("overlay", target, "overlay", 0, opts);
}

/* Starts `dmlogd` with no argument at all in a private mount namespace where /etc and /var/lib
 * are overlays over the real ones (upper layers r.dir/etc-upper and r.dir/var-upper): what
 * dmlogd writes to /etc/dmlog and /var/lib/dmlog lands there. tool: DMLOG_CERTS_TOOL, or NULL
 * for the built-in search. The child exits NS_UNAVAILABLE when it cannot set this up. */
static pid_t spawn_bare(const char *tool)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open(r.log, O_WRONLY | O_CREAT | O_APPEND, 0600);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
		    overlay("/etc", "etc") != 0 || overlay("/var/lib", "var") != 0) {
			fprintf(stderr, "test: private mounts: %s\n", strerror(errno));
			_exit(NS_UNAVAILABLE);
		}
		if (tool)
			setenv("DMLOG_CERTS_TOOL", tool, 1);
		else
			unsetenv("DMLOG_CERTS_TOOL");
		unsetenv("NOTIFY_SOCKET");
		execl(DMLOGD_PATH, DMLOGD_PATH, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Whether this machine can run the bare tests: nothing of dmlog in the real /etc and /var/lib
 * (the overlays would show it). */
static bool bare_possible(void)
{
	if (exists("/etc/dmlog") || exists("/var/lib/dmlog")) {
		fprintf(stderr, "SKIP: /etc/dmlog or /var/lib/dmlog exists on this machine; the "
			"first-run tests need a machine without them\n");
		return false;
	}
	return true;
}

static bool port_free(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	bool ok;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

START_TEST(no_config_makes_dev_certificates_and_serves)
{
	char tls[400], ca[450], ca_before[4096];
	char *text;
	int st = -1;

	if (!bare_possible())
		return;
	if (!port_free(7788) || !port_free(7789)) {
		fprintf(stderr, "SKIP: 127.0.0.1:7788 or :7789 (dmlogd's default ports) is busy\n");
		return;
	}
	r.pid = spawn_bare(NULL);
	snprintf(tls, sizeof(tls), "%s/etc-upper/dmlog/tls", r.dir);
	if (!serving(r.pid, 7788, tls, &st)) {
		r.pid = 0;
		if (st == NS_UNAVAILABLE) {
			fprintf(stderr, "SKIP: no private mount namespace here (see %s)\n", r.log);
			return;
		}
		ck_abort_msg("bare dmlogd exited %d or never served (see %s)", st, r.log);
	}
	assert_logged("DEVELOPMENT certificates", "/etc/dmlog/tls");
	assert_logged("ready", "listen=127.0.0.1:7788 state_dir=/var/lib/dmlog");
	snprintf(ca, sizeof(ca), "%s/ca.crt", tls);
	text = testdir_read(ca);
	snprintf(ca_before, sizeof(ca_before), "%s", text);
	free(text);
	ck_assert_int_eq(harness_reap(r.pid, SIGTERM, 20000), 0);
	r.pid = 0;

	/* The second start finds the certificates and leaves them alone. */
	r.pid = spawn_bare(NULL);
	ck_assert_msg(serving(r.pid, 7788, tls, &st), "second start exited %d (see %s)", st, r.log);
	ck_assert_int_eq(harness_log_count(r.log, "DEVELOPMENT certificates"), 1);
	text = testdir_read(ca);
	ck_assert_str_eq(text, ca_before);
	free(text);
	ck_assert_int_eq(harness_reap(r.pid, SIGTERM, 20000), 0);
	r.pid = 0;
	ck_assert(!exists("/etc/dmlog") && !exists("/var/lib/dmlog"));
}
END_TEST

/* Runs spawn_bare(tool) to its exit (at most 30 s) and returns its status; -1 (after a SKIP
 * line) when the machine cannot give it a private mount namespace. */
static int run_bare(const char *tool)
{
	int st;

	r.pid = spawn_bare(tool);
	st = harness_reap(r.pid, 0, 30000);
	r.pid = 0;
	if (st == NS_UNAVAILABLE) {
		fprintf(stderr, "SKIP: no private mount namespace here (see %s)\n", r.log);
		return -1;
	}
	return st;
}

START_TEST(no_config_without_the_tool_exits_3)
{
	char tls[400];
	int st;

	if (!bare_possible())
		return;
	st = run_bare("/nonexistent/dmlog-certs.sh");
	if (st < 0)
		return;
	ck_assert_int_eq(st, EXIT_TLS);
	assert_logged("cannot start: TLS", "dmlog-certs.sh /etc/dmlog/tls dev");
	snprintf(tls, sizeof(tls), "%s/etc-upper/dmlog/tls", r.dir);
	ck_assert(!exists(tls));
	ck_assert(!exists("/etc/dmlog") && !exists("/var/lib/dmlog"));
}
END_TEST

START_TEST(no_config_never_writes_into_a_used_directory)
{
	char keep[450], *text;
	int st;

	if (!bare_possible())
		return;
	/* Something of the admin's in /etc/dmlog/tls, but not the three files dmlogd needs. */
	snprintf(keep, sizeof(keep), "%s/etc-upper", r.dir);
	mkdir(keep, 0755);
	snprintf(keep, sizeof(keep), "%s/etc-upper/dmlog", r.dir);
	mkdir(keep, 0755);
	snprintf(keep, sizeof(keep), "%s/etc-upper/dmlog/tls", r.dir);
	mkdir(keep, 0700);
	snprintf(keep, sizeof(keep), "%s/etc-upper/dmlog/tls/ca.key", r.dir);
	testdir_write(keep, "the admin's own CA key\n");
	st = run_bare(NULL);
	if (st < 0)
		return;
	ck_assert_int_eq(st, EXIT_TLS);
	assert_logged("cannot start: TLS", "is not empty");
	text = testdir_read(keep);
	ck_assert_str_eq(text, "the admin's own CA key\n");
	free(text);
	snprintf(keep, sizeof(keep), "%s/etc-upper/dmlog/tls/ca.crt", r.dir);
	ck_assert(!exists(keep));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("startup");
	TCase *exits = testmain_tcase(s, "exit_codes", setup, teardown, 120);
	TCase *reload = testmain_tcase(s, "reload", setup, teardown, 120);
	TCase *bare = testmain_tcase(s, "no_config", setup, teardown, 120);
	int rc;

	if (testdir_make(certs_root, sizeof(certs_root), "startup-certs") != 0)
		return EXIT_FAILURE;
	snprintf(certs, sizeof(certs), "%s/tls", certs_root);
	if (testcerts_make(certs, "dev", "peer dmlogd2", NULL) != 0)
		return EXIT_FAILURE;
	tcase_add_test(exits, tls_file_missing_exits_3);
	tcase_add_test(exits, tls_key_of_another_certificate_exits_3);
	tcase_add_test(exits, tls_certificate_of_another_id_exits_3);
	tcase_add_test(exits, unusable_state_dir_exits_4);
	tcase_add_test(exits, second_dmlogd_on_one_state_dir_exits_4);
	tcase_add_test(exits, raft_address_in_use_exits_5);
	tcase_add_test(exits, corrupt_raft_state_exits_5);
	tcase_add_test(exits, listen_port_in_use_exits_6);
	tcase_add_test(reload, sighup_refuses_a_certificate_for_another_id);
	tcase_add_test(bare, no_config_makes_dev_certificates_and_serves);
	tcase_add_test(bare, no_config_without_the_tool_exits_3);
	tcase_add_test(bare, no_config_never_writes_into_a_used_directory);
	rc = testmain_run(s);
	testdir_remove(certs_root);
	return rc;
}
