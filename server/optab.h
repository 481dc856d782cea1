/* optab.h: table-driven settings — typed values with bounds, an INI file, --key=value arguments,
 * --help lines, the effective-settings printer, the documented default file and SIGHUP reloads.
 *
 * A program describes its settings once, as a table of rows (struct optab_option) that point at
 * the fields of its own settings struct by offset; everything here walks that table, so the
 * parser, the help, the example file and the reload diff can never disagree. dmlogd's table
 * lives in config.c, dmlog-bridge's in kernel-bridge/bridge_config.c.
 *
 * File syntax: "key = value" lines; blank lines and lines starting with '#' or ';' are ignored;
 * an unquoted value ends at a '#' or ';' preceded by whitespace; a value may be written in double
 * quotes (with \" and \\ escapes); an optional single "[SECTION]" header naming the table's
 * section. Keys may be spelled with '-' or '_'. Each key may appear once. Errors name the line:
 * "dmlogd.ini:12: unknown key 'lisen' (did you mean 'listen'?)".
 *
 * Value syntax by type: int: decimal; bool: yes/no, true/false, on/off, 1/0; duration: an
 * integer with ms, s, m or h (a bare number is milliseconds); size: an integer with K, M or G
 * (binary: 1K = 1024; KiB, MiB, GiB and B also accepted); address: HOST:PORT or [IPv6]:PORT.
 *
 * Precedence: the row defaults, then the file, then --key=value overrides from the command line.
 * A reload repeats the same steps with the same path and overrides.
 *
 * Ownership: string fields of a settings struct are owned by it (malloc'ed); optab_free()
 * releases them. Values are always parsed and checked completely before they replace the stored
 * one, so an error never leaves a setting half-set. Not thread-safe: one thread loads and
 * reloads.
 */
#ifndef DMLOG_SERVER_OPTAB_H
#define DMLOG_SERVER_OPTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Longest accepted line of a file, newline excluded. */
#define OPTAB_LINE_MAX 4096
/* Most rows in a table: a reload reports its changes as a 64-bit mask of row indexes. */
#define OPTAB_ROWS_MAX 64

#define OPTAB_BIT(index) (UINT64_C(1) << (index))

enum optab_type {
	OPTAB_T_STRING,   /* char *, printable; min/max bound the length; optional check hook */
	OPTAB_T_ADDRESS,  /* char *, HOST:PORT or [IPv6]:PORT */
	OPTAB_T_CUSTOM,   /* char *, checked by the row's check hook alone */
	OPTAB_T_INT,      /* int64_t */
	OPTAB_T_BOOL,     /* bool */
	OPTAB_T_DURATION, /* int64_t, milliseconds */
	OPTAB_T_SIZE,     /* int64_t, bytes */
	OPTAB_T_ENUM,     /* int, one of the row's choices */
};

struct optab_choice {
	const char *name;
	int value;
};

struct optab_option;

/* Checks a string value beyond its type. Returns 0, or -EINVAL with the whole message
 * ("NAME: cause", NAME being o->name) in err. */
typedef int optab_check_fn(const struct optab_option *o, const char *value, char *err,
			   size_t errlen);

/* A row of a table. */
struct optab_option {
	const char *name;
	enum optab_type type;
	size_t offset;                       /* of the field in the settings struct */
	const char *def;                     /* the default, spelled as in the file */
	int64_t min, max;                    /* value bounds (OPTAB_T_STRING: length bounds) */
	const struct optab_choice *choices;  /* OPTAB_T_ENUM: ends with a NULL name */
	bool reloadable;                     /* SIGHUP applies a new value */
	const char *doc;                     /* one line */
	const char *metavar;                 /* for --help: what the value looks like */
	optab_check_fn *check;               /* OPTAB_T_CUSTOM: required; STRING: optional */
	const char *values;                  /* OPTAB_T_CUSTOM: what values look like */
};

/* A program's table and what the generic code needs to know about its settings struct. */
struct optab {
	const struct optab_option *rows;
	size_t count;                        /* 1..OPTAB_ROWS_MAX */
	size_t size;                         /* sizeof the settings struct */
	const char *section;                 /* the one "[section]" a file may hold */
	const char *program;                 /* "dmlogd": in printed files and messages */
	const char *version;
	/* The rules between settings, run after every build; 0 or -EINVAL with err. May be NULL. */
	int (*validate)(const void *obj, char *err, size_t errlen);
};

/* Where the settings came from: kept for reloads. Owned strings. */
struct optab_sources {
	char *path;           /* the file to read (NULL: none) */
	bool path_explicit;   /* given with --config: a missing file is an error */
	char **overrides;     /* "key=value" from the command line, in order */
	size_t n_overrides;
};

/* What the command line asks for. */
enum optab_action {
	OPTAB_ACTION_RUN,
	OPTAB_ACTION_HELP,
	OPTAB_ACTION_VERSION,
	OPTAB_ACTION_CHECK,         /* --check-config */
	OPTAB_ACTION_PRINT,         /* --print-config: the effective settings */
	OPTAB_ACTION_PRINT_DEFAULT, /* --print-default-config: the documented example file */
};

/* Exit statuses of the actions that end the process. */
enum optab_exit {
	OPTAB_EXIT_OK = 0,
	OPTAB_EXIT_FAILURE = 1, /* also "--check-config found a problem" */
	OPTAB_EXIT_USAGE = 2,   /* bad command line or settings */
};

