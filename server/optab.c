/* optab.c: settings driven by a program's table of rows: values, the file, the command line.
 *
 * Everything here takes the table as a parameter and reaches the settings through the rows'
 * offsets, so dmlogd and dmlog-bridge share one parser. A value is always parsed and checked
 * completely before it replaces the stored one. In order: values and the settings struct, the
 * INI reader, the command line and reloads, then the printers. See optab.h for the syntax.
 */
#include "optab.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KIB INT64_C(1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)
#define SEC INT64_C(1000)
#define MIN (SEC * 60)
#define HOUR (MIN * 60)

static void *optab_field(const struct optab_option *o, void *obj)
{
	return (char *)obj + o->offset;
}

static const void *optab_cfield(const struct optab_option *o, const void *obj)
{
	return (const char *)obj + o->offset;
}

static bool optab_is_string(enum optab_type t)
{
	return t == OPTAB_T_STRING || t == OPTAB_T_ADDRESS || t == OPTAB_T_CUSTOM;
}

static bool optab_is_number(enum optab_type t)
{
	return t == OPTAB_T_INT || t == OPTAB_T_DURATION || t == OPTAB_T_SIZE;
}

static size_t optab_field_size(enum optab_type t)
{
	if (optab_is_string(t))
		return sizeof(char *);
	if (optab_is_number(t))
		return sizeof(int64_t);
	return t == OPTAB_T_BOOL ? sizeof(bool) : sizeof(int);
}

/* Compares a row name with a user's spelling, where '-' stands for '_'. */
static bool optab_name_is(const char *name, const char *spelled, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = spelled[i] == '-' ? '_' : spelled[i];
		if (name[i] == '\0' || name[i] != c)
			return false;
	}
	return name[i] == '\0';
}

const struct optab_option *optab_find(const struct optab *t, const char *name, size_t n,
				      size_t *index)
{
	for (size_t k = 0; k < t->count; k++) {
		if (optab_name_is(t->rows[k].name, name, n)) {
			if (index != NULL)
				*index = k;
			return &t->rows[k];
		}
	}
	return NULL;
}

/* The row name closest to a misspelling (edit distance at most 2), or NULL. */
static const char *optab_suggest(const struct optab *t, const char *s, size_t n)
{
	const char *best = NULL;
	size_t best_d = 3;

	if (n > 40)
		return NULL;
	for (size_t k = 0; k < t->count; k++) {
		const char *name = t->rows[k].name;
		size_t m = strlen(name), row[41], prev, i, j;

		if (m > 40)
			continue;
		for (j = 0; j <= m; j++)
			row[j] = j;
		for (i = 1; i <= n; i++) {
			char c = s[i - 1] == '-' ? '_' : s[i - 1];
			prev = row[0];
			row[0] = i;
			for (j = 1; j <= m; j++) {
				size_t sub = prev + (c != name[j - 1]);
				size_t del = row[j] + 1, ins = row[j - 1] + 1;
				prev = row[j];
				size_t low = sub < del ? sub : del;
				row[j] = low < ins ? low : ins;
			}
		}
		if (row[m] < best_d && row[m] < m) {
			best_d = row[m];
			best = name;
		}
	}
	return best;
}

static void optab_unknown(const struct optab *t, char *err, size_t errlen, const char *noun,
		   const char *dash, const char *s, size_t n)
{
	const char *hint = optab_suggest(t, s, n);

	if (hint != NULL)
		snprintf(err, errlen, "unknown %s '%s%.*s' (did you mean '%s%s'?)", noun, dash,
			 (int)n, s, dash, hint);
	else
		snprintf(err, errlen, "unknown %s '%s%.*s'", noun, dash, (int)n, s);
}

const char *optab_digits(const char *s, int64_t *out)
{
	int64_t v = 0;

	if (*s < '0' || *s > '9')
		return NULL;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (INT64_MAX - (*s - '0')) / 10)
			return NULL;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return s;
}

struct optab_unit {
	const char *name;
	int64_t mult;
};

static const struct optab_unit optab_duration_units[] = {
	{"ms", 1}, {"", 1}, {"s", SEC}, {"m", MIN}, {"min", MIN}, {"h", HOUR}, {NULL, 0},
};

