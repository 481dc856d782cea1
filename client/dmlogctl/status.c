/* status.c: the `status` and `peers` verbs, both answered by one ADMIN_STATUS query.
 *
 * status's exit code carries the health (status_health()): 0 healthy, 1 degraded, 2 unavailable
 * (no leader known, or fewer than a majority of the voters reachable) or unreachable (no server
 * answered, TLS failed). peers exits 0 whenever the server answered.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "fmt.h"
#include "options.h"
#include "remote.h"
#include "table.h"

static const char status_usage[] =
	"Usage: dmlogctl [OPTIONS] status\n"
	"Show the state of the server: its id and version, its Raft role, the leader, the term,\n"
	"the commit and applied indexes, the number of logs, of nodes holding a lease and of\n"
	"connections, its health, and the Raft peers. Health: healthy (a leader is known and\n"
	"every voter is reachable), degraded (a leader is known and a majority of the voters is\n"
	"reachable, but not all), unavailable (no leader known, or no reachable majority). Only\n"
	"the leader sees every voter: ask it (a follower shows the other followers as such).\n"
	"\n"
	"Options: --json, and the global options (dmlogctl --help).\n"
	"Exit status: 0 healthy, 1 degraded, 2 unavailable, unreachable or TLS failure,\n"
	"3 usage error.\n";

static const char peers_usage[] =
	"Usage: dmlogctl [OPTIONS] peers\n"
	"Show the Raft peers as the server sees them: id, Raft address, role, voter.\n"
	"\n"
	"Options: --json, and the global options (dmlogctl --help).\n"
	"Exit status: 0 success, 1 the server refused, 2 unreachable or TLS failure, 3 usage error.\n";

/* Parses the verb's command line and asks ADMIN_STATUS. Returns the owned result, or NULL with
 * the exit code in *code (CTL_EXIT_OK after --help). */
static struct dmlog_result *status_query(struct ctl *ctl, int argc, char **argv, const char *verb,
					 const char *usage, int *code)
{
	static const struct dmlog_request req = {.op = DMLOG_OP_ADMIN_STATUS};
	int first;
	int rc = options_verb(ctl, argc, argv, verb, usage, 0, 0, &first);

	if (rc) {
		*code = rc > 0 ? CTL_EXIT_OK : CTL_EXIT_USAGE;
		return NULL;
	}
	return remote_query(ctl, &req, NULL, code);
}

enum health {
	HEALTHY,
	DEGRADED,
	UNAVAILABLE,
};

static const char *const health_names[] = {"healthy", "degraded", "unavailable"};

/* The health shown and exited with. The server's healthy flag says it serves (knows a leader,
 * not failed, not stopping); a voter it cannot reach has the role "unavailable" (only a leader
 * tells that). Healthy needs every voter reachable, degraded a reachable majority. */
static enum health status_health(const struct dmlog_server_status *st)
{
	size_t voters = 0, reachable = 0;

	if (!st->healthy || !*st->leader_id)
		return UNAVAILABLE;
	for (size_t i = 0; i < st->peer_count; i++) {
		if (!st->peers[i].voter)
			continue;
		voters++;
		if (strcmp(st->peers[i].role, "unavailable") != 0)
			reachable++;
	}
	if (reachable == voters)
		return HEALTHY;
	return reachable > voters / 2 ? DEGRADED : UNAVAILABLE;
}

static void peers_json(FILE *f, const struct dmlog_server_status *st)
{
	fputc('[', f);
	for (size_t i = 0; i < st->peer_count; i++) {
		const struct dmlog_peer_info *p = &st->peers[i];

		fputs(i ? ",{" : "{", f);
		fmt_json_member(f, "id", p->id, ",");
		fmt_json_member(f, "address", p->address, ",");
		fmt_json_member(f, "role", p->role, "");
		fprintf(f, ",\"voter\":%s}", p->voter ? "true" : "false");
	}
	fputc(']', f);
}