/* The row named by name[0, n) ('-' and '_' alike) and its index in *index (may be NULL); NULL
 * if none. */
const struct optab_option *optab_find(const struct optab *t, const char *name, size_t n,
				      size_t *index);

/* Sets every row of obj to its default after zeroing the whole struct (any previous content is
 * overwritten, not freed). 0, or -ENOMEM (obj is then left freeable). */
int optab_init(const struct optab *t, void *obj);

/* Frees the string fields of obj and sets them to NULL. A zeroed obj is fine. */
void optab_free(const struct optab *t, void *obj);

/* Parses value for the row named name, checks type and bounds and stores it. On error obj is
 * unchanged and err holds "NAME: cause". 0, -EINVAL (unknown name or bad value) or -ENOMEM. */
int optab_set(const struct optab *t, void *obj, const char *name, const char *value, char *err,
	      size_t errlen);

/* Reads an INI file into obj (on top of what it holds). On error err holds "PATH:LINE: cause"
 * or "open PATH: cause" and obj may hold the lines before the bad one. 0, -EINVAL, -ENOMEM or
 * the -errno of open/read. */
int optab_load_file(const struct optab *t, void *obj, const char *path, char *err, size_t errlen);

/* Writes row index of obj as the file would spell it ("1MiB", "60s", "notice"). Returns the
 * length it needed (snprintf-like). */
int optab_format(const struct optab *t, const void *obj, size_t index, char *buf, size_t len);

/* True when a and b hold the same value for row index. */
bool optab_same(const struct optab *t, const void *a, const void *b, size_t index);

/* Writes the names of the rows in mask, comma-separated ("log_level,ca_file"), or "none". */
void optab_mask_names(const struct optab *t, uint64_t mask, char *buf, size_t len);

/* The action the flags ask for (--help, -h, --version, -V, --print-default-config,
 * --check-config, --print-config; in that order of precedence); OPTAB_ACTION_RUN without one. */
enum optab_action optab_scan_action(int argc, char *const argv[]);

/* Builds obj from the command line (argv[0] is the program): defaults, the file (--config FILE,
 * else default_path, which may be missing), then the --key=value overrides, then t->validate.
 * *action is set from the flags before anything can fail. For HELP, VERSION and PRINT_DEFAULT
 * only the defaults are set and no file is read. src receives the sources (free them with
 * optab_sources_free()) whatever the result, and obj must be optab_free()d whatever the result.
 * 0, -EINVAL (err says why), -ENOMEM or an -errno from reading the file. */
int optab_from_args(const struct optab *t, void *obj, struct optab_sources *src, int argc,
		    char *const argv[], const char *default_path, enum optab_action *action,
		    char *err, size_t errlen);

/* Releases what src owns and zeroes it. */
void optab_sources_free(struct optab_sources *src);

/* Re-reads src's file with src's overrides into a fresh struct. If anything fails, obj is
 * untouched and the error is returned. Otherwise reloadable rows take their new values
 * (*changed) and the others keep theirs (*ignored names those whose new value needs a
 * restart); the merged result must pass t->validate. */
int optab_reload(const struct optab *t, void *obj, const struct optab_sources *src,
		 uint64_t *changed, uint64_t *ignored, char *err, size_t errlen);

/* Writes the effective settings of obj as a valid INI file, headed by a comment naming the
 * program, its version and path (NULL: "none"). */
void optab_print(const struct optab *t, const void *obj, const char *path, FILE *out);

/* Writes the example file: header (comment lines, verbatim), the [section] line, then every row
 * documented and commented out at its default. */
void optab_print_default(const struct optab *t, const char *header, FILE *out);

/* Writes one --help line per row. */
void optab_usage(const struct optab *t, FILE *out);

/* What a program supplies to optab_run_action(). */
struct optab_program {
	const struct optab *table;
	void (*usage)(FILE *out, const char *prog);
	void (*print_default)(FILE *out);
	/* --check-config beyond parsing (loading the TLS files, ...): 0 or -errno with err. */
	int (*check)(const void *obj, char *err, size_t errlen);
	const char *(*path)(const void *obj); /* the file obj was read from, for --print-config */
};

/* Finishes the actions that end the process. Given the action and the result of loading the
 * settings (load_rc, load_err), prints what the action prints (results on out, errors as
 * "PROG: error" on errout) and returns the exit status; for OPTAB_ACTION_RUN with load_rc == 0
 * returns -1: go on and start. A load error gives OPTAB_EXIT_USAGE, except under
 * --check-config, which exits 1 ("config OK" and 0 when everything loads and checks). */
int optab_run_action(const struct optab_program *p, enum optab_action action, int load_rc,
		     const char *load_err, const void *obj, const char *prog, FILE *out,
		     FILE *errout);

/* Splits "HOST:PORT" or "[IPv6]:PORT" (port 1-65535). host gets the host without brackets.
 * 0 or -EINVAL with err. */
int optab_split_address(const char *addr, char *host, size_t hostlen, uint16_t *port, char *err,
			size_t errlen);

/* Parses the unsigned decimal prefix of s into *out; returns the rest of s, or NULL when s does
 * not start with a digit or the number overflows. */
const char *optab_digits(const char *s, int64_t *out);

/* Writes "key = value" (prefix before the key, e.g. "#"), quoting values the parser would
 * otherwise cut or trim. */
void optab_print_pair(FILE *out, const char *prefix, const char *name, const char *value);

#endif /* DMLOG_SERVER_OPTAB_H */