static const struct optab_unit optab_size_units[] = {
	{"", 1},	  {"b", 1},	  {"k", KIB}, {"kib", KIB}, {"m", MIB},
	{"mib", MIB}, {"g", GIB}, {"gib", GIB}, {NULL, 0},
};

/* Parses a number with an optional unit from units (case-insensitive). */
static int optab_parse_units(const char *s, const struct optab_unit *units, int64_t *out)
{
	int64_t v;
	const char *rest = optab_digits(s, &v);

	if (rest == NULL)
		return -EINVAL;
	for (; units->name != NULL; units++) {
		if (strcasecmp(rest, units->name) == 0) {
			if (v > INT64_MAX / units->mult)
				return -ERANGE;
			*out = v * units->mult;
			return 0;
		}
	}
	return -EINVAL;
}

/* Writes v with the largest unit that divides it exactly. */
static int optab_format_units(int64_t v, enum optab_type t, char *buf, size_t len)
{
	static const struct optab_unit dur[] = {{"h", HOUR}, {"m", MIN}, {"s", SEC}, {NULL, 0}};
	static const struct optab_unit size[] = {{"GiB", GIB}, {"MiB", MIB}, {"KiB", KIB},
						 {NULL, 0}};
	const struct optab_unit *u = t == OPTAB_T_DURATION ? dur : size;

	for (; v != 0 && u->name != NULL; u++) {
		if (v % u->mult == 0)
			return snprintf(buf, len, "%" PRId64 "%s", v / u->mult, u->name);
	}
	return snprintf(buf, len, "%" PRId64 "%s", v, t == OPTAB_T_DURATION ? "ms" : "");
}

/* Checks "HOST" of an address: an IPv4 literal or a DNS name. */
static bool optab_host_ok(const char *h, size_t n)
{
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = h[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-'))
			return false;
	}
	return h[0] != '-' && h[0] != '.';
}

int optab_split_address(const char *addr, char *host, size_t hostlen, uint16_t *port, char *err,
			size_t errlen)
{
	const char *colon, *h = addr;
	size_t hn;
	int64_t p;
	const char *rest;

	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');
		unsigned char a6[16];
		char tmp[64];

		if (close == NULL || close[1] != ':' || (size_t)(close - addr - 1) >= sizeof(tmp))
			goto bad;
		hn = (size_t)(close - addr - 1);
		memcpy(tmp, addr + 1, hn);
		tmp[hn] = '\0';
		if (inet_pton(AF_INET6, tmp, a6) != 1)
			goto bad;
		h = addr + 1;
		colon = close + 1;
	} else {
		colon = strrchr(addr, ':');
		if (colon == NULL)
			goto bad;
		hn = (size_t)(colon - addr);
		if (memchr(addr, ':', hn) != NULL || !optab_host_ok(addr, hn))
			goto bad;
	}
	rest = optab_digits(colon + 1, &p);
	if (rest == NULL || *rest != '\0' || p < 1 || p > 65535)
		goto bad;
	if (hn >= hostlen) {
		snprintf(err, errlen, "'%s': host name too long", addr);
		return -EINVAL;
	}
	memcpy(host, h, hn);
	host[hn] = '\0';
	*port = (uint16_t)p;
	return 0;
bad:
	snprintf(err, errlen, "'%s' is not HOST:PORT or [IPv6]:PORT with a port of 1-65535", addr);
	return -EINVAL;
}

/* A parsed, checked value waiting to be stored. */
union optab_value {
	char *s;
	int64_t i;
	bool b;
	int e;
};

static void optab_bound(const struct optab_option *o, int64_t v, char *buf, size_t len)
{
	if (o->type == OPTAB_T_INT)
		snprintf(buf, len, "%" PRId64, v);
	else
		optab_format_units(v, o->type, buf, len);
}

