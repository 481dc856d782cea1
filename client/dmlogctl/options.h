/* options.h: dmlogctl's command line and environment.
 *
 * The global options may come before the verb and after it (`dmlogctl --json logs` and
 * `dmlogctl logs --json` are the same). Precedence: built-in defaults, then DMLOG_SERVER,
 * DMLOG_CA, DMLOG_CERT, DMLOG_KEY, then the command line. Usage errors are reported on stderr
 * here, each followed by a pointer to the right --help.
 */
#ifndef DMLOGCTL_OPTIONS_H
#define DMLOGCTL_OPTIONS_H

#include "ctl.h"

/* Fills ctl with the defaults and the environment. Returns 0, or -EINVAL (an unusable
 * environment variable, reported) or -ENOMEM. */
int options_init(struct ctl *ctl);

/* Releases what options_init() allocated. */
void options_free(struct ctl *ctl);

/* Parses the options before the verb: argv[*next] is then the verb (or *next == argc).
 * *version is set by --version. Returns 0 or -EINVAL (reported). */
int options_global(struct ctl *ctl, int argc, char **argv, int *next, bool *version);

/* Parses a verb's arguments: argv[0] is the verb, `name` its full name for messages ("log
 * show"), usage its help text. Options are accepted anywhere; the remaining positional
 * arguments, min_args to max_args of them, are moved to argv[*first..argc). Returns 0; 1 when
 * --help printed the usage (exit 0); -EINVAL on a usage error (reported: exit 3). */
int options_verb(struct ctl *ctl, int argc, char **argv, const char *name, const char *usage,
		 int min_args, int max_args, int *first);

/* Reports a usage error ("dmlogctl: ..." and where to find help) on stderr. `name` is the verb
 * ("log show") or NULL for the global level. */
void options_usage_error(const char *name, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* DMLOGCTL_OPTIONS_H */
