/* peer.c: the `peer add`, `peer remove` and `digest` verbs (membership changes and the state
 * digest).
 *
 * peer add and peer remove are answered by the Raft leader once the new configuration is
 * committed (libdmlog follows the NotLeader redirects); they print the configuration
 * afterwards. digest prints the SHA-256 of the answering server's state machine and the applied
 * index it was taken at: peers at the same applied index must print the same digest.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "fmt.h"
#include "options.h"
#include "remote.h"
#include "table.h"

static const char peer_usage[] =
	"Usage: dmlogctl [OPTIONS] peer add RAFT_ID HOST:PORT ID\n"
	"       dmlogctl [OPTIONS] peer remove RAFT_ID\n"
	"Change the Raft configuration (asked of the leader; redirects are followed):\n"
	"  peer add RAFT_ID HOST:PORT ID   bind RAFT_ID to ID, the CN of the server's dmlog-peer\n"
	"                                  certificate, add the server whose raft_address is\n"
	"                                  HOST:PORT, let it catch up, then make it a voter\n"
	"  peer remove RAFT_ID             take the server out of the configuration\n"
	"Each waits until the change is committed, then prints the configuration afterwards.\n";

static const char peer_add_usage[] =
	"Usage: dmlogctl [OPTIONS] peer add RAFT_ID HOST:PORT ID\n"
	"Add a server to the Raft configuration: bind RAFT_ID (a positive integer) to ID, the CN of\n"
	"its dmlog-peer certificate, add it as a non-voter at HOST:PORT (its raft_address option),\n"
	"let it catch up, then make it a voter. Prints the configuration afterwards: raft id, id,\n"
	"Raft address, membership, role.\n"
	"\n"
	"Options: --json, and the global options (dmlogctl --help).\n"
	"Exit status: 0 success, 1 the server refused, 2 unreachable or TLS failure, 3 usage error.\n";

static const char peer_remove_usage[] =
	"Usage: dmlogctl [OPTIONS] peer remove RAFT_ID\n"
	"Remove the server RAFT_ID from the Raft configuration and forget its binding. Removing\n"
	"the leader first hands leadership to another voter. Prints the configuration afterwards.\n"
	"\n"
	"Options: --json, and the global options (dmlogctl --help).\n"
	"Exit status: 0 success, 1 the server refused, 2 unreachable or TLS failure, 3 usage error.\n";

static const char digest_usage[] =
	"Usage: dmlogctl [OPTIONS] digest\n"
	"Show the SHA-256 of the server's state machine and the applied index it was taken at.\n"
	"Any peer answers from its own state (give one --server to ask a given peer); peers at\n"
	"the same applied index must show the same digest.\n"
	"\n"
	"Options: --json, and the global options (dmlogctl --help).\n"
	"Exit status: 0 success, 1 the server refused, 2 unreachable or TLS failure, 3 usage error.\n";

/* A Raft id: a decimal integer, 1 to UINT64_MAX. */
static int parse_raft_id(const char *verb, const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (!*s || *s == '-' || *s == '+' || *end || errno || v == 0) {
		options_usage_error(verb, "'%s' is not a Raft id (a positive integer)", s);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* HOST:PORT with a non-empty host and a port 1..65535 ("[v6]:PORT" allowed). */
static int check_address(const char *verb, const char *s)
{
	const char *colon = strrchr(s, ':');
	char *end;
	unsigned long port;

	if (!colon || colon == s) {
		options_usage_error(verb, "'%s' is not HOST:PORT", s);
		return -EINVAL;
	}
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || port == 0 || port > 65535 || colon[1] == '-' ||
	    colon[1] == '+') {
		options_usage_error(verb, "'%s': the port must be 1 to 65535", s);
		return -EINVAL;
	}
	return 0;
}

static void change_json(FILE *f, const struct dmlog_peer_change *pc)
{
	fprintf(f, "{\"raft_id\":%" PRIu64 ",\"peers\":[", pc->raft_id);
	for (size_t i = 0; i < pc->peer_count; i++) {
		const struct dmlog_peer_info *p = &pc->peers[i];

		fprintf(f, "%s{\"raft_id\":%" PRIu64 ",", i ? "," : "", p->raft_id);
		fmt_json_member(f, "id", p->id, ",");
		fmt_json_member(f, "raft_address", *p->raft_address ? p->raft_address : p->address,
				",");
		fmt_json_member_or_null(f, "client_address", p->client_address, ",");
		fmt_json_member_or_null(f, "membership", p->membership, ",");
		fmt_json_member(f, "role", p->role, "");
		fprintf(f, ",\"voter\":%s}", p->voter ? "true" : "false");
	}
	fputs("]}\n", f);
}

/* The configuration table; returns 0 or -ENOMEM. */
static int change_text(FILE *f, const char *what, const struct dmlog_peer_change *pc)
{
	static const char *const headers[] = {"RAFT_ID", "ID", "RAFT_ADDRESS", "MEMBERSHIP",
					      "ROLE"};
	static const bool right[] = {true, false, false, false, false};
	struct table *t = table_new(5, headers, right);
	int rc = 0;

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < pc->peer_count && rc == 0; i++) {
		const struct dmlog_peer_info *p = &pc->peers[i];
		const char *addr = *p->raft_address ? p->raft_address : p->address;
		const char *membership = *p->membership ? p->membership :
			p->voter ? "voter" : "non-voter";
		char id[24];
		const char *cells[5];

		snprintf(id, sizeof(id), "%" PRIu64, p->raft_id);
		cells[0] = id;
		cells[1] = *p->id ? p->id : "-";
		cells[2] = *addr ? addr : "-";
		cells[3] = membership;
		cells[4] = *p->role ? p->role : "-";
		rc = table_add(t, cells);
	}
	if (rc == 0) {
		fprintf(f, "raft id %" PRIu64 " %s; the configuration now:\n", pc->raft_id, what);
		table_print(t, f, 0);
	}
	table_free(t);
	return rc;
}