/* Parses and checks a number of type int, duration or size against the row's bounds. */
static int optab_parse_number(const struct optab_option *o, const char *v, int64_t *out,
			      char *err, size_t errlen)
{
	char lo[32], hi[32];
	int rc;

	if (o->type == OPTAB_T_INT) {
		const char *rest = optab_digits(v, out);
		rc = rest == NULL || *rest != '\0' ? -EINVAL : 0;
	} else {
		const struct optab_unit *units =
			o->type == OPTAB_T_SIZE ? optab_size_units : optab_duration_units;
		rc = optab_parse_units(v, units, out);
	}
	if (rc == -EINVAL) {
		snprintf(err, errlen, "%s: '%.64s' is not %s", o->name, v,
			 o->type == OPTAB_T_INT	   ? "a whole number"
			 : o->type == OPTAB_T_SIZE ? "a size (like 4096, 64K, 1M, 2G)"
						   : "a duration (like 300ms, 10s, 5m, 1h)");
		return -EINVAL;
	}
	optab_bound(o, o->min, lo, sizeof(lo));
	optab_bound(o, o->max, hi, sizeof(hi));
	if (rc != 0 || *out < o->min || *out > o->max) {
		snprintf(err, errlen, "%s: %.64s is out of range %s..%s", o->name, v, lo, hi);
		return -EINVAL;
	}
	return 0;
}

/* Checks a string value by its type; the caller copies it afterwards. */
static int optab_check_string(const struct optab_option *o, const char *v, char *err,
			      size_t errlen)
{
	size_t n = strlen(v);

	switch (o->type) {
	case OPTAB_T_STRING:
		for (size_t i = 0; i < n; i++) {
			if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) {
				snprintf(err, errlen, "%s: control character in value", o->name);
				return -EINVAL;
			}
		}
		if ((int64_t)n < o->min || (int64_t)n > o->max) {
			snprintf(err, errlen, "%s: %s", o->name,
				 n == 0 ? "must not be empty" : "value too long");
			return -EINVAL;
		}
		return o->check != NULL ? o->check(o, v, err, errlen) : 0;
	case OPTAB_T_ADDRESS: {
		char host[256], why[300];
		uint16_t port;

		if (optab_split_address(v, host, sizeof(host), &port, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "%s: %s", o->name, why);
			return -EINVAL;
		}
		return 0;
	}
	default:
		if (o->check == NULL) {
			snprintf(err, errlen, "%s: the table gives no check", o->name);
			return -EINVAL;
		}
		return o->check(o, v, err, errlen);
	}
}

/* Parses and checks one value; on success a string value is malloc'ed in out->s. */
static int optab_parse(const struct optab_option *o, const char *v, union optab_value *out,
		       char *err, size_t errlen)
{
	switch (o->type) {
	case OPTAB_T_INT:
	case OPTAB_T_DURATION:
	case OPTAB_T_SIZE:
		return optab_parse_number(o, v, &out->i, err, errlen);
	case OPTAB_T_BOOL:
		if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcasecmp(v, "on") ||
		    !strcmp(v, "1")) {
			out->b = true;
		} else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") ||
			   !strcasecmp(v, "off") || !strcmp(v, "0")) {
			out->b = false;
		} else {
			snprintf(err, errlen, "%s: '%.64s' is not yes or no", o->name, v);
			return -EINVAL;
		}
		return 0;
	case OPTAB_T_ENUM: {
		size_t used = 0;
		char list[128] = "";

		for (const struct optab_choice *c = o->choices; c->name != NULL; c++) {
			if (strcmp(v, c->name) == 0) {
				out->e = c->value;
				return 0;
			}
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
						 used > 0 ? ", " : "", c->name);
			if (used >= sizeof(list))
				used = sizeof(list) - 1;
		}
		snprintf(err, errlen, "%s: '%.64s' is not one of %s", o->name, v, list);
		return -EINVAL;
	}
	default:
		break;
	}
	if (optab_check_string(o, v, err, errlen) != 0)
		return -EINVAL;
	out->s = strdup(v);
	if (out->s == NULL) {
		snprintf(err, errlen, "%s: out of memory", o->name);
		return -ENOMEM;
	}
	return 0;
}

/* Stores a parsed value, freeing the string it replaces. */
static void optab_store(const struct optab_option *o, void *obj, union optab_value *v)
{
	void *f = optab_field(o, obj);

	if (optab_is_string(o->type)) {
		free(*(char **)f);
		*(char **)f = v->s;
	} else if (optab_is_number(o->type)) {
		*(int64_t *)f = v->i;
	} else if (o->type == OPTAB_T_BOOL) {
		*(bool *)f = v->b;
	} else {
		*(int *)f = v->e;
	}
}

