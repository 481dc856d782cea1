/* test_ctr.c: CTR argument parsing and status texts (server/engine/ctr.c). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctr.h"
#include "fixture.h"

static int parse(const char *s, struct ctr_args *a)
{
	char why[128] = "";
	int err = ctr_parse(s, strlen(s), a, why, sizeof(why));

	if (err)
		ck_assert_msg(why[0], "no reason given for '%s'", s);
	return err;
}

static void expect_einval(const char *s)
{
	struct ctr_args a;

	ck_assert_msg(parse(s, &a) == -EINVAL, "'%s' was accepted", s);
}

START_TEST(clustered_disk_as_lvm_sends_it)
{
	struct ctr_args a;

	ck_assert_int_eq(parse("2097152 clustered-disk 253:2 1024", &a), 0);
	ck_assert_int_eq(a.type, CTR_CLUSTERED_DISK);
	ck_assert_str_eq(a.dev, "253:2");
	ck_assert_uint_eq(a.len, 2097152);
	ck_assert_uint_eq(a.region_size, 1024);
	ck_assert_uint_eq(a.region_count, 2048);
	ck_assert_int_eq(a.mode, CTR_MODE_DEFAULT);
	ck_assert(!a.block_on_error);
}
END_TEST

START_TEST(clustered_core_words_in_any_order_unknown_ignored)
{
	struct ctr_args a;

	ck_assert_int_eq(parse("2097152 clustered-core 1024 nosync", &a), 0);
	ck_assert_int_eq(a.type, CTR_CLUSTERED_CORE);
	ck_assert_str_eq(a.dev, "");
	ck_assert_int_eq(a.mode, CTR_MODE_NOSYNC);
	ck_assert_int_eq(parse("100 clustered-core 4 block_on_error sync", &a), 0);
	ck_assert(a.block_on_error);
	ck_assert_int_eq(a.mode, CTR_MODE_SYNC);
	ck_assert_int_eq(parse("100 clustered-core 4 frob nosync", &a), 0);
	ck_assert_int_eq(a.mode, CTR_MODE_NOSYNC);
	ck_assert_int_eq(parse("100 clustered-disk 8:1 4 a b", &a), 0);
	ck_assert_int_eq(parse("100 clustered-core 4 a b c", &a), 0);
}
END_TEST

START_TEST(core_and_disk_forms)
{
	struct ctr_args a;

	ck_assert_int_eq(parse("10 core 4", &a), 0);
	ck_assert_uint_eq(a.region_count, 3); /* ceil(10 / 4) */
	ck_assert_int_eq(parse("8 core 8 sync", &a), 0);
	ck_assert_uint_eq(a.region_count, 1); /* rs == len is allowed */
	ck_assert_int_eq(a.mode, CTR_MODE_SYNC);
	ck_assert_int_eq(parse("100 disk 8:16 2 nosync", &a), 0);
	ck_assert_int_eq(a.type, CTR_DISK);
	ck_assert_str_eq(a.dev, "8:16");
	ck_assert_uint_eq(a.region_count, 50);
	ck_assert_int_eq(parse("100 disk /dev/mapper/vg-log 2", &a), 0);
}
END_TEST

START_TEST(region_size_errors)
{
	expect_einval("2097152 clustered-core 1000");    /* not a power of two */
	expect_einval("2097152 clustered-core 1");       /* below 2 */
	expect_einval("2097152 clustered-core 0");
	expect_einval("4 core 8");                       /* rs > len */
	expect_einval("100 core 0x4");                   /* not decimal */
	expect_einval("100 core +4");
	expect_einval("100 core 4k");
}
END_TEST

START_TEST(length_errors)
{
	expect_einval("0 core 2");
	expect_einval("0x100 core 2");
	expect_einval("-5 core 2");
	expect_einval("1e3 core 2");
	expect_einval("12a core 2");
	expect_einval("18446744073709551616 core 2"); /* overflows u64 */
}
END_TEST

START_TEST(mode_word_errors)
{
	expect_einval("100 clustered-core 4 sync nosync");
	expect_einval("100 clustered-disk 8:1 4 nosync sync");
	expect_einval("100 core 4 block_on_error");
	expect_einval("100 core 4 frob");
	expect_einval("100 disk 8:1 4 frob");
	expect_einval("100 disk 8:1 4 block_on_error");
}
END_TEST

START_TEST(argument_count_errors)
{
	expect_einval("100 clustered-core 4 a b c d");   /* five args after the type */
	expect_einval("100 clustered-disk 8:1 4 a b c");
	expect_einval("100 core 4 sync x");
	expect_einval("100 disk 8:1 4 sync x");
	expect_einval("100 clustered-disk 8:1");          /* missing rs */
	expect_einval("100 disk 8:1");
	expect_einval("100 core");
	expect_einval("100 clustered-core");
	expect_einval("100");
	expect_einval("");
	expect_einval("100 mirror 4");                    /* unknown type */
	expect_einval("100 Core 4");
	expect_einval("1 2 3 4 5 6 7 8 9");
}
END_TEST

