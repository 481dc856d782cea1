/* options.c: dmlogctl's command line and environment (see options.h). */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIMEOUT_MAX_MS 86400000ul  /* a day: anything longer is a typo */

enum { OPT_CA = 1000, OPT_CERT, OPT_KEY };

static const struct option long_options[] = {
	{"server", required_argument, NULL, 's'},
	{"ca", required_argument, NULL, OPT_CA},
	{"cert", required_argument, NULL, OPT_CERT},
	{"key", required_argument, NULL, OPT_KEY},
	{"timeout", required_argument, NULL, 't'},
	{"json", no_argument, NULL, 'j'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

void options_usage_error(const char *name, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "dmlogctl: %s%s", name ? name : "", name ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'dmlogctl %s%s--help'.\n", name ? name : "", name ? " " : "");
}

static int add_server(struct ctl *ctl, const char *addr, const char *name)
{
	if (!*addr) {
		options_usage_error(name, "empty server address (want HOST:PORT)");
		return -EINVAL;
	}
	if (ctl->server_count == DMLOG_MAX_SERVERS) {
		options_usage_error(name, "more than %d servers", DMLOG_MAX_SERVERS);
		return -EINVAL;
	}
	ctl->servers[ctl->server_count++] = addr;
	return 0;
}

int options_init(struct ctl *ctl)
{
	const char *v;

	memset(ctl, 0, sizeof(*ctl));
	ctl->ca = (v = getenv("DMLOG_CA")) && *v ? v : CTL_DEFAULT_CA;
	ctl->cert = (v = getenv("DMLOG_CERT")) && *v ? v : CTL_DEFAULT_CERT;
	ctl->key = (v = getenv("DMLOG_KEY")) && *v ? v : CTL_DEFAULT_KEY;
	ctl->timeout_ms = CTL_DEFAULT_TIMEOUT_MS;
	v = getenv("DMLOG_SERVER");
	if (!v || !*v) {
		ctl->servers[0] = CTL_DEFAULT_SERVER;
		ctl->server_count = 1;
		return 0;
	}
	/* A comma-separated list, split in an owned copy. */
	ctl->server_buf = strdup(v);
	if (!ctl->server_buf)
		return -ENOMEM;
	for (char *save = NULL, *p = strtok_r(ctl->server_buf, ",", &save); p;
	     p = strtok_r(NULL, ",", &save)) {
		if (ctl->server_count == DMLOG_MAX_SERVERS) {
			fprintf(stderr, "dmlogctl: DMLOG_SERVER: more than %d servers\n",
				DMLOG_MAX_SERVERS);
			return -EINVAL;
		}
		ctl->servers[ctl->server_count++] = p;
	}
	if (ctl->server_count == 0) {
		fprintf(stderr, "dmlogctl: DMLOG_SERVER: no server in '%s'\n", v);
		return -EINVAL;
	}
	return 0;
}

void options_free(struct ctl *ctl)
{
	free(ctl->server_buf);
	ctl->server_buf = NULL;
}

static int parse_timeout(struct ctl *ctl, const char *s, const char *name)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || *s == '+' || v == 0 || v > TIMEOUT_MAX_MS) {
		options_usage_error(name, "--timeout: '%s' is not a number of milliseconds (1 to %lu)",
				    s, TIMEOUT_MAX_MS);
		return -EINVAL;
	}
	ctl->timeout_ms = (uint32_t)v;
	return 0;
}

/* Runs getopt_long over argv; global mode stops at the first non-option (the verb). */
static int parse(struct ctl *ctl, int argc, char **argv, bool global, const char *name,
		 bool *version)
{
	int c;

	opterr = 0;
	optind = 0; /* glibc: start afresh, permutation state included */
	while ((c = getopt_long(argc, argv, global ? "+:s:t:jhV" : ":s:t:jhV", long_options,
				NULL)) != -1) {
		switch (c) {
		case 's':
			if (!ctl->servers_from_cli) {
				ctl->server_count = 0; /* the command line replaces the defaults */
				ctl->servers_from_cli = true;
			}
			if (add_server(ctl, optarg, name))
				return -EINVAL;
			break;
		case OPT_CA:
			ctl->ca = optarg;
			break;
		case OPT_CERT:
			ctl->cert = optarg;
			break;
		case OPT_KEY:
			ctl->key = optarg;
			break;
		case 't':
			if (parse_timeout(ctl, optarg, name))
				return -EINVAL;
			break;
		case 'j':
			ctl->json = true;
			break;
		case 'h':
			ctl->help = true;
			break;
		case 'V':
			if (!global) {
				options_usage_error(name, "--version goes before the verb");
				return -EINVAL;
			}
			*version = true;
			break;
		case ':':
			options_usage_error(name, "option '%s' needs a value", argv[optind - 1]);
			return -EINVAL;
		default:
			if (optopt && optopt < 256)
				options_usage_error(name, "unknown option '-%c'", optopt);
			else
				options_usage_error(name, "unknown option '%s'", argv[optind - 1]);
			return -EINVAL;
		}
	}
	return 0;
}

int options_global(struct ctl *ctl, int argc, char **argv, int *next, bool *version)
{
	int rc;

	*version = false;
	rc = parse(ctl, argc, argv, true, NULL, version);
	*next = optind;
	return rc;
}

int options_verb(struct ctl *ctl, int argc, char **argv, const char *name, const char *usage,
		 int min_args, int max_args, int *first)
{
	int n;

	ctl->help = false;
	if (parse(ctl, argc, argv, false, name, NULL))
		return -EINVAL;
	if (ctl->help) {
		fputs(usage, stdout);
		return 1;
	}
	n = argc - optind;
	if (n < min_args) {
		options_usage_error(name, "missing argument");
		return -EINVAL;
	}
	if (n > max_args) {
		options_usage_error(name, "unexpected argument '%s'", argv[optind + max_args]);
		return -EINVAL;
	}
	*first = optind;
	return 0;
}
