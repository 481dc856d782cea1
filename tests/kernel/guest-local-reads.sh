# guest-local-reads.sh: reads through a mirror whose IN_SYNCs dmlog-bridge answers on its own.
#
# The kernel sends one IN_SYNC per read bio (a buffered read becomes 4 KiB page reads), and
# dmlog-bridge answers them from the copy of the in-sync state that dmlogd keeps current under
# a lease (docs/ARCHITECTURE.md, "Reads without a round trip"). The bridge's SIGUSR1 dump
# counts the IN_SYNCs answered locally and those sent to dmlogd ("state dump: local_reads
# local=N remote=N ...").
#   A. a synced clustered-core mirror: known random data written through it, caches dropped,
#      the whole device read back with a buffered dd: the bytes must be those written, and
#      nearly every IN_SYNC of the read must have been answered by the bridge itself;
#   B. a second mirror whose legs hold different data, its resync slowed down by a delayed
#      leg b (dm-delay): a buffered read of the whole device while the resync runs must give
#      leg a's data (the default leg, the resync's source) in every region, whatever the
#      local answers said; once the resync completes, N/N only with identical legs.
. /host/guest-lib.sh

MB=64 RS=1024 RKB=512
NREG=$((MB * 2048 / RS))
PAGES=$((MB * 256))
UUID=LVM-dmlogtest-local-reads
MB2=16 RS2=1024 RKB2=512
NREG2=$((MB2 * 2048 / RS2))
UUID2=LVM-dmlogtest-local-reads-resync
# B: each write to leg b waits this long, so the resync of NREG2 regions takes at least 48 s;
# the read took 5-12 s here (while the mirror is not in sync, kmirrord asks GET_SYNC_COUNT of
# dmlogd for every batch of reads it handles); the delay is lifted once the read is done.
RESYNC_DELAY_MS=1500
BRIDGE_LOG=/tmp/bridge-main.log
modprobe dm-delay || fatal "modprobe dm-delay"

# dump_reads: SIGUSR1 the bridge and wait (10 s at most) for the local_reads line of that dump;
# sets LR_LOCAL, LR_REMOTE, LR_NOLEASE, LR_COPIES and LR_LEASED from it.
dump_reads() {
	_dr0=$(grep -c 'state dump: local_reads' $BRIDGE_LOG)
	kill -USR1 $BRIDGE_PID 2>/dev/null || { note "the bridge is gone"; return 1; }
	_n=100
	while [ "$(grep -c 'state dump: local_reads' $BRIDGE_LOG)" -le "$_dr0" ] && [ $_n -gt 0 ]; do
		sleep 0.1
		_n=$((_n - 1))
	done
	_l=$(grep 'state dump: local_reads' $BRIDGE_LOG | tail -n 1)
	[ "$(grep -c 'state dump: local_reads' $BRIDGE_LOG)" -gt "$_dr0" ] ||
		{ note "no state dump after SIGUSR1 within 10 s"; return 1; }
	LR_LOCAL=$(echo "$_l" | sed -n 's/.* local=\([0-9]*\) .*/\1/p')
	LR_REMOTE=$(echo "$_l" | sed -n 's/.* remote=\([0-9]*\) .*/\1/p')
	LR_NOLEASE=$(echo "$_l" | sed -n 's/.* remote_no_lease=\([0-9]*\) .*/\1/p')
	LR_COPIES=$(echo "$_l" | sed -n 's/.* copies=\([0-9]*\) .*/\1/p')
	LR_LEASED=$(echo "$_l" | sed -n 's/.* leased=\([a-z]*\) .*/\1/p')
	[ -n "$LR_LOCAL" ] && [ -n "$LR_REMOTE" ] && [ -n "$LR_NOLEASE" ] ||
		{ note "cannot parse: $_l"; return 1; }
}
# wait_leased_copy SECONDS: until the bridge holds a copy under an unexpired lease.
wait_leased_copy() {
	_wl0=$(ts)
	while :; do
		dump_reads && [ "${LR_COPIES:-0}" -ge 1 ] && [ "$LR_LEASED" = yes ] && return 0
		[ "$(since $_wl0 | cut -d. -f1)" -ge "$1" ] && break
		sleep 0.5
	done
	note "no leased copy after ${1}s: copies=${LR_COPIES:-?} leased=${LR_LEASED:-?}"
	return 1
}
# regions_equal FILE1 FILE2 NREG REGION_KB: the files agree region by region; prints the
# regions that differ. Status 0 when none does.
regions_equal() {
	cmp -s "$1" "$2" && return 0
	_r=0 _diff=
	while [ $_r -lt $3 ]; do
		_x=$(dd if="$1" bs=${4}k skip=$_r count=1 2>/dev/null | md5sum)
		_y=$(dd if="$2" bs=${4}k skip=$_r count=1 2>/dev/null | md5sum)
		[ "$_x" = "$_y" ] || _diff="$_diff $_r"
		_r=$((_r + 1))
	done
	note "$1 and $2 differ in regions:${_diff:- none (sizes differ?)}"
	return 1
}
# at_least_pct PART WHOLE PCT: PART >= PCT % of WHOLE, and WHOLE > 0.
at_least_pct() { [ "$2" -gt 0 ] && [ $(($1 * 100)) -ge $(($2 * $3)) ]; }
# drop_caches: nothing of the mirrors stays in the page cache.
drop_caches() { sync && echo 3 >/proc/sys/vm/drop_caches; }

