# guest-bridge-restart.sh: dmlog-bridge killed (SIGKILL) and restarted under a live mirror.
#
# When a request finds no listener on the connector the kernel logs "Userspace log server not
# found" and, every 2 s, sends CTR (with its NUL counted) then RESUME until they succeed, then
# the original request again. The new bridge must complete that reconnect.
#   A. a write in flight (leg b delayed by dm-delay) holds an acknowledged mark on region 5;
#      the bridge dies while no request is pending: dmlogd keeps the mark (dmlogctl, when
#      built); a new bridge starts; the kernel's next requests (the clear of region 5, then
#      new writes) reach a bridge that never saw this log's CTR;
#   B. a stream of O_DIRECT writes; the bridge dies holding a request and a new one starts 3 s
#      later: the kernel re-sends that request after 15 s, every write completes, both legs
#      agree;
#   C. the bridge dies while idle and writes follow: they wait in the kernel's reconnect
#      loop until a new bridge completes it;
#   D. the bridge dies holding a request during writes and a new one starts 12 s later: after dmlogd dropped the
#      silent node (node lease, 10 s) but before the kernel re-sends the lost request (15 s):
#      the re-sent request gets -ESRCH, the kernel reconnects, the bridge refreshes the mirror
#      so that it resyncs what the loss took out of sync; the writes reach both legs, N/N;
#   E. the initial resync of a second mirror, the bridge dies in the middle and stays away
#      17 s (past the kernel's request timeout): the new bridge completes the reconnect, the
#      resync completes and N/N is never reported before the legs are identical.
. /host/guest-lib.sh

MB=16 RS=1024 RKB=512 NREG=32
UUID=LVM-dmlogtest-bridge-restart
# the bridge logs every kernel request and every error answer: the evidence when this fails
BRIDGE_LOG_LEVEL=debug
modprobe dm-delay || fatal "modprobe dm-delay"
reconnects() { dmesg | grep -c 'Reconnected to userspace log server'; }
# kill_bridge_holding: kill the bridge while it holds a kernel request for certain: stop it,
# let the writer's next request reach its socket, then SIGKILL.
kill_bridge_holding() {
	kill -STOP $BRIDGE_PID
	sleep 0.5
	kill_bridge
}
timeouts() { dmesg | grep -c 'Request timed out'; }

phase start
start_delayed_mirror main b1 $UUID

phase "A: the bridge dies while a write holds a mark"
write_holding_mark 5000 $UUID
kill_bridge
note "bridge killed $(since $_t0)s after the write started"
if have_dmlogctl; then
	check "with the bridge gone, dmlogd still holds the mark on region 5" ctl_marked $UUID 5
fi
check "a new bridge starts" start_bridge b2
_n=300
while [ ! -f /tmp/pa.rc ] && [ $_n -gt 0 ]; do sleep 0.1; _n=$((_n - 1)); done
check "the in-flight write completes ($(since $_t0)s)" test "$(cat /tmp/pa.rc 2>/dev/null)" = 0
check "leg b writes no longer wait" set_write_delay wr 0
check "leg a holds the write" leg_has wr a /tmp/pa 2560
check "leg b holds the write" leg_has wr b /tmp/pa 2560
dd if=/dev/urandom of=/tmp/pa2 bs=64k count=4 2>/dev/null
bounded 60 /tmp/pa2.out dd if=/tmp/pa2 of=/dev/mapper/wr bs=64k seek=160 oflag=direct
check "a new write through the new bridge" test $? = 0
check "leg a holds the new write" leg_has wr a /tmp/pa2 10240
check "leg b holds the new write" leg_has wr b /tmp/pa2 10240
check "$NREG/$NREG after A" wait_sync wr $NREG 60
if have_dmlogctl; then
	_n=100
	while ctl_marked $UUID 5 && [ $_n -gt 0 ]; do sleep 0.1; _n=$((_n - 1)); done
	if ctl_marked $UUID 5; then
		bad "region 5 is cleared once its write is done: $(cat /tmp/ctl.json)"
	else
		ok "region 5 is cleared once its write is done"
	fi
fi

phase "B: the bridge dies during a stream of writes"
# A request is in flight when the bridge dies: the kernel re-sends it after its 15 s timeout,
# to the new bridge by then.
_r0=$(reconnects) _to0=$(timeouts)
dd if=/dev/urandom of=/tmp/pb bs=64k count=128 2>/dev/null # 8 MiB: regions 4-19
start_writer /dev/mapper/wr /tmp/pb 2048 256
_n=600
while [ "$(writer_progress)" -lt 6 ] && [ ! -f /tmp/writer.rc ] && [ $_n -gt 0 ]; do
	sleep 0.05
	_n=$((_n - 1))
done
_p0=$(writer_progress)
kill_bridge_holding
_t0=$(ts)
note "bridge killed after $_p0 of 32 writes"
[ -f /tmp/writer.rc ] && bad "the writer finished before the bridge was killed: more data needed"
sleep 3
_p1=$(writer_progress)
note "progress while the bridge was down: $_p0 -> $_p1"
check "writes wait while no bridge answers" test "$_p1" -le $((_p0 + 1))
check "a new bridge starts" start_bridge b3
check "the writer completes once the bridge is back" wait_writer 120
note "writer finished $(since $_t0)s after the kill; kernel timeouts +$(($(timeouts) - _to0)), reconnects +$(($(reconnects) - _r0))"
check "the kernel re-sent the request the dead bridge held" test "$(timeouts)" -gt "$_to0"
check "leg a holds the stream" leg_has wr a /tmp/pb 2048
check "leg b holds the stream" leg_has wr b /tmp/pb 2048
check "legs identical after B" legs_compare wr $NREG $RKB
check "$NREG/$NREG after B" wait_sync wr $NREG 30

