# guest-unreachable.sh: dmlogd out of reach for longer than the kernel's 15 s request timeout,
# with the bridge's default policy (keep retrying, let the kernel wait, never answer on
# dmlogd's behalf).
#   A. dmlogd killed and kept down 20 s while a writer waits: no write completes, a status
#      stays blocked, the bridge stays up; dmlogd restarts: the writes and the status complete
#      (the kernel re-sent its requests with new sequence numbers meanwhile), data on both legs;
#   B. the node cut off from a running dmlogd for 15 s (loopback down) during writes: dmlogd
#      drops the silent node after its lease (10 s) with its log instances; once the link is
#      back the node must get its log back without the kernel having seen any failure: the
#      writes reach both legs and N/N returns;
#   C. dmlogd frozen (SIGSTOP: connections open, no answers) for 25 s during the initial resync
#      of a second mirror, longer than the bridge's request expiry (20 s) and dmlogd's node
#      lease (10 s): no status that returns claims N/N; after SIGCONT the resync completes,
#      and N/N is only reported with identical legs.
. /host/guest-lib.sh

MB=16 RS=1024 RKB=512 NREG=32
OUTAGE=${OUTAGE:-20}     # A: past the kernel's 15 s request timeout
CUT=${CUT:-15}           # B: past dmlogd's 10 s node lease
FREEZE=${FREEZE:-25}     # C: past the bridge's 20 s request expiry and dmlogd's 10 s node lease
UUID=LVM-dmlogtest-unreachable
# the bridge logs every kernel request and every error answer: the evidence when this fails
BRIDGE_LOG_LEVEL=debug

phase start
start_dmlogd d1 || fatal "dmlogd did not start"
start_bridge main || fatal "dmlog-bridge did not start"
make_legs un $MB || fatal "legs"
dms 60 create un --table "$(core_table $UUID $MB $RS $LEG_A $LEG_B)" || fatal "create the mirror"
check "initial resync reaches $NREG/$NREG" wait_sync un $NREG 90

phase "A: dmlogd down for ${OUTAGE}s"
kill_dmlogd
_t0=$(ts)
dd if=/dev/urandom of=/tmp/pa bs=64k count=64 2>/dev/null # 4 MiB: regions 8-15
rm -f /tmp/st-a.rc
start_writer /dev/mapper/un /tmp/pa 4096 256
(bounded $((OUTAGE + 90)) /tmp/st-a.out $DMS status un; echo $? >/tmp/st-a.rc) &
sleep $OUTAGE
check "no write completed while dmlogd was down" test "$(writer_progress)" = 0
check "the status issued during the outage is still waiting" test ! -f /tmp/st-a.rc
check "the bridge is still running" kill -0 $BRIDGE_PID
check "dmlogd restarts" start_dmlogd d2
check "the writer completes once dmlogd is back" wait_writer 120
note "writer finished $(since $_t0)s after the kill"
_n=300
while [ ! -f /tmp/st-a.rc ] && [ $_n -gt 0 ]; do sleep 0.1; _n=$((_n - 1)); done
check "the waiting status returned" test "$(cat /tmp/st-a.rc 2>/dev/null)" = 0
note "it said: $(cat /tmp/st-a.out)"
check "leg a holds the data" leg_has un a /tmp/pa 4096
check "leg b holds the data" leg_has un b /tmp/pa 4096
check "legs identical after A" legs_compare un $NREG $RKB
check "$NREG/$NREG after A" wait_sync un $NREG 30
_to=$(dmesg | grep -c 'Request timed out')
note "kernel request timeouts (re-sent with a new seq) during A: $_to"
check "the kernel re-sent at least one request after its 15 s timeout" test "$_to" -ge 1

phase "B: the node cut off from dmlogd for ${CUT}s"
dd if=/dev/urandom of=/tmp/pb bs=64k count=32 2>/dev/null # 2 MiB: regions 16-19
start_writer /dev/mapper/un /tmp/pb 8192 256
_n=600
while [ "$(writer_progress)" -lt 2 ] && [ ! -f /tmp/writer.rc ] && [ $_n -gt 0 ]; do
	sleep 0.05
	_n=$((_n - 1))
done
ip link set lo down
_t0=$(ts)
note "loopback down after $(writer_progress) of 8 writes"
sleep $CUT
check "dmlogd kept running" kill -0 $DMLOGD_PID
check "the bridge kept running" kill -0 $BRIDGE_PID
ip link set lo up
check "the writer completes once the link is back" wait_writer 60
note "writer finished $(since $_t0)s after the cut"
check "leg a holds the data" leg_has un a /tmp/pb 8192
# dmlogd declared the node lost (silent past its 10 s lease): the bridge learns it from the
# -ESTALE answer to the kernel's next log request, the kernel reconnects, and the bridge
# refreshes the mirror so that it resyncs the regions the loss took out of sync (see
# guest-bridge-restart.sh D). A mirror with no I/O sends no request (and needs no refresh until
# it does): when the writer's last requests were answered before the loss, that next request
# is this read's IN_SYNC.
if grep -q 'node lease expired' /tmp/dmlogd-d2.log; then
	note "dmlogd declared the node lost during the cut"
	timeout 30 dd if=/dev/mapper/un of=/dev/null bs=4096 count=1 skip=7 iflag=direct \
		>/dev/null 2>&1 &
	_rd=$!
	check "the bridge refreshed the mirror after the reconnect (at the next I/O)" \
		wait_log /tmp/bridge-main.log 'mirror refreshed' 40
	wait $_rd 2>/dev/null || true
fi
check "no reply was too large for the kernel" no_dmesg 'Insufficient space'
check "$NREG/$NREG after B" wait_sync un $NREG 30
check "leg b holds the data" leg_has un b /tmp/pb 8192
check "legs identical after B" legs_compare un $NREG $RKB
check "remove the first mirror" dms 60 remove un

phase "C: dmlogd frozen for ${FREEZE}s during a resync"
MB2=16 RS2=512 RKB2=256
NREG2=$((MB2 * 2048 / RS2))
UUID2=LVM-dmlogtest-unreachable-resync
start_resync $UUID2
kill -STOP $DMLOGD_PID
_t0=$(ts)
note "dmlogd frozen at $_c/$NREG2 in sync"
check "the freeze came in the middle of the resync" test "$_c" -lt $((NREG2 * 3 / 4))
_claims=0 _answered=0
while [ "$(since $_t0 | cut -d. -f1)" -lt $FREEZE ]; do
	if _f=$(sync_field rs 3); then
		_answered=$((_answered + 1))
		[ "$_f" = "$NREG2/$NREG2" ] && _claims=$((_claims + 1))
	fi
	sleep 1
done
note "statuses answered during the freeze: $_answered"
check "no status claimed $NREG2/$NREG2 during the freeze" test $_claims = 0
check "the legs still differ (the resync really was interrupted)" sh -c '! cmp -s /tmp/rs-a.img /tmp/rs-b.img'
check "the bridge is still running" kill -0 $BRIDGE_PID
kill -CONT $DMLOGD_PID
check_resync rs $NREG2 $RKB2 60 "SIGCONT"
check "remove the second mirror" dms 60 remove rs

phase stop
check_clean_stop
finish