/* The peers table; returns 0 or -ENOMEM. */
static int peers_text(FILE *f, const struct dmlog_server_status *st, int indent)
{
	static const char *const headers[] = {"ID", "ADDRESS", "ROLE", "VOTER"};
	struct table *t = table_new(4, headers, NULL);
	int rc = 0;

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < st->peer_count && rc == 0; i++) {
		const struct dmlog_peer_info *p = &st->peers[i];
		const char *cells[] = {p->id, *p->address ? p->address : "-", p->role,
				       p->voter ? "yes" : "no"};

		rc = table_add(t, cells);
	}
	if (rc == 0)
		table_print(t, f, indent);
	table_free(t);
	return rc;
}

static void status_json(FILE *f, const struct dmlog_server_status *st)
{
	fputc('{', f);
	fmt_json_member(f, "server_id", st->server_id, ",");
	fmt_json_member(f, "version", st->version, ",");
	fmt_json_member(f, "raft_role", st->raft_role, ",");
	fmt_json_member_or_null(f, "leader_id", st->leader_id, "");
	fprintf(f,
		",\"term\":%" PRIu64 ",\"commit_index\":%" PRIu64 ",\"applied_index\":%" PRIu64
		",\"log_count\":%" PRIu32 ",\"node_count\":%" PRIu32 ",\"connection_count\":%" PRIu32
		",\"health\":\"%s\",\"healthy\":%s,\"peers\":",
		st->term, st->commit_index, st->applied_index, st->log_count, st->node_count,
		st->connection_count, health_names[status_health(st)],
		st->healthy ? "true" : "false");
	peers_json(f, st);
	fputs("}\n", f);
}

static int status_text(FILE *f, const struct dmlog_server_status *st)
{
	fmt_field(f, "server", "%s", st->server_id);
	fmt_field(f, "version", "%s", *st->version ? st->version : "-");
	fmt_field(f, "raft role", "%s", st->raft_role);
	fmt_field(f, "leader", "%s", *st->leader_id ? st->leader_id : "none");
	fmt_field(f, "term", "%" PRIu64, st->term);
	fmt_field(f, "commit index", "%" PRIu64, st->commit_index);
	fmt_field(f, "applied index", "%" PRIu64, st->applied_index);
	fmt_field(f, "logs", "%" PRIu32, st->log_count);
	fmt_field(f, "nodes", "%" PRIu32, st->node_count);
	fmt_field(f, "connections", "%" PRIu32, st->connection_count);
	fmt_field(f, "health", "%s", health_names[status_health(st)]);
	fmt_field(f, "peers", "%zu", st->peer_count);
	return st->peer_count ? peers_text(f, st, 2) : 0;
}

int status_run(struct ctl *ctl, int argc, char **argv)
{
	int code = CTL_EXIT_OK;
	struct dmlog_result *res = status_query(ctl, argc, argv, "status", status_usage, &code);

	if (!res)
		return code;
	if (ctl->json) {
		status_json(stdout, &res->status);
	} else if (status_text(stdout, &res->status)) {
		fprintf(stderr, "dmlogctl: out of memory\n");
		dmlog_result_free(res);
		return CTL_EXIT_FAILED;
	}
	switch (status_health(&res->status)) {
	case HEALTHY:
		code = CTL_EXIT_OK;
		break;
	case DEGRADED:
		code = CTL_EXIT_FAILED;
		break;
	default:
		code = CTL_EXIT_UNREACHABLE;
		break;
	}
	dmlog_result_free(res);
	return code;
}

int peers_run(struct ctl *ctl, int argc, char **argv)
{
	int code = CTL_EXIT_OK;
	struct dmlog_result *res = status_query(ctl, argc, argv, "peers", peers_usage, &code);

	if (!res)
		return code;
	if (ctl->json) {
		peers_json(stdout, &res->status);
		fputc('\n', stdout);
	} else if (peers_text(stdout, &res->status, 0)) {
		fprintf(stderr, "dmlogctl: out of memory\n");
		code = CTL_EXIT_FAILED;
	}
	dmlog_result_free(res);
	return code;
}
