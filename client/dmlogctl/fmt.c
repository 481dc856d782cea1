/* fmt.c: dmlogctl's text and JSON output helpers (see fmt.h). */
#include "fmt.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void fmt_label(FILE *f, const char *label)
{
	int n = fprintf(f, "%s:", label);

	do
		fputc(' ', f);
	while (n >= 0 && ++n < FMT_LABEL_WIDTH);
}

void fmt_field(FILE *f, const char *label, const char *fmt, ...)
{
	va_list ap;

	fmt_label(f, label);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
}

void fmt_ranges(FILE *f, const struct dmlog_region_range *ranges, size_t n)
{
	if (n == 0) {
		fputs("none", f);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		if (ranges[i].first == ranges[i].last)
			fprintf(f, "%" PRIu64, ranges[i].first);
		else
			fprintf(f, "%" PRIu64 "-%" PRIu64, ranges[i].first, ranges[i].last);
	}
}

void fmt_ranges_json(FILE *f, const struct dmlog_region_range *ranges, size_t n)
{
	fputc('[', f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s[%" PRIu64 ",%" PRIu64 "]", i ? "," : "", ranges[i].first,
			ranges[i].last);
	fputc(']', f);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int fmt_compress(const uint64_t *regions, size_t n, struct dmlog_region_range **out, size_t *nout)
{
	struct dmlog_region_range *r;
	uint64_t *sorted;
	size_t k = 0;

	*out = NULL;
	*nout = 0;
	if (n == 0)
		return 0;
	sorted = malloc(n * sizeof(*sorted));
	r = malloc(n * sizeof(*r));
	if (!sorted || !r) {
		free(sorted);
		free(r);
		return -ENOMEM;
	}
	memcpy(sorted, regions, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_u64);
	for (size_t i = 0; i < n; i++) {
		uint64_t v = sorted[i];

		if (k && v <= r[k - 1].last)
			continue; /* a duplicate */
		if (k && v == r[k - 1].last + 1) {
			r[k - 1].last = v;
			continue;
		}
		r[k].first = r[k].last = v;
		k++;
	}
	free(sorted);
	*out = r;
	*nout = k;
	return 0;
}

void fmt_percent(char *buf, size_t len, uint64_t part, uint64_t whole)
{
	uint64_t permille;

	if (part >= whole) {
		snprintf(buf, len, "100.0"); /* complete, or an empty log */
		return;
	}
	if (whole <= UINT64_MAX / 1000) {
		permille = part * 1000 / whole;
	} else {
		/* Beyond 1.8e16 regions: scale both down; the last digit may be off by one. */
		permille = (part / 1000) * 1000 / (whole / 1000);
	}
	if (permille > 999)
		permille = 999; /* short of whole: never show 100.0 */
	snprintf(buf, len, "%" PRIu64 ".%" PRIu64, permille / 10, permille % 10);
}

void fmt_size(char *buf, size_t len, uint64_t sectors)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	uint64_t v;
	unsigned u = 0;

	if (sectors > UINT64_MAX / 512) {
		snprintf(buf, len, "%" PRIu64 " sectors", sectors);
		return;
	}
	v = sectors * 512;
	while (v && v % 1024 == 0 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%" PRIu64 "%s", v, units[u]);
}

/* Length of the valid UTF-8 sequence at s (1 to 4), or 0 when it is not valid (overlong forms,
 * surrogates and code points above U+10FFFF included). */
static size_t utf8_length(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0; /* also stops at the terminating NUL */
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

void fmt_json_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	while (*p) {
		size_t n;

		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\b':
			fputs("\\b", f);
			break;
		case '\f':
			fputs("\\f", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				fprintf(f, "\\u%04x", *p);
				break;
			}
			n = utf8_length(p);
			if (n == 0) {
				fputs("\\ufffd", f);
				break;
			}
			fwrite(p, 1, n, f);
			p += n - 1;
			break;
		}
		p++;
	}
	fputc('"', f);
}

void fmt_json_key(FILE *f, const char *key)
{
	fmt_json_string(f, key);
	fputc(':', f);
}

void fmt_json_string_or_null(FILE *f, const char *s)
{
	if (s && *s)
		fmt_json_string(f, s);
	else
		fputs("null", f);
}

void fmt_json_member(FILE *f, const char *key, const char *s, const char *after)
{
	fmt_json_key(f, key);
	fmt_json_string(f, s);
	fputs(after, f);
}

void fmt_json_member_or_null(FILE *f, const char *key, const char *s, const char *after)
{
	fmt_json_key(f, key);
	fmt_json_string_or_null(f, s);
	fputs(after, f);
}
