# guest-reads.sh: read throughput of a synced mirror with dmlog, the in-memory responder and the
# kernel's core log, in one VM guest.
#
# Run by `bench/run.sh --reads` through tests/kernel/run-in-guest.sh (busybox sh, root,
# Debian's kernel), with /host/fio, /host/dmlogd, /host/dmlog-bridge, /host/bench_responder,
# /host/dmsetup, /host/guest-lib.sh and the development certificates in /host/certs.
#
# Reads are where dmlog-bridge's local IN_SYNC answers matter: the kernel sends one IN_SYNC per
# read bio, and a buffered read becomes 4 KiB page reads. One mirror over the same two loop legs
# on tmpfs (BENCH_MB MiB each, 512 KiB regions, `nosync`: in sync from the start, no resync
# competing), re-created for each case; rounds of every case, the order of the cases rotating
# from round to round, so that the emulated CPU's drift hits every case alike. Cases
# (BENCH_TYPES, in this order):
#   dmlog      userspace clustered-core through dmlog-bridge to a standalone dmlogd
#   responder  userspace clustered-core answered by bench_responder (dmlogd's engine on the
#              connector in-process: no network, no fsync, no logging; the yardstick)
#   core       the kernel's own in-memory log
# Workloads, one after the other on the same mirror:
#   rr1f  4 KiB random read, O_DIRECT, QD1, BENCH_RUNTIME seconds, right after the mirror was
#         created (resumed) and before any write. dm-log-userspace then still holds an
#         in_sync_hint of 0 (only an IS_REMOTE_RECOVERING answer, which only a write asks for,
#         raises it), so kmirrord sends GET_RESYNC_WORK, a request dmlogd answers, before each
#         batch of reads, on top of the reads' IN_SYNCs;
#   then one 4 KiB O_DIRECT write (its IS_REMOTE_RECOVERING sets the hint: no more
#         GET_RESYNC_WORK), and the steady state of a synced mirror in use:
#   rr1   the same random reads;
#   sr    buffered sequential read of the first BENCH_SR_MB MiB, 1 MiB reads, caches dropped
#         first: a fixed amount, read once, so the page cache never serves it.
#
# Output: /out/reads.txt, lines "R ROUND TYPE WORKLOAD IOPS KIB_PER_S", for dmlog also
# "L ROUND WORKLOAD LOCAL REMOTE REMOTE_NO_LEASE GET_RESYNC_WORK GET_SYNC_COUNT" (the bridge's
# IN_SYNC counters and the requests of those two types relayed to dmlogd over the workload,
# from its SIGUSR1 dumps), for a failed case "F ROUND TYPE WORKLOAD reason";
# /out/counts-responder-ROUND.txt (bench_responder's requests by type); and the medians with the
# ratios dmlog/responder and dmlog/core in /out/reads-table.txt, also printed.
. /host/guest-lib.sh

MB=${BENCH_MB:-128}
SR_MB=${BENCH_SR_MB:-64}
RS=1024
RT=${BENCH_RUNTIME:-5}
ROUNDS=${BENCH_ROUNDS:-3}
TYPES=${BENCH_TYPES:-"dmlog responder core"}
SZ=$((MB * 2048))
BLOG=/tmp/bridge-bench.log
DAEMON_PID=

phase setup
truncate -s ${MB}M /tmp/leg-a.img /tmp/leg-b.img || fatal "leg files"
new_loop /tmp/leg-a.img || fatal "loop a"
LEG_A=$NEW_LOOP
new_loop /tmp/leg-b.img || fatal "loop b"
LEG_B=$NEW_LOOP
: >/out/reads.txt
case " $TYPES " in *" dmlog "*)
	DMLOGD_LOG_LEVEL=notice start_dmlogd solo || fatal "standalone dmlogd" ;;
esac