phase start
start_dmlogd main || fatal "dmlogd did not start"
start_bridge main || fatal "dmlog-bridge did not start"
dump_reads || fatal "the bridge's SIGUSR1 dump has no local_reads counters"

phase "A: a synced mirror"
truncate -s ${MB}M /tmp/lr-a.img /tmp/lr-b.img || fatal "leg files"
new_loop /tmp/lr-a.img || fatal "loop a"
LR_A=$NEW_LOOP
new_loop /tmp/lr-b.img || fatal "loop b"
LR_B=$NEW_LOOP
dms 60 create lr --table "$(core_table $UUID $MB $RS $LR_A $LR_B)" || fatal "create the mirror"
wait_sync lr $NREG 120 || fatal "the initial resync did not reach $NREG/$NREG"

phase "A: write known data"
dd if=/dev/urandom of=/tmp/lr-pattern bs=1M count=$MB 2>/dev/null || fatal "pattern"
_t0=$(ts)
bounded 180 /tmp/lr-write.out dd if=/tmp/lr-pattern of=/dev/mapper/lr bs=1M oflag=direct
_rc=$?
check "write ${MB} MiB through the mirror ($(since $_t0)s)" test $_rc = 0
check "leg a holds the data written" regions_equal /tmp/lr-a.img /tmp/lr-pattern $NREG $RKB
check "leg b holds the data written" regions_equal /tmp/lr-b.img /tmp/lr-pattern $NREG $RKB
check "still $NREG/$NREG after the write" test "$(sync_field lr)" = $NREG/$NREG

phase "A: buffered read of the whole mirror"
drop_caches
check "the bridge holds a leased copy of the log" wait_leased_copy 20
dump_reads || fatal "state dump before the read"
L0=$LR_LOCAL R0=$LR_REMOTE N0=$LR_NOLEASE
_t0=$(ts)
bounded 180 /tmp/lr-read.out dd if=/dev/mapper/lr of=/tmp/lr-read bs=1M
_rc=$?
_dt=$(since $_t0)
check "buffered read of ${MB} MiB through the mirror (${_dt}s)" test $_rc = 0
dump_reads || fatal "state dump after the read"
DL=$((LR_LOCAL - L0)) DR=$((LR_REMOTE - R0)) DN=$((LR_NOLEASE - N0))
note "IN_SYNC during the read: local=$DL remote=$DR (of which no lease: $DN), $PAGES pages read"
check "the read gives back the data written" regions_equal /tmp/lr-read /tmp/lr-pattern $NREG $RKB
check "at least 95% of the read's IN_SYNCs answered by the bridge (local=$DL remote=$DR)" \
	at_least_pct $DL $((DL + DR)) 95
