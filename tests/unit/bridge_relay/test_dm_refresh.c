/* test_dm_refresh.c: which device-mapper table is "the mirror that uses log U" (dm_refresh.h).
 *
 * The refresh itself (suspend and resume of a live mirror) needs a kernel and runs in the
 * real-kernel tests (tests/kernel/guest-unreachable.sh, guest-bridge-restart.sh); here the
 * table matching, and that looking for a log nobody uses finds nothing and touches nothing.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "dm_refresh.h"
#include "testmain.h"

#define U "LVM-dmlogtest-unreachable"

START_TEST(a_mirror_with_this_userspace_log_matches)
{
	ck_assert(dm_refresh_target_uses_log(
		"mirror", "userspace 3 " U " clustered-core 1024 2 7:0 0 7:1 0 1 handle_errors", U));
	ck_assert(dm_refresh_target_uses_log("mirror", "userspace 4 " U " clustered-disk 7:2 1024 "
						       "2 7:0 0 7:1 0",
					     U));
	/* the uuid is the whole last word */
	ck_assert(dm_refresh_target_uses_log("mirror", "userspace 1 " U, U));
}
END_TEST

START_TEST(other_tables_do_not_match)
{
	/* another uuid, one that only starts like ours, or ours as a prefix */
	ck_assert(!dm_refresh_target_uses_log("mirror", "userspace 3 LVM-other clustered-core 1024 "
							"2 7:0 0 7:1 0",
					      U));
	ck_assert(!dm_refresh_target_uses_log("mirror", "userspace 3 " U "-x clustered-core 1024", U));
	ck_assert(!dm_refresh_target_uses_log("mirror", "userspace 3 LVM-dmlog clustered-core 1024",
					      "LVM-dmlogt"));
	/* other log types, other targets, broken argument counts, an empty uuid */
	ck_assert(!dm_refresh_target_uses_log("mirror", "core 2 1024 nosync 2 7:0 0 7:1 0", U));
	ck_assert(!dm_refresh_target_uses_log("mirror", "disk 2 7:2 1024 2 7:0 0 7:1 0", U));
	ck_assert(!dm_refresh_target_uses_log("linear", "userspace 3 " U " clustered-core 1024", U));
	ck_assert(!dm_refresh_target_uses_log("mirror", "userspace x " U, U));
	ck_assert(!dm_refresh_target_uses_log("mirror", "userspace 3" U, U));
	ck_assert(!dm_refresh_target_uses_log("mirror", "userspace", U));
	ck_assert(!dm_refresh_target_uses_log("mirror", "", U));
	ck_assert(!dm_refresh_target_uses_log("mirror", "userspace 3  clustered-core", ""));
}
END_TEST

START_TEST(a_log_nobody_uses_is_not_found)
{
	char name[128] = "unchanged", err[256] = "";
	int rc = dm_refresh_find("dmlog-test-no-such-log-7f3a", name, sizeof(name), err,
				 sizeof(err));

	/* -ENOENT: no mirror uses it, or no /dev/mapper/control here; -EACCES/-EPERM without
	 * root. Never a device, and always a reason. */
	ck_assert_msg(rc == -ENOENT || rc == -EACCES || rc == -EPERM, "rc %d (%s)", rc, err);
	ck_assert_str_eq(name, "unchanged");
	ck_assert(err[0] != '\0');
}
END_TEST

static Suite *refresh_suite(void)
{
	Suite *s = suite_create("bridge_dm_refresh");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, a_mirror_with_this_userspace_log_matches);
	tcase_add_test(tc, other_tables_do_not_match);
	tcase_add_test(tc, a_log_nobody_uses_is_not_found);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return testmain_run(refresh_suite());
}