# daemon_start TYPE: the userspace log server of TYPE on the connector; waits for its ready file.
daemon_start() {
	rm -f /tmp/daemon.ready
	case $1 in
	responder)
		/host/bench_responder ready=/tmp/daemon.ready counts=/tmp/counts.txt \
			>/tmp/responder.log 2>&1 & ;;
	dmlog)
		/host/dmlog-bridge --servers=$DMLOGD_LISTEN --ca-file=$CERTS/ca.crt \
			--cert-file=$CERTS/node-node1.crt --key-file=$CERTS/node-node1.key \
			--transport=netlink --ready-file=/tmp/daemon.ready --log-level=notice \
			>>$BLOG 2>&1 & ;;
	*) return 0 ;;
	esac
	DAEMON_PID=$!
	daemon_ready $DAEMON_PID /tmp/daemon.ready
}
# local_reads: SIGUSR1 the bridge, wait for the dump; prints "LOCAL REMOTE REMOTE_NO_LEASE
# GET_RESYNC_WORK GET_SYNC_COUNT" (IN_SYNC counters, requests of those types relayed).
local_reads() {
	_c0=$(grep -c 'state dump: local_reads' $BLOG)
	kill -USR1 $DAEMON_PID 2>/dev/null || return 1
	_n=100
	while [ "$(grep -c 'state dump: local_reads' $BLOG)" -le "$_c0" ] && [ $_n -gt 0 ]; do
		sleep 0.05
		_n=$((_n - 1))
	done
	[ "$(grep -c 'state dump: local_reads' $BLOG)" -gt "$_c0" ] || return 1
	_lrl=$(grep 'state dump: local_reads' $BLOG | tail -n 1 |
		sed -n 's/.* local=\([0-9]*\) remote=\([0-9]*\) remote_no_lease=\([0-9]*\) .*/\1 \2 \3/p')
	[ -n "$_lrl" ] || return 1
	# requests of the two types (answered locally or not) less the local answers: relayed
	_bt=$(grep 'state dump: by type' $BLOG | tail -n 1)
	_lr=$(grep 'state dump: local_reads' $BLOG | tail -n 1)
	_grw=$(echo "$_bt" | sed -n 's/.* GET_RESYNC_WORK=\([0-9]*\).*/\1/p')
	_gsc=$(echo "$_bt" | sed -n 's/.* GET_SYNC_COUNT=\([0-9]*\).*/\1/p')
	_lgrw=$(echo "$_lr" | sed -n 's/.* local_resync_work=\([0-9]*\).*/\1/p')
	_lgsc=$(echo "$_lr" | sed -n 's/.* local_sync_count=\([0-9]*\).*/\1/p')
	echo "$_lrl $((${_grw:-0} - ${_lgrw:-0})) $((${_gsc:-0} - ${_lgsc:-0}))"
}

# table TYPE UUID: the mirror table with TYPE's dirty log.
table() {
	_legs="2 $LEG_A 0 $LEG_B 0 1 handle_errors"
	case $1 in
	core) echo "0 $SZ mirror core 2 $RS nosync $_legs" ;;
	*) echo "0 $SZ mirror userspace 4 $2 clustered-core $RS nosync $_legs" ;;
	esac
}
fio_args() {
	case $1 in
	rr1 | rr1f) echo "--rw=randread --bs=4k --direct=1 --ioengine=psync --iodepth=1 --runtime=$RT --time_based" ;;
	sr) echo "--rw=read --bs=1M --direct=0 --ioengine=psync --iodepth=1 --size=${SR_MB}M" ;;
	esac
}

# one ROUND TYPE: create the mirror, run the workloads, remove it; appends the result lines.
one() {
	_uuid=LVM-bench-reads-$2-$1
	if ! daemon_start $2; then
		echo "F $1 $2 - daemon did not start" >>/out/reads.txt
		daemon_stop
		return
	fi
	if ! dms 30 create bm --table "$(table $2 $_uuid)" >/tmp/create.out 2>&1; then
		echo "F $1 $2 - dmsetup create failed: $(tr '\n' ' ' </tmp/create.out | cut -c1-120)" >>/out/reads.txt
		daemon_stop
		return
	fi
	_lr0="0 0 0 0 0"
	[ $2 = dmlog ] && { _lr0=$(local_reads) || _lr0="0 0 0 0 0"; }
	for _w in rr1f rr1 sr; do
		[ $_w = sr ] && { sync; echo 3 >/proc/sys/vm/drop_caches; }
		if [ $_w = rr1 ]; then
			bounded 60 /tmp/write.out dd if=/dev/urandom of=/dev/mapper/bm bs=4k count=1 oflag=direct ||
				echo "F $1 $2 write the write before rr1 failed: $(tr '\n' ' ' </tmp/write.out | cut -c1-120)" >>/out/reads.txt
		fi
		bounded $((RT + 120)) /tmp/fio.out /host/fio --name=$_w --filename=/dev/mapper/bm \
			--minimal $(fio_args $_w)
		_rc=$?
		if [ $_rc = 0 ]; then
			awk -F';' -v p="R $1 $2 $_w" '{ print p, $8, $7 }' /tmp/fio.out >>/out/reads.txt
		else
			echo "F $1 $2 $_w fio status $_rc: $(tail -n 2 /tmp/fio.out | tr '\n' ' ' | cut -c1-120)" >>/out/reads.txt
		fi
		if [ $2 = dmlog ]; then
			_lr=$(local_reads) || _lr=
			if [ -n "$_lr" ]; then
				set -- $1 $2 $_lr $_lr0
				echo "L $1 $_w $(($3 - $8)) $(($4 - $9)) $(($5 - ${10})) $(($6 - ${11})) $(($7 - ${12}))" >>/out/reads.txt
				_lr0="$3 $4 $5 $6 $7"
			fi
		fi
	done
	dms 30 remove bm >/dev/null 2>&1 || echo "F $1 $2 - dmsetup remove failed" >>/out/reads.txt
	daemon_stop
	[ -f /tmp/counts.txt ] && mv /tmp/counts.txt /out/counts-$2-$1.txt
}

