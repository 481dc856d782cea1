# guest-fio.sh: fio on a dm mirror with each dirty log in turn, inside the benchmark's VM guest.
#
# Run by bench/run.sh through tests/kernel/run-in-guest.sh (busybox sh, root, Debian's kernel).
# One mirror over the same two loop legs on tmpfs (BENCH_MB MiB each, 512 KiB regions,
# `nosync` so no resync competes), re-created for every (log type, workload) pair; within a
# repetition the workloads follow one another and, per workload, the log types, their order
# rotating between repetitions, so the emulated CPU's drift hits every type alike.
#
# Log types (BENCH_TYPES, any subset, in this order of names):
#   core       the kernel's in-memory log
#   disk       the kernel's on-disk log (a third loop device on tmpfs)
#   responder  userspace clustered-core answered by bench_responder (in-memory engine, no I/O)
#   dmlog      userspace clustered-core through dmlog-bridge to a standalone dmlogd
#   dmlog3     the same to a group of 3 dmlogd peers (needs peer certs dmlogd1..3)
#   dmlog-if   dmlog with integrated_flush (FLUSH carries the marks)
# Workloads: rw1 (4 KiB random write, O_DIRECT, QD1), rw16 (the same at QD16, libaio), sw64
# (64 KiB sequential write, O_DIRECT, QD1), sr (buffered sequential read, caches dropped), rr1
# (4 KiB random read, O_DIRECT, QD1). Each runs BENCH_RUNTIME seconds.
#
# Output: /out/fio.txt, lines "R REP TYPE WORKLOAD IOPS KIB_PER_S", and for the userspace types
# /out/counts-TYPE-WORKLOAD.txt (requests by type, from bench_responder); /out/guest-lat.txt, the
# in-guest round trips of bench_rounds (see the latency phase; with dmlog3, libdmlog through the
# 3-peer group too). A type whose daemon
# does not start gets lines "F REP TYPE WORKLOAD reason" instead.
. /host/guest-lib.sh

MB=${BENCH_MB:-256}
RS=1024
RT=${BENCH_RUNTIME:-3}
REPS=${BENCH_REPS:-2}
TYPES=${BENCH_TYPES:-"core disk responder dmlog"}
WORKLOADS="rw1 rw16 sw64 sr rr1"
SZ=$((MB * 2048))
PEERS3="127.0.0.1:7801,127.0.0.1:7803,127.0.0.1:7805"
DAEMON_PID=
GROUP_PIDS=

phase setup
truncate -s ${MB}M /tmp/leg-a.img /tmp/leg-b.img || fatal "leg files"
truncate -s 8M /tmp/log.img || fatal "log file"
new_loop /tmp/leg-a.img || fatal "loop a"
LEG_A=$NEW_LOOP
new_loop /tmp/leg-b.img || fatal "loop b"
LEG_B=$NEW_LOOP
new_loop /tmp/log.img || fatal "loop log"
LOGDEV=$NEW_LOOP
: >/out/fio.txt

case " $TYPES " in *" dmlog "* | *" dmlog-if "*)
	DMLOGD_LOG_LEVEL=notice start_dmlogd solo || fatal "standalone dmlogd" ;;
esac

# start_group: three dmlogd peers (client ports 7801/7803/7805, raft 7802/7804/7806).
start_group() {
	for i in 1 2 3; do
		_peers=
		for j in 1 2 3; do
			[ $j = $i ] && continue
			_peers="$_peers${_peers:+,}$j@127.0.0.1:$((7800 + 2 * j))"
		done
		mkdir -p /tmp/peer$i
		/host/dmlogd --listen=127.0.0.1:$((7799 + 2 * i)) --raft-address=127.0.0.1:$((7800 + 2 * i)) \
			--state-dir=/tmp/peer$i --id=dmlogd$i --raft-id=$i --peers=$_peers \
			--ca-file=$CERTS/ca.crt --cert-file=$CERTS/peer-dmlogd$i.crt \
			--key-file=$CERTS/peer-dmlogd$i.key --log-level=notice >/tmp/dmlogd-peer$i.log 2>&1 &
		GROUP_PIDS="$GROUP_PIDS $!"
	done
	sleep 2
}
case " $TYPES " in *" dmlog3 "*) start_group ;; esac

# daemon_start TYPE: the userspace log server of TYPE on the connector; waits for its ready file.
daemon_start() {
	rm -f /tmp/daemon.ready
	case $1 in
	responder)
		/host/bench_responder ready=/tmp/daemon.ready counts=/tmp/counts.txt \
			>/tmp/responder.log 2>&1 & ;;
	dmlog | dmlog-if | dmlog3)
		_srv=$DMLOGD_LISTEN
		[ $1 = dmlog3 ] && _srv=$PEERS3
		/host/dmlog-bridge --servers=$_srv --ca-file=$CERTS/ca.crt \
			--cert-file=$CERTS/node-node1.crt --key-file=$CERTS/node-node1.key \
			--transport=netlink --ready-file=/tmp/daemon.ready --log-level=notice \
			>>/tmp/bridge-bench.log 2>&1 & ;;
	*) return 0 ;;
	esac
	DAEMON_PID=$!
	daemon_ready $DAEMON_PID /tmp/daemon.ready
}

# table TYPE UUID: the mirror table with TYPE's dirty log.
table() {
	_legs="2 $LEG_A 0 $LEG_B 0 1 handle_errors"
	case $1 in
	core) echo "0 $SZ mirror core 2 $RS nosync $_legs" ;;
	disk) echo "0 $SZ mirror disk 3 $LOGDEV $RS nosync $_legs" ;;
	dmlog-if) echo "0 $SZ mirror userspace 5 $2 integrated_flush clustered-core $RS nosync $_legs" ;;
	*) echo "0 $SZ mirror userspace 4 $2 clustered-core $RS nosync $_legs" ;;
	esac
}

