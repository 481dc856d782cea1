# guest-dmlogd-restart.sh: dmlogd killed (SIGKILL) and restarted under a live mirror.
#
#   A. a write in flight (leg b delayed by dm-delay) holds an acknowledged mark on region 5;
#      dmlogd dies and comes back: the mark must still be there (dmlogctl, when built), the
#      write completes, its clear takes effect afterwards;
#   B. a stream of O_DIRECT writes; dmlogd dies in the middle and comes back: every write
#      completes, both legs hold the data;
#   C. the initial resync of a second mirror (a random leg and a zeroed leg); dmlogd dies in
#      the middle and comes back: the resync completes, and N/N is never reported before the
#      legs are identical.
# The bridge stays up all along; it reconnects to dmlogd. dmlogd keeps its state directory.
. /host/guest-lib.sh

MB=16 RS=1024 RKB=512 NREG=32
UUID=LVM-dmlogtest-dmlogd-restart
modprobe dm-delay || fatal "modprobe dm-delay"

phase start
start_delayed_mirror d1 main $UUID

phase "A: an acknowledged mark across a restart"
write_holding_mark 6000 $UUID
note "killing dmlogd $(since $_t0)s after the write started"
kill_dmlogd
check "dmlogd restarts" start_dmlogd d2
if have_dmlogctl; then
	if [ -f /tmp/pa.rc ]; then
		bad "the write finished before the check ($(since $_t0)s): make the delay longer"
	else
		check "after the restart region 5 is still marked (acknowledged before the crash)" ctl_marked $UUID 5
		check "after the restart region 5 is still dirty" ctl_dirty $UUID 5
	fi
fi
_n=300
while [ ! -f /tmp/pa.rc ] && [ $_n -gt 0 ]; do sleep 0.1; _n=$((_n - 1)); done
check "the in-flight write completes ($(since $_t0)s)" test "$(cat /tmp/pa.rc 2>/dev/null)" = 0
check "leg b writes no longer wait" set_write_delay wr 0
check "leg a holds the write" leg_has wr a /tmp/pa 2560
check "leg b holds the write" leg_has wr b /tmp/pa 2560
if have_dmlogctl; then
	_n=100
	while ctl_marked $UUID 5 && [ $_n -gt 0 ]; do sleep 0.1; _n=$((_n - 1)); done
	if ctl_marked $UUID 5; then
		bad "the clear of region 5 after the restart takes effect: $(cat /tmp/ctl.json)"
	else
		ok "the clear of region 5 after the restart takes effect"
	fi
fi
check "$NREG/$NREG after A" wait_sync wr $NREG 30

phase "B: dmlogd killed during a stream of writes"
dd if=/dev/urandom of=/tmp/pb bs=64k count=128 2>/dev/null # 8 MiB: regions 4-19
start_writer /dev/mapper/wr /tmp/pb 2048 256
_n=600
while [ "$(writer_progress)" -lt 6 ] && [ ! -f /tmp/writer.rc ] && [ $_n -gt 0 ]; do
	sleep 0.05
	_n=$((_n - 1))
done
_p0=$(writer_progress)
kill_dmlogd
_t0=$(ts)
note "dmlogd killed after $_p0 of 32 writes"
[ -f /tmp/writer.rc ] && bad "the writer finished before dmlogd was killed: more data needed"
sleep 2
note "progress while dmlogd was down: $_p0 -> $(writer_progress)"
check "dmlogd restarts" start_dmlogd d3
check "the writer completes once dmlogd is back" wait_writer 120
note "writer finished $(since $_t0)s after the kill"
check "leg a holds the stream" leg_has wr a /tmp/pb 2048
check "leg b holds the stream" leg_has wr b /tmp/pb 2048
check "legs identical after B" legs_compare wr $NREG $RKB
check "$NREG/$NREG after B" wait_sync wr $NREG 30
check "both legs alive" test "$(health wr)" = AA
check "remove the first mirror" dms 60 remove wr

phase "C: dmlogd killed during the initial resync"
MB2=16 RS2=512 RKB2=256
NREG2=$((MB2 * 2048 / RS2))
UUID2=LVM-dmlogtest-dmlogd-resync
start_resync $UUID2
kill_dmlogd
note "dmlogd killed at $_c/$NREG2 in sync"
check "the kill came in the middle of the resync" test "$_c" -lt $((NREG2 * 3 / 4))
# a status issued now waits for dmlogd; what it reports later must still be honest
(bounded 120 /tmp/rs-status1.out $DMS status rs; echo $? >/tmp/rs-status1.rc) &
sleep 2
check "dmlogd restarts" start_dmlogd d4
check_resync rs $NREG2 $RKB2 60 "the restart"
check "the status issued during the outage returned" test "$(cat /tmp/rs-status1.rc 2>/dev/null)" = 0
note "that status: $(cat /tmp/rs-status1.out)"
if have_dmlogctl; then
	ctl_show $UUID2 && grep -q '"fully_synced":true' /tmp/ctl.json &&
		ok "dmlogd reports the second log fully synced" ||
		bad "dmlogd reports the second log fully synced: $(cat /tmp/ctl.json /tmp/ctl.err)"
fi
check "remove the second mirror" dms 60 remove rs

phase stop
check_clean_stop
dmesg | grep -i 'timed out\|log server' | head -n 5
finish