phase "C: writes issued while no bridge runs"
# Nothing is in flight when the bridge dies; the writes that follow find no listener: the
# kernel logs "Userspace log server not found" and sends CTR+RESUME every 2 s until the new
# bridge answers them.
_r0=$(reconnects)
kill_bridge
dd if=/dev/urandom of=/tmp/pb2 bs=64k count=16 2>/dev/null # 1 MiB: regions 24-25
start_writer /dev/mapper/wr /tmp/pb2 12288 256
_t0=$(ts)
sleep 3
check "no write completes without a bridge" test "$(writer_progress)" = 0
check "the kernel found no log server" sh -c "dmesg | grep -q 'Userspace log server not found'"
check "a new bridge starts" start_bridge b4
check "the writer completes once the bridge is back" wait_writer 60
note "writer finished $(since $_t0)s after it started"
check "the kernel reconnected to the new bridge" test "$(reconnects)" -gt "$_r0"
check "leg a holds the data" leg_has wr a /tmp/pb2 12288
check "leg b holds the data" leg_has wr b /tmp/pb2 12288
check "legs identical after C" legs_compare wr $NREG $RKB
check "$NREG/$NREG after C" wait_sync wr $NREG 30

phase "D: the bridge away past the node lease, back before the kernel's timeout"
# dmlogd drops a node silent for its node lease (10 s) with its instances; the kernel re-sends
# the request the dead bridge held after 15 s, to the new bridge, without any reconnect of its
# own. The node must get its log back (and every write must still reach both legs).
_r0=$(reconnects) _to0=$(timeouts)
dd if=/dev/urandom of=/tmp/pd bs=64k count=32 2>/dev/null # 2 MiB: regions 28-31
start_writer /dev/mapper/wr /tmp/pd 14336 256
_n=600
while [ "$(writer_progress)" -lt 2 ] && [ ! -f /tmp/writer.rc ] && [ $_n -gt 0 ]; do
	sleep 0.05
	_n=$((_n - 1))
done
kill_bridge_holding
_t0=$(ts)
note "bridge killed after $(writer_progress) of 8 writes"
sleep 12
check "a new bridge starts" start_bridge b5
check "the writer completes" wait_writer 60
note "writer finished $(since $_t0)s after the kill; kernel timeouts +$(($(timeouts) - _to0)), reconnects +$(($(reconnects) - _r0))"
check "leg a holds the data" leg_has wr a /tmp/pd 14336
# The node was lost while alive: its marked regions went out of sync, and the kernel's
# reconnect does not make it resync them; the bridge refreshes the mirror (suspend + resume)
# once the reconnect resumed the log. Before the fix of the error replies' data_size, the
# request retried after the reconnect failed with -ENOSPC here (IN_SYNC read as 0: a write
# to leg a only while dmlogd counted the region in sync). The bridge learns of the loss from
# the -ESTALE answer to the kernel's next log request: when the writer finished before the kill
# (a fast run), the idle mirror sends none, so a read brings one (its IN_SYNC).
check "dmlogd declared the silent node lost" grep -q 'node lease expired' /tmp/dmlogd-main.log
timeout 30 dd if=/dev/mapper/wr of=/dev/null bs=4096 count=1 skip=7 iflag=direct >/dev/null 2>&1 &
_rd=$!
check "the bridge refreshed the mirror after the reconnect (at the next I/O)" \
	wait_log /tmp/bridge-b5.log 'mirror refreshed' 30
wait $_rd 2>/dev/null || true
check "no reply was too large for the kernel" no_dmesg 'Insufficient space'
check "$NREG/$NREG after D" wait_sync wr $NREG 30
check "leg b holds the data" leg_has wr b /tmp/pd 14336
check "legs identical after D" legs_compare wr $NREG $RKB
check "both legs alive" test "$(health wr)" = AA
check "remove the first mirror" dms 60 remove wr

phase "E: the bridge dies during the initial resync"
MB2=16 RS2=512 RKB2=256
NREG2=$((MB2 * 2048 / RS2))
UUID2=LVM-dmlogtest-bridge-resync
_r0=$(reconnects)
start_resync $UUID2
kill_bridge
note "bridge killed at $_c/$NREG2 in sync"
check "the kill came in the middle of the resync" test "$_c" -lt $((NREG2 * 3 / 4))
# longer than the kernel's 15 s request timeout: whatever was in flight, the kernel ends up
# in its reconnect loop before the new bridge starts
sleep 17
check "a new bridge starts" start_bridge b6
check_resync rs $NREG2 $RKB2 60 "the restart"
check "the kernel reconnected to the new bridge" test "$(reconnects)" -gt "$_r0"
check "remove the second mirror" dms 60 remove rs

phase stop
check_clean_stop
dmesg | grep -i 'log server' | tail -n 6
finish