# fio_args WORKLOAD: fio's job options for it.
fio_args() {
	case $1 in
	rw1) echo "--rw=randwrite --bs=4k --direct=1 --ioengine=psync --iodepth=1" ;;
	rw16) echo "--rw=randwrite --bs=4k --direct=1 --ioengine=libaio --iodepth=16" ;;
	sw64) echo "--rw=write --bs=64k --direct=1 --ioengine=psync --iodepth=1" ;;
	sr) echo "--rw=read --bs=1M --direct=0 --ioengine=psync --iodepth=1" ;;
	rr1) echo "--rw=randread --bs=4k --direct=1 --ioengine=psync --iodepth=1" ;;
	esac
}

# one REP TYPE WORKLOAD: create the mirror, run fio, remove it; appends the result line.
one() {
	_uuid=LVM-bench-$1-$3-$2
	if ! daemon_start $2; then
		echo "F $1 $2 $3 daemon did not start" >>/out/fio.txt
		daemon_stop
		return
	fi
	if ! dms 30 create bm --table "$(table $2 $_uuid)" >/tmp/create.out 2>&1; then
		echo "F $1 $2 $3 dmsetup create failed: $(tr '\n' ' ' </tmp/create.out | cut -c1-120)" >>/out/fio.txt
		daemon_stop
		return
	fi
	[ $3 = sr ] && { sync; echo 3 >/proc/sys/vm/drop_caches; }
	bounded $((RT + 60)) /tmp/fio.out /host/fio --name=$3 --filename=/dev/mapper/bm \
		--runtime=$RT --time_based --minimal $(fio_args $3)
	_rc=$?
	if [ $_rc = 0 ]; then
		awk -F';' -v p="R $1 $2 $3" '{ if ($49 > 0) print p, $49, $48; else print p, $8, $7 }' \
			/tmp/fio.out >>/out/fio.txt
	else
		echo "F $1 $2 $3 fio status $_rc: $(tail -n 2 /tmp/fio.out | tr '\n' ' ' | cut -c1-120)" >>/out/fio.txt
	fi
	dms 30 remove bm >/dev/null 2>&1 || echo "F $1 $2 $3 dmsetup remove failed" >>/out/fio.txt
	daemon_stop
	[ -f /tmp/counts.txt ] && mv /tmp/counts.txt /out/counts-$2-$3.txt
}

phase runs
rep=1
while [ $rep -le $REPS ]; do
	for w in $WORKLOADS; do
		# rotate the order of the types by repetition
		for t in $(rotated $rep $TYPES); do
			note "rep $rep $w $t"
			one $rep $t $w
		done
	done
	rep=$((rep + 1))
done

# In-guest round trips without the kernel (when bench_lat is here): the bare TLS echo, libdmlog
# to the standalone dmlogd, and dmlog-bridge's dgram transport with the fake kernel, in the same
# emulated CPU as the fio runs, so that the VM's per-request costs can be told apart.
if [ -x /host/bench_lat ] && [ -x /host/bench_rounds ] && [ -n "$DMLOGD_PID" ]; then
	phase latency
	/host/bench_tlsecho certs=$CERTS lifetime=120 >/tmp/echo.port 2>/dev/null &
	ECHO_PID=$!
	/host/dmlog-bridge --servers=$DMLOGD_LISTEN --ca-file=$CERTS/ca.crt \
		--cert-file=$CERTS/node-node3.crt --key-file=$CERTS/node-node3.key \
		--transport=dgram:/tmp/lat.sock --ready-file=/tmp/lat.ready --log-level=notice \
		>>/tmp/bridge-bench.log 2>&1 &
	LATB_PID=$!
	_n=100
	while [ $_n -gt 0 ] && { [ ! -f /tmp/lat.ready ] || [ ! -s /tmp/echo.port ]; }; do
		sleep 0.1
		_n=$((_n - 1))
	done
	set -- "tls=/host/bench_lat tls port=$(awk '{print $2}' /tmp/echo.port) certs=$CERTS node=node2" \
		"direct=/host/bench_lat dmlog servers=$DMLOGD_LISTEN certs=$CERTS node=node2 uuid=LVM-bench-glat" \
		"bridge=/host/bench_lat bridge path=/tmp/lat.sock uuid=LVM-bench-glat-bridge"
	# with the 3-peer group up, libdmlog's commit through it too: the yardstick of the dmlog3
	# write rows ("one replicated MARK+FLUSH commit measured in the same guest run")
	[ -n "$GROUP_PIDS" ] &&
		set -- "$@" "group=/host/bench_lat dmlog servers=$PEERS3 certs=$CERTS node=node2 uuid=LVM-bench-glat3"
	bounded 150 /out/guest-lat.txt /host/bench_rounds -n 3 -r ${BENCH_LAT_PER:-100} -w 10 -b 90 -s 60 "$@" ||
		note "in-guest latency rounds failed: $(tail -n 3 /out/guest-lat.txt)"
	kill -TERM $LATB_PID $ECHO_PID 2>/dev/null
	wait $LATB_PID $ECHO_PID 2>/dev/null
fi

phase done
for p in $GROUP_PIDS; do kill -TERM $p 2>/dev/null; done
kill_dmlogd TERM
grep -c '^R ' /out/fio.txt >/dev/null || bad "no fio result at all"
save_log /tmp/bridge-bench.log
finish