int optab_set(const struct optab *t, void *obj, const char *name, const char *value, char *err,
	      size_t errlen)
{
	const struct optab_option *o = optab_find(t, name, strlen(name), NULL);
	union optab_value v;
	int rc;

	if (o == NULL) {
		optab_unknown(t, err, errlen, "key", "", name, strlen(name));
		return -EINVAL;
	}
	rc = optab_parse(o, value, &v, err, errlen);
	if (rc == 0)
		optab_store(o, obj, &v);
	return rc;
}

int optab_init(const struct optab *t, void *obj)
{
	char err[256];

	memset(obj, 0, t->size);
	for (size_t k = 0; k < t->count; k++) {
		int rc = optab_set(t, obj, t->rows[k].name, t->rows[k].def, err, sizeof(err));
		if (rc != 0)
			return rc; /* only -ENOMEM: every default parses (unit-tested) */
	}
	return 0;
}

void optab_free(const struct optab *t, void *obj)
{
	for (size_t k = 0; k < t->count; k++) {
		if (optab_is_string(t->rows[k].type)) {
			char **f = optab_field(&t->rows[k], obj);

			free(*f);
			*f = NULL;
		}
	}
}

bool optab_same(const struct optab *t, const void *a, const void *b, size_t index)
{
	const struct optab_option *o = &t->rows[index];
	const void *fa = optab_cfield(o, a), *fb = optab_cfield(o, b);

	if (optab_is_string(o->type))
		return strcmp(*(char *const *)fa, *(char *const *)fb) == 0;
	return memcmp(fa, fb, optab_field_size(o->type)) == 0;
}

int optab_format(const struct optab *t, const void *obj, size_t index, char *buf, size_t len)
{
	const struct optab_option *o = &t->rows[index];
	const void *f = optab_cfield(o, obj);

	switch (o->type) {
	case OPTAB_T_INT:
		return snprintf(buf, len, "%" PRId64, *(const int64_t *)f);
	case OPTAB_T_DURATION:
	case OPTAB_T_SIZE:
		return optab_format_units(*(const int64_t *)f, o->type, buf, len);
	case OPTAB_T_BOOL:
		return snprintf(buf, len, "%s", *(const bool *)f ? "yes" : "no");
	case OPTAB_T_ENUM:
		for (const struct optab_choice *c = o->choices; c->name != NULL; c++) {
			if (c->value == *(const int *)f)
				return snprintf(buf, len, "%s", c->name);
		}
		return snprintf(buf, len, "?");
	default:
		return snprintf(buf, len, "%s", *(char *const *)f);
	}
}

void optab_mask_names(const struct optab *t, uint64_t mask, char *buf, size_t len)
{
	size_t used = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (size_t k = 0; k < t->count && used + 1 < len; k++) {
		if (mask & OPTAB_BIT(k)) {
			int n = snprintf(buf + used, len - used, "%s%s", used > 0 ? "," : "",
					 t->rows[k].name);
			used = n > 0 && used + (size_t)n < len ? used + (size_t)n : len - 1;
		}
	}
	if (used == 0)
		snprintf(buf, len, "none");
}

/* ---------------------------------------------------------------- the INI file */

