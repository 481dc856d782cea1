/* test_ctl_fmt.c: dmlogctl's formatting helpers (client/dmlogctl/fmt.c, table.c, compiled in)
 * on their own, at the edges a server's state does not reach: range compression, percentages,
 * sizes, always well-formed JSON strings, table and field alignment.
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "table.h"
#include "testmain.h"

#define ck_text(got, want)                                                                   \
	ck_assert_msg(strcmp((got), (want)) == 0, "got:\n%s\nwant:\n%s", (got), (want))

/* An in-memory FILE; mem_close() closes it and returns what was written (static storage). */
static char *mem_text;
static size_t mem_len;

static FILE *mem_open(void)
{
	FILE *f = open_memstream(&mem_text, &mem_len);

	ck_assert_ptr_nonnull(f);
	return f;
}

static const char *mem_close(FILE *f)
{
	static char buf[1024];

	ck_assert_int_eq(fclose(f), 0);
	snprintf(buf, sizeof(buf), "%s", mem_text);
	free(mem_text);
	mem_text = NULL;
	return buf;
}

START_TEST(compress_sorts_dedups_and_joins_neighbours)
{
	const uint64_t regions[] = {9, 3, 2, 2, 4, 0, UINT64_MAX, UINT64_MAX - 1, UINT64_MAX, 9};
	struct dmlog_region_range *r;
	size_t n;
	FILE *f;

	ck_assert_int_eq(fmt_compress(regions, sizeof(regions) / sizeof(regions[0]), &r, &n), 0);
	ck_assert_uint_eq(n, 4);
	f = mem_open();
	fmt_ranges(f, r, n);
	ck_text(mem_close(f), "0,2-4,9,18446744073709551614-18446744073709551615");
	f = mem_open();
	fmt_ranges_json(f, r, n);
	ck_text(mem_close(f), "[[0,0],[2,4],[9,9],[18446744073709551614,18446744073709551615]]");
	free(r);

	ck_assert_int_eq(fmt_compress(regions, 0, &r, &n), 0);
	ck_assert_ptr_null(r);
	ck_assert_uint_eq(n, 0);
	f = mem_open();
	fmt_ranges(f, NULL, 0);
	ck_text(mem_close(f), "none");
	f = mem_open();
	fmt_ranges_json(f, NULL, 0);
	ck_text(mem_close(f), "[]");
}
END_TEST

START_TEST(percent_rounds_down_and_100_means_all)
{
	static const struct {
		uint64_t part, whole;
		const char *want;
	} cases[] = {
		{10, 16, "62.5"}, {1, 3, "33.3"}, {2, 3, "66.6"}, {0, 5, "0.0"},
		{999, 1000, "99.9"}, {9999, 10000, "99.9"}, {5, 5, "100.0"}, {0, 0, "100.0"},
		{UINT64_MAX - 1, UINT64_MAX, "99.9"}, {UINT64_MAX / 2, UINT64_MAX, "49.9"},
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fmt_percent(buf, sizeof(buf), cases[i].part, cases[i].whole);
		ck_assert_msg(!strcmp(buf, cases[i].want), "case %zu: %s, want %s", i, buf,
			      cases[i].want);
	}
}
END_TEST

START_TEST(size_uses_the_largest_exact_unit)
{
	char buf[48];

	fmt_size(buf, sizeof(buf), 1024);
	ck_assert_str_eq(buf, "512KiB");
	fmt_size(buf, sizeof(buf), 2048);
	ck_assert_str_eq(buf, "1MiB");
	fmt_size(buf, sizeof(buf), 3);
	ck_assert_str_eq(buf, "1536B");
	fmt_size(buf, sizeof(buf), 0);
	ck_assert_str_eq(buf, "0B");
	fmt_size(buf, sizeof(buf), UINT64_MAX);
	ck_assert_str_eq(buf, "18446744073709551615 sectors");
}
END_TEST

START_TEST(json_string_is_always_well_formed)
{
	FILE *f = mem_open();

	fmt_json_string(f, "a\"b\\c\n\t\x01\x7f\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	ck_text(mem_close(f), "\"a\\\"b\\\\c\\n\\t\\u0001\\u007f\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
	/* Not UTF-8: a lone continuation byte, an overlong '/', a surrogate, a cut sequence. */
	f = mem_open();
	fmt_json_string(f, "\x80|\xc0\xaf|\xed\xa0\x80|\xe2\x82");
	ck_text(mem_close(f), "\"\\ufffd|\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd|\\ufffd\\ufffd\"");
	f = mem_open();
	fmt_json_key(f, "k");
	fmt_json_string_or_null(f, "");
	fputc(',', f);
	fmt_json_string_or_null(f, "v");
	ck_text(mem_close(f), "\"k\":null,\"v\"");
	f = mem_open();
	fmt_json_member(f, "a", "x\"", ",");
	fmt_json_member_or_null(f, "b", "", ",");
	fmt_json_member_or_null(f, "c", "y", "");
	ck_text(mem_close(f), "\"a\":\"x\\\"\",\"b\":null,\"c\":\"y\"");
}
END_TEST

START_TEST(table_pads_every_column_but_the_last)
{
	static const char *const headers[] = {"NAME", "N", "NOTE"};
	static const char *const r1[] = {"a", "1234", "x"};
	static const char *const r2[] = {"longer", "5", ""};
	static const bool right[] = {false, true, false};
	struct table *t = table_new(3, headers, right);
	FILE *f;

	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(table_add(t, r1), 0);
	ck_assert_int_eq(table_add(t, r2), 0);
	f = mem_open();
	table_print(t, f, 2);
	ck_text(mem_close(f),
		"  NAME       N  NOTE\n"
		"  a       1234  x\n"
		"  longer     5\n");
	table_free(t);
	table_free(NULL);
	ck_assert_ptr_null(table_new(0, headers, NULL));
}
END_TEST

START_TEST(field_labels_line_up)
{
	FILE *f = mem_open();

	fmt_field(f, "dirty", "%d", 3);
	fmt_label(f, "a label longer than the column");
	fputs("v\n", f);
	ck_text(mem_close(f), "dirty:           3\na label longer than the column: v\n");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dmlogctl_fmt");
	TCase *tc = testmain_tcase(s, "fmt", NULL, NULL, 0);

	tcase_add_test(tc, compress_sorts_dedups_and_joins_neighbours);
	tcase_add_test(tc, percent_rounds_down_and_100_means_all);
	tcase_add_test(tc, size_uses_the_largest_exact_unit);
	tcase_add_test(tc, json_string_is_always_well_formed);
	tcase_add_test(tc, table_pads_every_column_but_the_last);
	tcase_add_test(tc, field_labels_line_up);
	return testmain_run(s);
}