START_TEST(spacing_nul_and_length_errors)
{
	struct ctr_args a;
	char why[128];
	char longargs[ENGINE_ARGS_MAX + 2];
	char dev[ENGINE_DEV_MAX + 2];
	char buf[300];

	expect_einval("100  core 4");
	expect_einval(" 100 core 4");
	expect_einval("100 core 4 ");
	ck_assert_int_eq(ctr_parse("100 core\0 4", 11, &a, why, sizeof(why)), -EINVAL);
	ck_assert_int_eq(ctr_parse(NULL, 0, &a, why, sizeof(why)), -EINVAL);
	memset(longargs, 'x', sizeof(longargs));
	memcpy(longargs, "100 core 4 ", 11);
	ck_assert_int_eq(ctr_parse(longargs, ENGINE_ARGS_MAX + 1, &a, why, sizeof(why)), -EINVAL);
	/* a device of 127 bytes is fine, 128 is not */
	memset(dev, 'd', sizeof(dev));
	dev[ENGINE_DEV_MAX] = '\0';
	snprintf(buf, sizeof(buf), "100 disk %s 4", dev);
	ck_assert_int_eq(parse(buf, &a), 0);
	ck_assert_uint_eq(strlen(a.dev), ENGINE_DEV_MAX);
	dev[ENGINE_DEV_MAX] = 'd';
	dev[ENGINE_DEV_MAX + 1] = '\0';
	snprintf(buf, sizeof(buf), "100 disk %s 4", dev);
	expect_einval(buf);
	/* a string that is not NUL-terminated is read only up to its length */
	ck_assert_int_eq(ctr_parse("100 core 4 sync", 10, &a, why, sizeof(why)), 0);
	ck_assert_int_eq(a.mode, CTR_MODE_DEFAULT);
}
END_TEST

START_TEST(region_count_limit)
{
	struct ctr_args a;

	ck_assert_int_eq(parse("8589934592 core 2", &a), 0); /* 2^33 / 2 = 2^32 regions */
	ck_assert_uint_eq(a.region_count, ENGINE_REGION_COUNT_MAX);
	expect_einval("8589934593 core 2");                     /* 2^32 + 1 regions */
	expect_einval("18446744073709551615 clustered-core 2");
}
END_TEST

START_TEST(status_texts)
{
	char buf[ENGINE_TEXT_MAX];

	ctr_status_info(CTR_CLUSTERED_CORE, "", buf, sizeof(buf));
	ck_assert_str_eq(buf, "1 clustered-core");
	ctr_status_info(CTR_CLUSTERED_DISK, "253:2", buf, sizeof(buf));
	ck_assert_str_eq(buf, "3 clustered-disk 253:2 A");
	ctr_status_info(CTR_CORE, "", buf, sizeof(buf));
	ck_assert_str_eq(buf, "1 core");
	ctr_status_info(CTR_DISK, "8:1", buf, sizeof(buf));
	ck_assert_str_eq(buf, "3 disk 8:1 A");
	ctr_status_table(CTR_CLUSTERED_CORE, "", 1024, CTR_MODE_DEFAULT, false, buf, sizeof(buf));
	ck_assert_str_eq(buf, "clustered-core 1024 ");
	ctr_status_table(CTR_CLUSTERED_CORE, "", 1024, CTR_MODE_NOSYNC, true, buf, sizeof(buf));
	ck_assert_str_eq(buf, "clustered-core 1024 nosync block_on_error ");
	ctr_status_table(CTR_CLUSTERED_DISK, "253:2", 512, CTR_MODE_SYNC, false, buf, sizeof(buf));
	ck_assert_str_eq(buf, "clustered-disk 253:2 512 sync ");
	ctr_status_table(CTR_CORE, "", 1024, CTR_MODE_DEFAULT, false, buf, sizeof(buf));
	ck_assert_str_eq(buf, "core 1 1024 ");
	ctr_status_table(CTR_CORE, "", 1024, CTR_MODE_NOSYNC, false, buf, sizeof(buf));
	ck_assert_str_eq(buf, "core 2 1024 nosync ");
	ctr_status_table(CTR_DISK, "253:2", 1024, CTR_MODE_DEFAULT, false, buf, sizeof(buf));
	ck_assert_str_eq(buf, "disk 2 253:2 1024 ");
	ctr_status_table(CTR_DISK, "253:2", 1024, CTR_MODE_SYNC, false, buf, sizeof(buf));
	ck_assert_str_eq(buf, "disk 3 253:2 1024 sync ");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ctr");
	TCase *tc = tcase_create("ctr");

	tcase_add_test(tc, clustered_disk_as_lvm_sends_it);
	tcase_add_test(tc, clustered_core_words_in_any_order_unknown_ignored);
	tcase_add_test(tc, core_and_disk_forms);
	tcase_add_test(tc, region_size_errors);
	tcase_add_test(tc, length_errors);
	tcase_add_test(tc, mode_word_errors);
	tcase_add_test(tc, argument_count_errors);
	tcase_add_test(tc, spacing_nul_and_length_errors);
	tcase_add_test(tc, region_count_limit);
	tcase_add_test(tc, status_texts);
	suite_add_tcase(s, tc);
	return fx_run(s);
}