static char *optab_trim(char *s)
{
	size_t n;

	s += strspn(s, " \t");
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* Cuts an unquoted value at a comment ('#' or ';' at its start or after whitespace). */
static void optab_cut_comment(char *v)
{
	for (char *p = v; *p != '\0'; p++) {
		if ((*p == '#' || *p == ';') && (p == v || p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			return;
		}
	}
}

/* Unquotes "..." in place (escapes \" and \\); anything after it must be a comment. */
static int optab_unquote(char *v, char *err, size_t errlen)
{
	char *r = v + 1, *w = v;

	for (; *r != '"'; r++) {
		if (*r == '\0') {
			snprintf(err, errlen, "unterminated quoted value");
			return -EINVAL;
		}
		if (*r == '\\') {
			r++;
			if (*r != '"' && *r != '\\') {
				snprintf(err, errlen,
					 "unknown escape in quoted value (use \\\" or \\\\)");
				return -EINVAL;
			}
		}
		*w++ = *r;
	}
	*w = '\0';
	r = optab_trim(r + 1);
	if (*r != '\0' && *r != '#' && *r != ';') {
		snprintf(err, errlen, "text after the closing quote");
		return -EINVAL;
	}
	return 0;
}

/* A "[section]" line: only the table's own section, once. */
static int optab_section(const struct optab *t, char *s, unsigned *section, char *err,
			 size_t errlen)
{
	char *close = strchr(s, ']');
	char *after = close != NULL ? optab_trim(close + 1) : NULL;

	if (close == NULL || (*after != '\0' && *after != '#' && *after != ';')) {
		snprintf(err, errlen, "malformed section header");
		return -EINVAL;
	}
	*close = '\0';
	if (strcmp(optab_trim(s + 1), t->section) != 0) {
		snprintf(err, errlen, "unknown section [%.64s] (only [%s])", optab_trim(s + 1),
			 t->section);
		return -EINVAL;
	}
	if ((*section)++ > 0) {
		snprintf(err, errlen, "second [%s] section", t->section);
		return -EINVAL;
	}
	return 0;
}

/* Handles one line; seen[] holds the line each key was set on, *section how often the section
 * header appeared. */
static int optab_line(const struct optab *t, void *obj, char *line, unsigned lineno,
		      unsigned seen[], unsigned *section, char *err, size_t errlen)
{
	char *s = optab_trim(line), *eq, *key, *value;
	const struct optab_option *o;
	size_t k;

	if (*s == '\0' || *s == '#' || *s == ';')
		return 0;
	if (*s == '[')
		return optab_section(t, s, section, err, errlen);
	eq = strchr(s, '=');
	if (eq == NULL) {
		snprintf(err, errlen, "expected 'key = value'");
		return -EINVAL;
	}
	*eq = '\0';
	key = optab_trim(s);
	value = optab_trim(eq + 1);
	o = optab_find(t, key, strlen(key), &k);
	if (o == NULL) {
		optab_unknown(t, err, errlen, "key", "", key, strlen(key));
		return -EINVAL;
	}
	if (seen[k] != 0) {
		snprintf(err, errlen, "%s already set on line %u", o->name, seen[k]);
		return -EINVAL;
	}
	seen[k] = lineno;
	if (*value == '"') {
		if (optab_unquote(value, err, errlen) != 0)
			return -EINVAL;
	} else {
		optab_cut_comment(value);
		value = optab_trim(value);
	}
	return optab_set(t, obj, o->name, value, err, errlen);
}

int optab_load_file(const struct optab *t, void *obj, const char *path, char *err, size_t errlen)
{
	unsigned seen[OPTAB_ROWS_MAX] = {0}, lineno = 0, section = 0;
	char *line = NULL, why[320];
	size_t cap = 0;
	ssize_t n;
	FILE *f;
	int rc = 0;

	f = fopen(path, "re");
	if (f == NULL) {
		rc = -errno;
		snprintf(err, errlen, "open %s: %s", path, strerror(-rc));
		return rc;
	}
	errno = 0;
	while ((n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n > OPTAB_LINE_MAX || strlen(line) != (size_t)n) {
			snprintf(why, sizeof(why), n > OPTAB_LINE_MAX ? "line too long"
								     : "NUL byte in line");
			rc = -EINVAL;
		} else {
			rc = optab_line(t, obj, line, lineno, seen, &section, why, sizeof(why));
		}
		if (rc != 0) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
			goto out;
		}
		errno = 0;
	}
	if (ferror(f)) {
		rc = errno != 0 ? -errno : -EIO;
		snprintf(err, errlen, "read %s: %s", path, strerror(-rc));
	}
out:
	free(line);
	fclose(f);
	return rc;
}

/* ---------------------------------------------------------------- command line and reload */

/* Defaults, then the file (a missing file is fine unless explicit), then the overrides, then
 * the rules between settings. */
static int optab_build(const struct optab *t, void *obj, const struct optab_sources *src,
		       char *err, size_t errlen)
{
	char why[400];
	int rc = optab_init(t, obj);

	if (rc != 0) {
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	if (src->path != NULL) {
		rc = optab_load_file(t, obj, src->path, err, errlen);
		if (rc == -ENOENT && !src->path_explicit)
			rc = 0;
		if (rc != 0)
			return rc;
	}
	for (size_t i = 0; i < src->n_overrides; i++) {
		const char *eq = strchr(src->overrides[i], '=');
		char name[64];

		snprintf(name, sizeof(name), "%.*s", (int)(eq - src->overrides[i]),
			 src->overrides[i]);
		rc = optab_set(t, obj, name, eq + 1, why, sizeof(why));
		if (rc != 0) {
			snprintf(err, errlen, "command line: %s", why);
			return rc;
		}
	}
	return t->validate != NULL ? t->validate(obj, err, errlen) : 0;
}

/* Records "name=value" as an override. */
static int optab_add_override(struct optab_sources *src, const char *name, const char *value)
{
	char **grown = realloc(src->overrides, (src->n_overrides + 1) * sizeof(char *));
	size_t len = strlen(name) + strlen(value) + 2;

	if (grown == NULL)
		return -ENOMEM;
	src->overrides = grown;
	src->overrides[src->n_overrides] = malloc(len);
	if (src->overrides[src->n_overrides] == NULL)
		return -ENOMEM;
	snprintf(src->overrides[src->n_overrides++], len, "%s=%s", name, value);
	return 0;
}

/* The flags that pick an action; earlier rows win whatever the order on the command line. */
static const struct {
	const char *flag;
	enum optab_action action;
} optab_flags[] = {
	{"--help", OPTAB_ACTION_HELP},
	{"-h", OPTAB_ACTION_HELP},
	{"--version", OPTAB_ACTION_VERSION},
	{"-V", OPTAB_ACTION_VERSION},
	{"--print-default-config", OPTAB_ACTION_PRINT_DEFAULT},
	{"--check-config", OPTAB_ACTION_CHECK},
	{"--print-config", OPTAB_ACTION_PRINT},
};

#define OPTAB_N_FLAGS (sizeof(optab_flags) / sizeof(optab_flags[0]))

static bool optab_is_flag(const char *arg)
{
	for (size_t f = 0; f < OPTAB_N_FLAGS; f++) {
		if (strcmp(arg, optab_flags[f].flag) == 0)
			return true;
	}
	return false;
}

enum optab_action optab_scan_action(int argc, char *const argv[])
{
	for (size_t f = 0; f < OPTAB_N_FLAGS; f++) {
		for (int i = 1; i < argc; i++) {
			if (strcmp(argv[i], optab_flags[f].flag) == 0)
				return optab_flags[f].action;
		}
	}
	return OPTAB_ACTION_RUN;
}

/* Collects --config and the --key=value overrides into src. */
static int optab_scan_args(const struct optab *t, struct optab_sources *src, int argc,
			   char *const argv[], char *err, size_t errlen)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *name, *eq, *value;
		const struct optab_option *o;
		size_t n;

		if (optab_is_flag(a))
			continue;
		if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
			snprintf(err, errlen, "unexpected argument '%.64s' (see --help)", a);
			return -EINVAL;
		}
		name = a + 2;
		eq = strchr(name, '=');
		n = eq != NULL ? (size_t)(eq - name) : strlen(name);
		o = optab_find(t, name, n, NULL);
		if (o == NULL && !optab_name_is("config", name, n)) {
			optab_unknown(t, err, errlen, "option", "--", name, n);
			return -EINVAL;
		}
		if (eq != NULL)
			value = eq + 1;
		else if (o != NULL && o->type == OPTAB_T_BOOL &&
			 (i + 1 == argc || strncmp(argv[i + 1], "--", 2) == 0))
			value = "yes"; /* a bare boolean flag */
		else if (i + 1 < argc)
			value = argv[++i];
		else {
			snprintf(err, errlen, "--%.*s needs a value", (int)n, name);
			return -EINVAL;
		}
		if (o == NULL) {
			free(src->path);
			src->path = strdup(value);
			src->path_explicit = true;
			if (src->path == NULL)
				goto nomem;
		} else if (optab_add_override(src, o->name, value) != 0) {
			goto nomem;
		}
	}
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

