/* ctr.c: CTR argument parsing and the texts derived from parsed arguments (see ctr.h). */
#include "ctr.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define CTR_WORDS_MAX 8       /* len, type and at most 4 type args fit; more is an error anyway */

static const char *const type_names[CTR_TYPE_COUNT] = {
	[CTR_CLUSTERED_CORE] = "clustered-core",
	[CTR_CLUSTERED_DISK] = "clustered-disk",
	[CTR_CORE] = "core",
	[CTR_DISK] = "disk",
};

const char *ctr_type_name(enum ctr_type type)
{
	return type_names[type];
}

bool ctr_type_is_disk(enum ctr_type type)
{
	return type == CTR_CLUSTERED_DISK || type == CTR_DISK;
}

static int fail(char *errmsg, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *errmsg, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen) {
		va_start(ap, fmt);
		vsnprintf(errmsg, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Plain decimal (digits only, at least one) into *out; false when not decimal or too big. */
static bool parse_decimal(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned d;

		if (*s < '0' || *s > '9')
			return false;
		d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* Splits buf in place on single spaces. Returns the word count, or -1 on an empty word or more
 * than max words. */
static int split(char *buf, char **words, int max)
{
	int n = 0;
	char *p = buf;

	for (;;) {
		char *sp = strchr(p, ' ');

		if (n == max)
			return -2;
		words[n++] = p;
		if (sp)
			*sp = '\0';
		if (!*p)
			return -1;
		if (!sp)
			return n;
		p = sp + 1;
	}
}

/* Per type: type args allowed (min, max) and where the region size sits. */
struct type_shape {
	int min, max;
	int rs_at;            /* index of region size among the type args (dev, if any, is at 0) */
};

static const struct type_shape shapes[CTR_TYPE_COUNT] = {
	[CTR_CLUSTERED_CORE] = { 1, 4, 0 },
	[CTR_CLUSTERED_DISK] = { 2, 4, 1 },
	[CTR_CORE] = { 1, 2, 0 },
	[CTR_DISK] = { 2, 3, 1 },
};

static int parse_words(char **w, int n, struct ctr_args *a, char *errmsg, size_t errlen)
{
	const struct type_shape *shape;
	bool sync = false, nosync = false;
	int t, nargs;

	if (!parse_decimal(w[0], &a->len))
		return fail(errmsg, errlen, "length '%.32s' is not a decimal number", w[0]);
	if (a->len == 0)
		return fail(errmsg, errlen, "length is 0");
	if (n < 2)
		return fail(errmsg, errlen, "missing log type");
	for (t = 0; t < CTR_TYPE_COUNT; t++)
		if (!strcmp(w[1], type_names[t]))
			break;
	if (t == CTR_TYPE_COUNT)
		return fail(errmsg, errlen, "unknown log type '%.32s'", w[1]);
	a->type = (enum ctr_type)t;
	shape = &shapes[t];
	nargs = n - 2;
	w += 2;
	if (nargs < shape->min)
		return fail(errmsg, errlen, "%s: missing arguments", type_names[t]);
	if (nargs > shape->max)
		return fail(errmsg, errlen, "%s: too many arguments", type_names[t]);
	if (ctr_type_is_disk(a->type)) {
		size_t dl = strlen(w[0]);

		if (dl > ENGINE_DEV_MAX)
			return fail(errmsg, errlen, "%s: device name longer than %d bytes",
				    type_names[t], ENGINE_DEV_MAX);
		memcpy(a->dev, w[0], dl + 1);
	}
	if (!parse_decimal(w[shape->rs_at], &a->region_size))
		return fail(errmsg, errlen, "region size '%.32s' is not a decimal number",
			    w[shape->rs_at]);
	if (a->region_size < 2 || (a->region_size & (a->region_size - 1)))
		return fail(errmsg, errlen, "region size %llu is not a power of two >= 2",
			    (unsigned long long)a->region_size);
	if (a->region_size > a->len)
		return fail(errmsg, errlen, "region size %llu exceeds the length %llu",
			    (unsigned long long)a->region_size, (unsigned long long)a->len);
	for (int i = shape->rs_at + 1; i < nargs; i++) {
		bool clustered = a->type == CTR_CLUSTERED_CORE || a->type == CTR_CLUSTERED_DISK;

		if (!strcmp(w[i], "sync"))
			sync = true;
		else if (!strcmp(w[i], "nosync"))
			nosync = true;
		else if (clustered && !strcmp(w[i], "block_on_error"))
			a->block_on_error = true;
		else if (!clustered)
			return fail(errmsg, errlen, "%s: unknown argument '%.32s'", type_names[t], w[i]);
		/* clustered types ignore unknown words, as cmirrord does */
	}
	if (sync && nosync)
		return fail(errmsg, errlen, "both sync and nosync given");
	a->mode = sync ? CTR_MODE_SYNC : nosync ? CTR_MODE_NOSYNC : CTR_MODE_DEFAULT;
	a->region_count = a->len / a->region_size + (a->len % a->region_size != 0);
	if (a->region_count > ENGINE_REGION_COUNT_MAX)
		return fail(errmsg, errlen, "%llu regions exceed the limit of %llu",
			    (unsigned long long)a->region_count,
			    (unsigned long long)ENGINE_REGION_COUNT_MAX);
	return 0;
}

int ctr_parse(const char *args, size_t len, struct ctr_args *out, char *errmsg, size_t errlen)
{
	char buf[ENGINE_ARGS_MAX + 1];
	char *words[CTR_WORDS_MAX];
	struct ctr_args a;
	int n, err;

	memset(&a, 0, sizeof(a));
	if (!args || len == 0)
		return fail(errmsg, errlen, "missing arguments");
	if (len > ENGINE_ARGS_MAX)
		return fail(errmsg, errlen, "arguments longer than %d bytes", ENGINE_ARGS_MAX);
	if (memchr(args, '\0', len))
		return fail(errmsg, errlen, "arguments contain a NUL byte");
	memcpy(buf, args, len);
	buf[len] = '\0';
	n = split(buf, words, CTR_WORDS_MAX);
	if (n == -1)
		return fail(errmsg, errlen, "empty argument (stray space)");
	if (n < 0)
		return fail(errmsg, errlen, "too many arguments");
	err = parse_words(words, n, &a, errmsg, errlen);
	if (err)
		return err;
	*out = a;
	return 0;
}

void ctr_status_info(enum ctr_type type, const char *dev, char *buf, size_t size)
{
	if (ctr_type_is_disk(type))
		snprintf(buf, size, "3 %s %s A", type_names[type], dev);
	else
		snprintf(buf, size, "1 %s", type_names[type]);
}

void ctr_status_table(enum ctr_type type, const char *dev, uint64_t region_size,
		      enum ctr_mode mode, bool block_on_error, char *buf, size_t size)
{
	const char *mode_word = mode == CTR_MODE_SYNC ? "sync " : mode == CTR_MODE_NOSYNC ? "nosync " : "";
	unsigned long long rs = (unsigned long long)region_size;
	int nargs = mode == CTR_MODE_DEFAULT ? 1 : 2;

	switch (type) {
	case CTR_CLUSTERED_CORE:
		snprintf(buf, size, "clustered-core %llu %s%s", rs, mode_word,
			 block_on_error ? "block_on_error " : "");
		break;
	case CTR_CLUSTERED_DISK:
		snprintf(buf, size, "clustered-disk %s %llu %s%s", dev, rs, mode_word,
			 block_on_error ? "block_on_error " : "");
		break;
	case CTR_CORE:
		snprintf(buf, size, "core %d %llu %s", nargs, rs, mode_word);
		break;
	case CTR_DISK:
		snprintf(buf, size, "disk %d %s %llu %s", nargs + 1, dev, rs, mode_word);
		break;
	}
}