/* Asks for the change req, prints the configuration it left (or reports the failure) and
 * returns the exit code. */
static int change_run(struct ctl *ctl, const struct dmlog_request *req, const char *verb,
		      const char *what)
{
	int code = CTL_EXIT_OK;
	struct dmlog_result *res = remote_query(ctl, req, verb, &code);

	if (!res)
		return code;
	if (ctl->json) {
		change_json(stdout, &res->peer_change);
	} else if (change_text(stdout, what, &res->peer_change)) {
		fprintf(stderr, "dmlogctl: out of memory\n");
		code = CTL_EXIT_FAILED;
	}
	dmlog_result_free(res);
	return code;
}

static int peer_add_run(struct ctl *ctl, int argc, char **argv)
{
	struct dmlog_request req = {.op = DMLOG_OP_ADMIN_PEER_ADD};
	int first;
	int rc = options_verb(ctl, argc, argv, "peer add", peer_add_usage, 3, 3, &first);

	if (rc)
		return rc > 0 ? CTL_EXIT_OK : CTL_EXIT_USAGE;
	if (parse_raft_id("peer add", argv[first], &req.peer_raft_id) ||
	    check_address("peer add", argv[first + 1]))
		return CTL_EXIT_USAGE;
	if (!*argv[first + 2]) {
		options_usage_error("peer add", "the ID (certificate CN) is empty");
		return CTL_EXIT_USAGE;
	}
	req.peer_raft_address = argv[first + 1];
	req.peer_id = argv[first + 2];
	return change_run(ctl, &req, "peer add", "added");
}

static int peer_remove_run(struct ctl *ctl, int argc, char **argv)
{
	struct dmlog_request req = {.op = DMLOG_OP_ADMIN_PEER_REMOVE};
	int first;
	int rc = options_verb(ctl, argc, argv, "peer remove", peer_remove_usage, 1, 1, &first);

	if (rc)
		return rc > 0 ? CTL_EXIT_OK : CTL_EXIT_USAGE;
	if (parse_raft_id("peer remove", argv[first], &req.peer_raft_id))
		return CTL_EXIT_USAGE;
	return change_run(ctl, &req, "peer remove", "removed");
}

int peer_run(struct ctl *ctl, int argc, char **argv)
{
	if (argc < 2) {
		options_usage_error("peer", "missing sub-verb (add, remove)");
		return CTL_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(peer_usage, stdout);
		return CTL_EXIT_OK;
	}
	if (!strcmp(argv[1], "add"))
		return peer_add_run(ctl, argc - 1, argv + 1);
	if (!strcmp(argv[1], "remove"))
		return peer_remove_run(ctl, argc - 1, argv + 1);
	if (argv[1][0] == '-')
		options_usage_error("peer", "options go after the sub-verb (peer add %s ...)",
				    argv[1]);
	else
		options_usage_error("peer", "unknown sub-verb '%s' (known: add, remove)", argv[1]);
	return CTL_EXIT_USAGE;
}

int peer_help(struct ctl *ctl, const char *sub)
{
	char help[] = "--help";
	char name[16];
	char *args[3] = { name, help, NULL };

	if (sub && (!strcmp(sub, "add") || !strcmp(sub, "remove"))) {
		snprintf(name, sizeof(name), "%s", sub);
		return !strcmp(sub, "add") ? peer_add_run(ctl, 2, args) :
			peer_remove_run(ctl, 2, args);
	}
	fputs(peer_usage, stdout);
	return CTL_EXIT_OK;
}

int digest_run(struct ctl *ctl, int argc, char **argv)
{
	static const struct dmlog_request req = {.op = DMLOG_OP_ADMIN_DIGEST};
	struct dmlog_result *res;
	int first, code;
	int rc = options_verb(ctl, argc, argv, "digest", digest_usage, 0, 0, &first);

	if (rc)
		return rc > 0 ? CTL_EXIT_OK : CTL_EXIT_USAGE;
	res = remote_query(ctl, &req, "digest", &code);
	if (!res)
		return code;
	if (ctl->json) {
		fprintf(stdout, "{\"applied_index\":%" PRIu64 ",", res->digest.applied_index);
		fmt_json_member(stdout, "sha256", res->digest.sha256, "");
		fputs("}\n", stdout);
	} else {
		fmt_field(stdout, "applied index", "%" PRIu64, res->digest.applied_index);
		fmt_field(stdout, "sha256", "%s", res->digest.sha256);
	}
	dmlog_result_free(res);
	return CTL_EXIT_OK;
}