int optab_from_args(const struct optab *t, void *obj, struct optab_sources *src, int argc,
		    char *const argv[], const char *default_path, enum optab_action *action,
		    char *err, size_t errlen)
{
	int rc;

	*action = optab_scan_action(argc, argv);
	memset(src, 0, sizeof(*src));
	memset(obj, 0, t->size);
	if (*action == OPTAB_ACTION_HELP || *action == OPTAB_ACTION_VERSION ||
	    *action == OPTAB_ACTION_PRINT_DEFAULT)
		return optab_init(t, obj);

	rc = optab_scan_args(t, src, argc, argv, err, errlen);
	if (rc == 0 && src->path == NULL) {
		src->path = strdup(default_path);
		if (src->path == NULL) {
			snprintf(err, errlen, "out of memory");
			rc = -ENOMEM;
		}
	}
	if (rc == 0)
		rc = optab_build(t, obj, src, err, errlen);
	return rc;
}

void optab_sources_free(struct optab_sources *src)
{
	free(src->path);
	for (size_t i = 0; i < src->n_overrides; i++)
		free(src->overrides[i]);
	free(src->overrides);
	memset(src, 0, sizeof(*src));
}

int optab_reload(const struct optab *t, void *obj, const struct optab_sources *src,
		 uint64_t *changed, uint64_t *ignored, char *err, size_t errlen)
{
	void *fresh = calloc(1, t->size), *merged = malloc(t->size);
	int rc;

	*changed = *ignored = 0;
	if (fresh == NULL || merged == NULL) {
		snprintf(err, errlen, "out of memory");
		free(fresh);
		free(merged);
		return -ENOMEM;
	}
	rc = optab_build(t, fresh, src, err, errlen);
	if (rc != 0)
		goto out;
	/* What the result would be: the old settings with the new reloadable values. */
	memcpy(merged, obj, t->size);
	for (size_t k = 0; k < t->count; k++) {
		const struct optab_option *o = &t->rows[k];

		if (optab_same(t, obj, fresh, k))
			continue;
		if (!o->reloadable) {
			*ignored |= OPTAB_BIT(k);
			continue;
		}
		*changed |= OPTAB_BIT(k);
		memcpy(optab_field(o, merged), optab_cfield(o, fresh), optab_field_size(o->type));
	}
	rc = t->validate != NULL ? t->validate(merged, err, errlen) : 0;
	if (rc != 0) {
		*changed = *ignored = 0;
		goto out;
	}
	/* Swap the changed values in; fresh takes the old ones away to be freed. */
	for (size_t k = 0; k < t->count; k++) {
		const struct optab_option *o = &t->rows[k];
		unsigned char tmp[sizeof(int64_t)];
		size_t sz = optab_field_size(o->type);

		if (!(*changed & OPTAB_BIT(k)))
			continue;
		memcpy(tmp, optab_field(o, obj), sz);
		memcpy(optab_field(o, obj), optab_field(o, fresh), sz);
		memcpy(optab_field(o, fresh), tmp, sz);
	}
out:
	optab_free(t, fresh);
	free(fresh);
	free(merged);
	return rc;
}