check "at least $((PAGES / 4)) IN_SYNCs answered locally during the read (local=$DL)" \
	test $DL -ge $((PAGES / 4))
check "both legs alive" test "$(health lr)" = AA
check "remove the first mirror" dms 60 remove lr
losetup -d $LR_A
losetup -d $LR_B
rm -f /tmp/lr-*.img /tmp/lr-pattern /tmp/lr-read

phase "B: read during a resync"
# Legs with different data in every region; leg b (the resync's target) behind dm-delay.
dd if=/dev/urandom of=/tmp/rs-a.img bs=1M count=$MB2 2>/dev/null || fatal "leg a file"
dd if=/dev/urandom of=/tmp/rs-b.img bs=1M count=$MB2 2>/dev/null || fatal "leg b file"
cp /tmp/rs-a.img /tmp/rs-a.orig || fatal "copy of leg a"
new_loop /tmp/rs-a.img || fatal "loop a"
RS_A=$NEW_LOOP
new_loop /tmp/rs-b.img || fatal "loop b"
RS_B=$NEW_LOOP
delay_leg rs $RS_B || fatal "dm-delay over leg b"
set_write_delay rs $RESYNC_DELAY_MS || fatal "slow down writes to leg b"
dms 60 create rs --table "$(core_table $UUID2 $MB2 $RS2 $RS_A $DLY_DEV)" || fatal "create the second mirror"
C0=$(in_sync_count rs) || C0=?
dump_reads || fatal "state dump before the read"
L0=$LR_LOCAL R0=$LR_REMOTE N0=$LR_NOLEASE
_t0=$(ts)
bounded 120 /tmp/rs-read.out dd if=/dev/mapper/rs of=/tmp/rs-read bs=1M
_rc=$?
_dt=$(since $_t0)
C1=$(in_sync_count rs) || C1=?
check "buffered read of ${MB2} MiB during the resync (${_dt}s)" test $_rc = 0
dump_reads || fatal "state dump after the read"
DL=$((LR_LOCAL - L0)) DR=$((LR_REMOTE - R0)) DN=$((LR_NOLEASE - N0))
note "in sync: $C0/$NREG2 when the read started, $C1/$NREG2 when it ended"
note "IN_SYNC during the read: local=$DL remote=$DR (of which no lease: $DN)"
check "the resync was still running when the read ended ($C1/$NREG2)" test "$C1" -lt $NREG2
check "leg b still differed from leg a after the read" sh -c '! cmp -s /tmp/rs-a.img /tmp/rs-b.img'
check "leg a was not changed by the resync" cmp -s /tmp/rs-a.img /tmp/rs-a.orig
check "the read during the resync gives leg a's data in every region" \
	regions_equal /tmp/rs-read /tmp/rs-a.orig $NREG2 $RKB2
check "leg b writes no longer wait" set_write_delay rs 0
# N/N must come only once both legs are identical
check_resync rs $NREG2 $RKB2 90 "the delay was lifted"
check "legs identical after the resync" legs_compare rs $NREG2 $RKB2
check "leg b holds leg a's data" cmp -s /tmp/rs-b.img /tmp/rs-a.orig
drop_caches
bounded 120 /tmp/rs-read2.out dd if=/dev/mapper/rs of=/tmp/rs-read2 bs=1M
check "a read after the resync" test $? = 0
check "the read after the resync gives leg a's data" regions_equal /tmp/rs-read2 /tmp/rs-a.orig $NREG2 $RKB2
check "both legs alive" test "$(health rs)" = AA
check "remove the second mirror" dms 60 remove rs
check "remove the delay device" dms 30 remove rs-dly

phase stop
check "no mapped device left" test "$($DMS ls 2>&1)" = "No devices found"
check_clean_stop
finish