phase runs
round=1
while [ $round -le $ROUNDS ]; do
	for t in $(rotated $round $TYPES); do
		note "round $round: $t"
		one $round $t
	done
	round=$((round + 1))
done

phase results
kill_dmlogd TERM
awk -v types="$TYPES" -v rounds=$ROUNDS -v mb=$MB -v srmb=$SR_MB '
function med(k,   n, i, j, t, a) { n = cnt[k]; if (!n) return "";
	for (i = 1; i <= n; i++) a[i] = v[k, i];
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
function ratio(a, b) { return (a == "" || b == "" || b + 0 == 0) ? "n/a" : sprintf("%.2f", a / b) }
function num(a) { return a == "" ? "n/a" : sprintf("%.1f", a) }
$1 == "R" { k = $3 SUBSEP $4; cnt[k]++; v[k, cnt[k]] = ($4 == "sr") ? $6 / 1024 : $5;
	all[k] = all[k] sprintf(" %.1f", v[k, cnt[k]]) }
$1 == "L" { lo[$3] += $4; re[$3] += $5; nl[$3] += $6; gw[$3] += $7; gs[$3] += $8 }
$1 == "F" { print "  failed: " $0 }
END {
	printf "reads of a synced 2-leg mirror (tmpfs loops, %d MiB, 512 KiB regions, nosync), %d rounds, case order rotated\n", mb, rounds
	printf "  %-52s %9s %9s %9s %10s %10s\n", "workload (median of the rounds)", "dmlog", "responder", "core", "dmlog/resp", "dmlog/core"
	nw = split("rr1 sr rr1f", w, " ")
	split("4 KiB randread O_DIRECT QD1 (IOPS)|buffered seq read, " srmb " MiB (MiB/s)|4 KiB randread QD1, before any write (IOPS)", lab, "|")
	for (j = 1; j <= nw; j++) {
		d = med("dmlog" SUBSEP w[j]); r = med("responder" SUBSEP w[j]); c = med("core" SUBSEP w[j])
		printf "  %-52s %9s %9s %9s %10s %10s\n", lab[j], num(d), num(r), num(c), ratio(d, r), ratio(d, c)
		if (d != "" && r != "") verdict[j] = (d / r >= 0.8) ? "MET" : "NOT MET"; else verdict[j] = "n/a"
	}
	n = split(types, t, " ")
	for (j = 1; j <= nw; j++) {
		printf "  %s by round:", w[j]
		for (i = 1; i <= n; i++) printf " %s[%s ]", t[i], all[t[i] SUBSEP w[j]]
		printf "\n"
	}
	for (j = 1; j <= nw; j++) if (lo[w[j]] + re[w[j]] > 0)
		printf "  dmlog-bridge during %s, all rounds: IN_SYNC local=%d remote=%d (no lease %d, %.1f%% local); relayed GET_RESYNC_WORK=%d GET_SYNC_COUNT=%d\n",
			w[j], lo[w[j]], re[w[j]], nl[w[j]], 100 * lo[w[j]] / (lo[w[j]] + re[w[j]]), gw[w[j]], gs[w[j]]
	printf "  target dmlog/responder >= 0.8: randread %s, buffered read %s; before any write: randread %s\n", verdict[1], verdict[2], verdict[3]
}' /out/reads.txt >/out/reads-table.txt
cat /out/reads-table.txt
grep -q '^R ' /out/reads.txt || bad "no fio result at all"
grep -q '^F ' /out/reads.txt && bad "some cases failed: $(grep '^F ' /out/reads.txt | tr '\n' ';')"
save_log $BLOG
finish