/* ---------------------------------------------------------------- printing */

void optab_print_pair(FILE *out, const char *prefix, const char *name, const char *v)
{
	bool quote = v[0] == '\0' || v[0] == ' ' || v[0] == '"' || strpbrk(v, "#;\t\\") != NULL ||
		     v[strlen(v) - 1] == ' ';

	fprintf(out, "%s%s = ", prefix, name);
	if (!quote) {
		fprintf(out, "%s\n", v);
		return;
	}
	fputc('"', out);
	for (; *v != '\0'; v++) {
		if (*v == '"' || *v == '\\')
			fputc('\\', out);
		fputc(*v, out);
	}
	fputs("\"\n", out);
}

void optab_print(const struct optab *t, const void *obj, const char *path, FILE *out)
{
	char v[4200];

	fprintf(out, "# %s %s effective configuration (file: %s)\n[%s]\n", t->program, t->version,
		path != NULL ? path : "none", t->section);
	for (size_t k = 0; k < t->count; k++) {
		optab_format(t, obj, k, v, sizeof(v));
		optab_print_pair(out, "", t->rows[k].name, v);
	}
}

/* One line on what values a row takes. */
static void optab_describe(const struct optab_option *o, char *buf, size_t len)
{
	char lo[32], hi[32];
	size_t used;

	switch (o->type) {
	case OPTAB_T_INT:
	case OPTAB_T_DURATION:
	case OPTAB_T_SIZE:
		optab_bound(o, o->min, lo, sizeof(lo));
		optab_bound(o, o->max, hi, sizeof(hi));
		snprintf(buf, len, "%s, %s..%s",
			 o->type == OPTAB_T_INT	   ? "number"
			 : o->type == OPTAB_T_SIZE ? "size"
						   : "duration",
			 lo, hi);
		break;
	case OPTAB_T_ENUM:
		used = (size_t)snprintf(buf, len, "one of:");
		for (const struct optab_choice *c = o->choices; c->name != NULL && used < len; c++)
			used += (size_t)snprintf(buf + used, len - used, " %s", c->name);
		break;
	case OPTAB_T_BOOL:
		snprintf(buf, len, "yes or no");
		break;
	case OPTAB_T_ADDRESS:
		snprintf(buf, len, "HOST:PORT or [IPv6]:PORT");
		break;
	case OPTAB_T_STRING:
	case OPTAB_T_CUSTOM:
		snprintf(buf, len, "%s", o->values != NULL ? o->values : "path");
		break;
	}
}

void optab_print_default(const struct optab *t, const char *header, FILE *out)
{
	char what[160];

	fprintf(out, "%s\n[%s]\n", header, t->section);
	for (size_t k = 0; k < t->count; k++) {
		const struct optab_option *o = &t->rows[k];

		optab_describe(o, what, sizeof(what));
		fprintf(out, "\n# %s\n# (%s; %s)\n", o->doc, what,
			o->reloadable ? "reloaded on SIGHUP" : "restart to change");
		optab_print_pair(out, "#", o->name, o->def);
	}
}

void optab_usage(const struct optab *t, FILE *out)
{
	char left[64];

	for (size_t k = 0; k < t->count; k++) {
		const struct optab_option *o = &t->rows[k];

		snprintf(left, sizeof(left), "%s=%s", o->name, o->metavar);
		fprintf(out, "  --%-30s %s%s (default: %s)\n", left, o->reloadable ? "[R] " : "",
			o->doc, o->def[0] != '\0' ? o->def : "none");
	}
}

int optab_run_action(const struct optab_program *p, enum optab_action action, int load_rc,
		     const char *load_err, const void *obj, const char *prog, FILE *out,
		     FILE *errout)
{
	char err[512];

	switch (action) {
	case OPTAB_ACTION_HELP:
		p->usage(out, prog);
		return OPTAB_EXIT_OK;
	case OPTAB_ACTION_VERSION:
		fprintf(out, "%s %s\n", p->table->program, p->table->version);
		return OPTAB_EXIT_OK;
	case OPTAB_ACTION_PRINT_DEFAULT:
		p->print_default(out);
		return OPTAB_EXIT_OK;
	case OPTAB_ACTION_CHECK:
		if (load_rc != 0) {
			fprintf(errout, "%s: %s\n", prog, load_err);
			return OPTAB_EXIT_FAILURE;
		}
		if (p->check != NULL && p->check(obj, err, sizeof(err)) != 0) {
			fprintf(errout, "%s: %s\n", prog, err);
			return OPTAB_EXIT_FAILURE;
		}
		fprintf(out, "config OK\n");
		return OPTAB_EXIT_OK;
	case OPTAB_ACTION_PRINT:
	case OPTAB_ACTION_RUN:
		if (load_rc != 0) {
			fprintf(errout, "%s: %s\n", prog, load_err);
			return OPTAB_EXIT_USAGE;
		}
		if (action == OPTAB_ACTION_RUN)
			return -1;
		optab_print(p->table, obj, p->path != NULL ? p->path(obj) : NULL, out);
		return OPTAB_EXIT_OK;
	}
	return OPTAB_EXIT_USAGE;
}
