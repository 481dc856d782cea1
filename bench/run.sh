#!/usr/bin/env bash
# run.sh - dmlog's benchmarks against its anchors, in one run, printed as one table.
#
# Measures, on this machine and on 127.0.0.1 only, everything the performance targets are stated
# against, so that what is compared is measured in the same minutes (latency series interleaved
# round by round by bench_rounds):
#   1. the floor: 4 KiB write + fdatasync on the filesystem of dmlogd's state dir;
#   2. MARK+FLUSH, FLUSH carrying the mark, IN_SYNC through libdmlog's blocking API, to a
#      standalone dmlogd and (when dmlogd has peers) to a group of 3 peers;
#   3. the same through dmlog-bridge (dgram test transport, fake kernel), when it is built;
#   4. a bare TLS echo with IN_SYNC's frame sizes (bench_tlsecho, dmlogd's OpenSSL settings);
#   5. region marks per second with 64 writers over 16 logs and 4 node connections (async API),
#      with the cycle latency under that load;
#   6. corosync CPG agreed-order send -> own delivery on a one-node ring (cmirrord's transport);
#   7. etcd put latency (3 members) over HTTP/1.1 keep-alive to the v3 JSON gateway;
#   8. dmlogd's memory per region for a 2^28-region log, and the engine's snapshot/restore time;
#   9. fio in a QEMU guest on a dm mirror, log types interleaved per workload (kernel core and
#      disk logs, bench_responder, dmlog via the bridge), when tests/kernel/run-in-guest.sh works.
# Missing Debian packages are installed with apt-get (after apt-get update); the build is made
# with cmake when a program is missing. Every process started here is stopped by its PID (trap
# on exit); every part has a timeout and the whole run stops itself after 14 minutes.
#
# Usage: bench/run.sh [options]
#   --build DIR    build directory (default: <repo>/build-bench)
#   --out DIR      keep raw samples, logs, perf and VM output here (default: a new /tmp dir)
#   --rounds N     latency rounds (default 20)       --per N   samples per round (default 200)
#   --tput-seconds N  length of each throughput run (default 8)
#   --vm-reps N    VM repetitions (default 2)        --vm-runtime S  fio seconds (default 3)
#   --no-vm        skip the VM part                  --no-install   never call apt-get
#   --profile      perf-record the leader dmlogd during a throughput run (top symbols in --out)
#   --quick        a short smoke run (3 rounds of 50, 3 s throughput runs, 1 VM rep)
#   --reads        only the VM read benchmark (bench/guest-reads.sh: O_DIRECT 4 KiB random reads and
#                  buffered sequential reads of a synced mirror, dmlog vs bench_responder vs the
#                  kernel's core log, in rounds), nothing else; its table in --out/table.txt
#   --reads-rounds N  rounds of it (default 3)    --reads-runtime S  seconds per random-read run (default 5)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BUILD=$ROOT/build-bench OUT='' ROUNDS=20 PER=200 TPUT_S=8 VM_REPS=2 VM_RT=3
DO_VM=1 DO_INSTALL=1 PROFILE=0 READS=0 READS_ROUNDS=3 READS_RT=5
LIMIT=840            # seconds for the whole run (14 minutes)
ARGS="$*"
while [ $# -gt 0 ]; do
	case $1 in
	--build) BUILD=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--per) PER=$2; shift 2 ;;
	--tput-seconds) TPUT_S=$2; shift 2 ;;
	--vm-reps) VM_REPS=$2; shift 2 ;;
	--vm-runtime) VM_RT=$2; shift 2 ;;
	--no-vm) DO_VM=0; shift ;;
	--no-install) DO_INSTALL=0; shift ;;
	--profile) PROFILE=1; shift ;;
	--quick) ROUNDS=3 PER=50 TPUT_S=3 VM_REPS=1 VM_RT=2; shift ;;
	--reads) READS=1; shift ;;
	--reads-rounds) READS_ROUNDS=$2; shift 2 ;;
	--reads-runtime) READS_RT=$2; shift 2 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d;s/^# \{0,1\}//'; exit 0 ;;
	*) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
done

T0=$(date +%s)
WORK=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/dmlog-bench.XXXXXX")
OUT=${OUT:-$(mktemp -d /tmp/dmlog-bench-out.XXXXXX)}
mkdir -p "$OUT/logs" "$OUT/samples"
OUT=$(cd "$OUT" && pwd)
CERTS=$WORK/tls
PIDS=()                 # every long-running process started here
declare -A R=()         # results: key -> value
declare -A NA=()        # part -> why it is n/a

log() { echo "run.sh: [$(($(date +%s) - T0))s] $*" >&2; }
left() { echo $((LIMIT - ($(date +%s) - T0))); }
# bound SECONDS: the smaller of SECONDS and the time left (at least 1).
bound() { local l; l=$(left); [ "$l" -lt "$1" ] && echo $((l > 1 ? l : 1)) || echo "$1"; }

stop_pid() { # stop_pid PID: TERM, wait up to 5 s, KILL
	local p=$1 i
	kill -0 "$p" 2>/dev/null || return 0
	kill -TERM "$p" 2>/dev/null || true
	for i in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
}
cleanup() {
	local i
	trap - EXIT INT TERM
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[$i]}"; done
	[ -n "${WATCHDOG:-}" ] && kill "$WATCHDOG" 2>/dev/null
	rm -rf "$WORK"
	[ -n "${MEMWORK:-}" ] && rm -rf "$MEMWORK"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM
# The whole run is bounded: past LIMIT (+20 s of grace for the table), this shell gets TERM.
# (Short sleeps, so that nothing of the watchdog outlives the run by more than 2 s.)
( while [ "$(date +%s)" -lt $((T0 + LIMIT + 20)) ]; do sleep 2; done; kill -TERM $$ 2>/dev/null ) &
WATCHDOG=$!

# ---------------------------------------------------------------- packages
need_pkgs=()
want() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed" || need_pkgs+=("$1"); }
if [ "$READS" = 0 ]; then want corosync; want libcpg-dev; want etcd-server; want etcd-client; fi
want fio; want dmsetup
if [ "$DO_VM" = 1 ] || [ "$READS" = 1 ]; then want qemu-system-x86; want busybox-static; want cpio; fi
command -v cmake >/dev/null || want cmake
if [ ${#need_pkgs[@]} -gt 0 ]; then
	if [ "$DO_INSTALL" = 1 ]; then
		log "installing ${need_pkgs[*]}"
		timeout "$(bound 60)" apt-get update -qq >"$OUT/logs/apt.log" 2>&1 || log "apt-get update failed"
		DEBIAN_FRONTEND=noninteractive timeout "$(bound 300)" apt-get install -y -q \
			--no-install-recommends "${need_pkgs[@]}" >>"$OUT/logs/apt.log" 2>&1 ||
			log "apt-get install failed (see $OUT/logs/apt.log); the parts needing it will be n/a"
	else
		log "missing packages (not installed, --no-install): ${need_pkgs[*]}"
	fi
fi

# ---------------------------------------------------------------- build
PROGS=(server/dmlogd bench/bench_lat bench/bench_rounds bench/bench_tlsecho bench/bench_tput
       bench/bench_memsnap bench/bench_responder)
TARGETS=(dmlogd bench_lat bench_rounds bench_tlsecho bench_tput bench_memsnap bench_responder
         dmlog-bridge bench_cpg)
if [ "$READS" = 1 ]; then
	PROGS=(server/dmlogd bench/bench_responder kernel-bridge/dmlog-bridge)
	TARGETS=(dmlogd bench_responder dmlog-bridge)
fi
log "building in $BUILD"
if [ ! -f "$BUILD/CMakeCache.txt" ] ||
	{ [ "$READS" = 0 ] && ! grep -q BENCH_CPG_LIB:FILEPATH=/ "$BUILD/CMakeCache.txt"; }; then
	configure() {
		timeout "$(bound 120)" cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
			>"$OUT/logs/cmake.log" 2>&1
	}
	if ! configure; then
		# the project's own dependency script knows the build packages (libraft from backports)
		[ "$DO_INSTALL" = 1 ] && timeout "$(bound 400)" "$ROOT/deploy/install-deps.sh" >"$OUT/logs/deps.log" 2>&1
		configure || { tail -n 20 "$OUT/logs/cmake.log"; exit 1; }
	fi
fi
for t in "${TARGETS[@]}"; do
	timeout "$(bound 400)" cmake --build "$BUILD" -j2 --target "$t" >>"$OUT/logs/build.log" 2>&1 ||
		log "target $t did not build (see $OUT/logs/build.log)"
done
for p in "${PROGS[@]}"; do
	[ -x "$BUILD/$p" ] || { log "missing $BUILD/$p after the build"; tail -n 30 "$OUT/logs/build.log"; exit 1; }
done
B=$BUILD/bench
DMLOGD=$BUILD/server/dmlogd
BRIDGE=$BUILD/kernel-bridge/dmlog-bridge
[ -x "$BRIDGE" ] || NA[bridge]="dmlog-bridge not built"
[ -x "$B/bench_cpg" ] || NA[cpg]="bench_cpg not built (libcpg-dev missing)"
if ! "$DMLOGD" --help 2>&1 | grep -q -- '--peers'; then NA[group]="not built: dmlogd --help names no --peers"; fi

# ---------------------------------------------------------------- certificates, ports
"$ROOT/deploy/dmlog-certs.sh" "$CERTS" dev >/dev/null
for n in node2 node3 node4; do "$ROOT/deploy/dmlog-certs.sh" "$CERTS" node "$n" >/dev/null; done
for p in dmlogd2 dmlogd3; do "$ROOT/deploy/dmlog-certs.sh" "$CERTS" peer "$p" >/dev/null; done

# ---------------------------------------------------------------- --reads: the VM read benchmark only
if [ "$READS" = 1 ]; then
	prc=0
	timeout 120 "$ROOT/tests/kernel/run-in-guest.sh" -P >"$OUT/logs/vm-prepare.log" 2>&1 || prc=$?
	[ $prc = 0 ] || { log "run-in-guest.sh cannot run a guest here (status $prc, see $OUT/logs/vm-prepare.log)"; exit 1; }
	vmt=$(bound $(($(left) - 30)))
	log "VM reads: dmlog, bench_responder, core; $READS_ROUNDS rounds, ${READS_RT}s random-read runs, at most ${vmt}s"
	DMSETUP=$(command -v dmsetup || echo /sbin/dmsetup)
	vrc=0
	timeout $((vmt + 10)) "$ROOT/tests/kernel/run-in-guest.sh" -q -t "$vmt" -s 1 -r 2048 -o "$OUT/vm-reads" \
		-m dm-mirror,dm-log-userspace,loop \
		-f "$ROOT/tests/kernel/guest-lib.sh:/host/guest-lib.sh" -f "$DMSETUP:/host/dmsetup" \
		-f "$(command -v fio):/host/fio" -f "$DMLOGD:/host/dmlogd" -f "$BRIDGE:/host/dmlog-bridge" \
		-f "$B/bench_responder:/host/bench_responder" -f "$CERTS:/host/certs" \
		-e "BENCH_ROUNDS=$READS_ROUNDS" -e "BENCH_RUNTIME=$READS_RT" \
		"$HERE/guest-reads.sh" >"$OUT/logs/vm-reads.log" 2>&1 || vrc=$?
	[ -s "$OUT/vm-reads/files/reads-table.txt" ] ||
		{ tail -n 30 "$OUT/logs/vm-reads.log"; log "the VM run gave no results (status $vrc, see $OUT/logs/vm-reads.log)"; exit 1; }
	{
		echo "dmlog read benchmark  $(date -u '+%Y-%m-%d %H:%M UTC')  host: $(nproc) CPUs, kernel $(uname -r); guest: QEMU TCG, 1 vCPU"
		echo "command: bench/run.sh $ARGS"
		cat "$OUT/vm-reads/files/reads-table.txt"
		echo "raw results: $OUT/vm-reads/files/reads.txt   (run took $(($(date +%s) - T0)) s)"
	} | tee "$OUT/table.txt"
	[ $vrc = 0 ] || { log "the VM script reported failures (status $vrc; see $OUT/logs/vm-reads.log)"; exit 1; }
	exit 0
fi

USED_PORTS=" "
tcp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() { # a port nobody listens on, not handed out before in this run
	local p
	while :; do
		p=$((20000 + RANDOM % 12000)) # below the ephemeral range (32768-): no outgoing connection holds it
		[[ $USED_PORTS == *" $p "* ]] && continue
		tcp_open "$p" && continue
		USED_PORTS+="$p "
		echo "$p"
		return
	done
}
wait_port() { # wait_port PORT SECONDS PID: until something accepts on PORT (PID must live)
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		tcp_open "$1" && return 0
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# start_dmlogd NAME ID RAFT_ID PORT RAFT_PORT [extra args...]: state in $WORK/NAME.
# State goes under $STATE_ROOT when set (the tmpfs group), else under $WORK.
start_dmlogd() {
	local name=$1 id=$2 rid=$3 port=$4 rport=$5 root=${STATE_ROOT:-$WORK}
	shift 5
	mkdir -p "$root/$name"
	"$DMLOGD" --listen="127.0.0.1:$port" --raft-address="127.0.0.1:$rport" --state-dir="$root/$name" \
		--id="$id" --raft-id="$rid" --ca-file="$CERTS/ca.crt" --cert-file="$CERTS/peer-$id.crt" \
		--key-file="$CERTS/peer-$id.key" --log-level=notice "$@" 2>"$OUT/logs/dmlogd-$name.log" &
	PIDS+=($!)
	eval "PID_$name=$!"
}

# ---------------------------------------------------------------- services
SOLO_PORT=$(free_port)
start_dmlogd solo dmlogd1 1 "$SOLO_PORT" "$(free_port)"
wait_port "$SOLO_PORT" 20 "$PID_solo" || { tail "$OUT/logs/dmlogd-solo.log"; echo "run.sh: standalone dmlogd did not start" >&2; exit 1; }
log "standalone dmlogd pid $PID_solo on 127.0.0.1:$SOLO_PORT, state on $(stat -f -c %T "$WORK") ($(df --output=source "$WORK" | tail -n 1))"

# start_group PREFIX: three peers named PREFIX1..3; their client addresses in GROUP_STARTED
# (empty when one did not start).
start_group() {
	local gp=() grp=() i j peers ok=1 p
	for i in 1 2 3; do gp+=("$(free_port)"); grp+=("$(free_port)"); done
	for i in 0 1 2; do
		peers=''
		for j in 0 1 2; do [ $j = $i ] || peers+="${peers:+,}$((j + 1))@127.0.0.1:${grp[$j]}"; done
		start_dmlogd "$1$((i + 1))" "dmlogd$((i + 1))" $((i + 1)) "${gp[$i]}" "${grp[$i]}" --peers="$peers"
	done
	for i in 1 2 3; do eval "p=\$PID_$1$i"; wait_port "${gp[$((i - 1))]}" 20 "$p" || ok=0; done
	GROUP_STARTED=''
	[ $ok = 1 ] && GROUP_STARTED="127.0.0.1:${gp[0]},127.0.0.1:${gp[1]},127.0.0.1:${gp[2]}"
	return 0
}
GROUP_SERVERS=''
if [ -z "${NA[group]:-}" ]; then
	start_group peer
	GROUP_SERVERS=$GROUP_STARTED
	if [ -n "$GROUP_SERVERS" ]; then
		log "3-peer group on $GROUP_SERVERS"
	else
		NA[group]="a 3-peer group did not start (see $OUT/logs/dmlogd-peer*.log)"
	fi
fi
# The same group with its state on tmpfs, for the latency rounds only: a commit with no disk
# in it, so that the table tells the software path (TLS, relays, hand-offs) from the disk.
MEM_SERVERS=''
if [ -z "${NA[group]:-}" ] && [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then
	MEMWORK=$(mktemp -d /dev/shm/dmlog-bench.XXXXXX)
	STATE_ROOT=$MEMWORK start_group mpeer
	MEM_SERVERS=$GROUP_STARTED
	[ -n "$MEM_SERVERS" ] || NA[gmem]="the tmpfs group did not start (see $OUT/logs/dmlogd-mpeer*.log)"
else
	NA[gmem]="no tmpfs at /dev/shm, or no group"
fi

# start_bridge NAME SERVERS NODE: dmlog-bridge on dgram:$WORK/NAME.sock
start_bridge() {
	"$BRIDGE" --servers="$2" --ca-file="$CERTS/ca.crt" --cert-file="$CERTS/node-$3.crt" \
		--key-file="$CERTS/node-$3.key" --transport="dgram:$WORK/$1.sock" \
		--ready-file="$WORK/$1.ready" --log-level=notice 2>"$OUT/logs/bridge-$1.log" &
	PIDS+=($!)
	local pid=$! i
	for i in $(seq 100); do [ -e "$WORK/$1.ready" ] && return 0; kill -0 $pid 2>/dev/null || break; sleep 0.1; done
	return 1
}
if [ -z "${NA[bridge]:-}" ]; then
	start_bridge bsolo "127.0.0.1:$SOLO_PORT" node2 || NA[bridge]="dmlog-bridge did not start (see $OUT/logs/bridge-bsolo.log)"
	if [ -z "${NA[bridge]:-}" ] && [ -n "$GROUP_SERVERS" ]; then
		start_bridge bgroup "$GROUP_SERVERS" node3 || NA[bgroup]="dmlog-bridge to the group did not start"
	fi
fi

"$B/bench_tlsecho" certs="$CERTS" lifetime=$((LIMIT + 60)) >"$WORK/echo.port" 2>"$OUT/logs/tlsecho.log" &
PIDS+=($!)
for i in $(seq 50); do [ -s "$WORK/echo.port" ] && break; sleep 0.1; done
ECHO_PORT=$(awk '{print $2}' "$WORK/echo.port")

# corosync: a one-node ring on 127.0.0.1, foreground, its config, state and runtime dirs here.
# corosync writes a lock file at the compiled-in /run/corosync.pid: it runs in a mount namespace
# of its own with a private tmpfs on /run, so the host's /run is never touched. Its IPC (libqb:
# abstract unix sockets, /dev/shm buffers) stays reachable for bench_cpg.
if [ -z "${NA[cpg]:-}" ]; then
	if ! command -v corosync >/dev/null; then
		NA[cpg]="corosync not installed"
	elif pgrep -x corosync >/dev/null; then
		NA[cpg]="a corosync not started here is running (its CPG IPC names would clash)"
	else
		mkdir -p "$WORK/corosync"
		cat >"$WORK/corosync/corosync.conf" <<EOF
totem {
	version: 2
	cluster_name: dmlogbench
	transport: knet
	crypto_cipher: none
	crypto_hash: none
	interface {
		linknumber: 0
		mcastport: $(free_port)
	}
}
nodelist {
	node {
		ring0_addr: 127.0.0.1
		nodeid: 1
		name: bench1
	}
}
quorum {
	provider: corosync_votequorum
}
logging {
	to_stderr: yes
	to_logfile: no
	to_syslog: no
	timestamp: on
	blackbox: off
}
system {
	state_dir: $WORK/corosync
}
EOF
		unshare -m sh -c 'mount -t tmpfs -o size=1m,mode=0755 tmpfs /run && exec corosync -f -c "$1"' \
			sh "$WORK/corosync/corosync.conf" >"$OUT/logs/corosync.log" 2>&1 &
		PIDS+=($!)
		COROSYNC_PID=$!
		for i in $(seq 200); do
			grep -q "ready to provide service" "$OUT/logs/corosync.log" && break
			kill -0 $COROSYNC_PID 2>/dev/null || break
			sleep 0.1
		done
		grep -q "ready to provide service" "$OUT/logs/corosync.log" ||
			NA[cpg]="corosync did not start (see $OUT/logs/corosync.log)"
	fi
fi

# etcd: three members, plain HTTP on 127.0.0.1, data dirs here (same filesystem as dmlogd's).
ETCD_PORT=''
if ! command -v etcd >/dev/null; then
	NA[etcd]="etcd not installed"
else
	ecp=() epp=() cluster=''
	for i in 1 2 3; do ecp+=("$(free_port)"); epp+=("$(free_port)"); done
	for i in 0 1 2; do cluster+="${cluster:+,}e$((i + 1))=http://127.0.0.1:${epp[$i]}"; done
	for i in 0 1 2; do
		etcd --name "e$((i + 1))" --data-dir "$WORK/etcd$((i + 1))" \
			--listen-peer-urls "http://127.0.0.1:${epp[$i]}" --initial-advertise-peer-urls "http://127.0.0.1:${epp[$i]}" \
			--listen-client-urls "http://127.0.0.1:${ecp[$i]}" --advertise-client-urls "http://127.0.0.1:${ecp[$i]}" \
			--initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token dmlog-bench \
			--logger=zap --log-level=warn >"$OUT/logs/etcd$((i + 1)).log" 2>&1 &
		PIDS+=($!)
	done
	EPS="127.0.0.1:${ecp[0]},127.0.0.1:${ecp[1]},127.0.0.1:${ecp[2]}"
	for i in $(seq 60); do
		st=$(ETCDCTL_API=3 timeout 5 etcdctl --endpoints="$EPS" endpoint status -w fields 2>/dev/null || true)
		ETCD_PORT=$(echo "$st" | awk -F' : ' '/"MemberID"/ {m = $2} /"Leader"/ {l = $2}
			/"Endpoint"/ { gsub(/"/, "", $2); if (m == l && l != 0) { sub(/.*:/, "", $2); print $2 } }' | head -n 1)
		[ -n "$ETCD_PORT" ] && break
		sleep 0.5
	done
	[ -n "$ETCD_PORT" ] || NA[etcd]="etcd cluster did not elect a leader (see $OUT/logs/etcd*.log)"
	[ -n "$ETCD_PORT" ] && log "etcd leader's client port $ETCD_PORT"
fi

# ---------------------------------------------------------------- 1-4, 6, 7: latency rounds
agents=("fsync=$B/bench_lat fsync dir=$WORK"
	"solo=$B/bench_lat dmlog servers=127.0.0.1:$SOLO_PORT certs=$CERTS node=node1 uuid=LVM-bench-solo-0123456789abcdef"
	"tls=$B/bench_lat tls port=$ECHO_PORT certs=$CERTS uuid=LVM-bench-solo-0123456789abcdef"
	"raw=$B/bench_lat raw port=$SOLO_PORT certs=$CERTS node=node4 uuid=LVM-bench-raw-0123456789abcdef")
[ -n "$GROUP_SERVERS" ] && agents+=("fsync3=$B/bench_lat fsync dir=$WORK peers=3")
[ -n "$GROUP_SERVERS" ] && agents+=("group=$B/bench_lat dmlog servers=$GROUP_SERVERS certs=$CERTS node=node1 uuid=LVM-bench-group-0123456789abcdef")
[ -n "$MEM_SERVERS" ] && agents+=("gmem=$B/bench_lat dmlog servers=$MEM_SERVERS certs=$CERTS node=node1 uuid=LVM-bench-gmem-0123456789abcdef")
agents+=("wake=$B/bench_lat wake")
[ -z "${NA[bridge]:-}" ] && agents+=("bsolo=$B/bench_lat bridge path=$WORK/bsolo.sock uuid=LVM-bench-bsolo-0123456789abcdef")
[ -z "${NA[bridge]:-}" ] && [ -n "$GROUP_SERVERS" ] && [ -z "${NA[bgroup]:-}" ] &&
	agents+=("bgroup=$B/bench_lat bridge path=$WORK/bgroup.sock uuid=LVM-bench-bgroup-0123456789abcdef")
[ -z "${NA[cpg]:-}" ] && agents+=("cpg=$B/bench_cpg")
[ -n "$ETCD_PORT" ] && agents+=("etcd=$B/bench_lat etcd port=$ETCD_PORT")
log "latency: ${#agents[@]} agents, $ROUNDS rounds of $PER"
timeout "$(bound 300)" "$B/bench_rounds" -n "$ROUNDS" -r "$PER" -w 50 -b "$(bound 240)" -s 120 \
	-o "$OUT/samples" "${agents[@]}" >"$WORK/rounds.out" 2>"$OUT/logs/rounds.log" || log "bench_rounds failed"
cp "$WORK/rounds.out" "$OUT/rounds.txt"
for i in 1 2 3; do eval "p=\${PID_mpeer$i:-}"; [ -z "$p" ] || stop_pid "$p"; done
while read -r kind name a b c d e; do
	case $kind in
	series) R[$name.n]=$a R[$name.p50]=$b R[$name.p90]=$c R[$name.p99]=$d ;;
	agent) [ "$a" = failed ] && NA[agent.$name]="$b $c $d $e" ;;
	rounds) R[rounds]=$name ;;
	esac
done <"$WORK/rounds.out"

# ---------------------------------------------------------------- 5: throughput
# tput KEY SERVERS ARGS...: one bench_tput run, its key=value line into R[KEY.*].
tput() {
	local key=$1 srv=$2 line kv
	shift 2
	line=$(timeout "$(bound $((TPUT_S + 90)))" "$B/bench_tput" servers="$srv" certs="$CERTS" \
		seconds="$TPUT_S" "$@" 2>>"$OUT/logs/tput.log") || { NA[$key]="bench_tput failed: $(tail -n 1 "$OUT/logs/tput.log")"; return; }
	echo "$key $line" >>"$OUT/tput.txt"
	for kv in $line; do [[ $kv == *=* ]] && R[$key.${kv%%=*}]=${kv#*=}; done
}
profile_start() { # profile_start PID NAME: perf record in the background for a few seconds
	[ "$PROFILE" = 1 ] && command -v perf >/dev/null || return 0
	perf record -F 499 -g -p "$1" -o "$OUT/perf-$2.data" -- sleep $((TPUT_S > 4 ? 4 : TPUT_S)) \
		>"$OUT/logs/perf-$2.log" 2>&1 &
	PIDS+=($!)
	PERF_PID=$!
}
profile_end() {
	[ -n "${PERF_PID:-}" ] || return 0
	wait "$PERF_PID" 2>/dev/null || true
	perf report -i "$OUT/perf-$1.data" --stdio --no-children --percent-limit 1.5 --sort dso,symbol \
		2>/dev/null | grep -v '^$' | head -n 80 >"$OUT/perf-$1.txt" || true
	PERF_PID=''
}
log "throughput: 64 writers, 16 logs, 4 nodes, ${TPUT_S}s per run"
profile_start "$PID_solo" solo
tput tput_solo "127.0.0.1:$SOLO_PORT" mode=markflush batch=1
profile_end solo
tput tput_solo_if "127.0.0.1:$SOLO_PORT" mode=iflush batch=1
if [ -n "$GROUP_SERVERS" ]; then
	# the leader is the peer whose log says it won (profile only that one)
	for i in 1 2 3; do
		[ "$(grep -o 'raft leadership [a-z]*' "$OUT/logs/dmlogd-peer$i.log" 2>/dev/null | tail -n 1)" = \
			"raft leadership gained" ] && eval "LEADER_PID=\$PID_peer$i"
	done
	profile_start "${LEADER_PID:-$PID_peer1}" group
	tput tput_group "$GROUP_SERVERS" mode=markflush batch=1
	profile_end group
	tput tput_group_if "$GROUP_SERVERS" mode=iflush batch=1
	tput tput_group_b8 "$GROUP_SERVERS" mode=markflush batch=8
fi

# ---------------------------------------------------------------- 8: memory and snapshots
rss() { awk -v f="$2:" '$1 == f { print $2 * 1024 }' "/proc/$1/status"; }
MEM_PORT=$(free_port)
start_dmlogd mem dmlogd1 1 "$MEM_PORT" "$(free_port)"
if wait_port "$MEM_PORT" 20 "$PID_mem"; then
	# one node connection first, so that the delta is the log alone (not the session)
	timeout 30 "$B/bench_lat" ctr servers="127.0.0.1:$MEM_PORT" certs="$CERTS" node=node1 \
		uuid=LVM-bench-mem-small args="2048 clustered-core 1024 nosync" >/dev/null 2>>"$OUT/logs/mem.log" || true
	sleep 0.5
	R[mem.rss0]=$(rss "$PID_mem" VmRSS)
	# 2^28 regions of 512 KiB (a 128 TiB mirror), nosync: every bitmap page is written
	if timeout "$(bound 60)" "$B/bench_lat" ctr servers="127.0.0.1:$MEM_PORT" certs="$CERTS" node=node1 \
		uuid=LVM-bench-mem-0123456789abcdef args="274877906944 clustered-core 1024 nosync" \
		>/dev/null 2>>"$OUT/logs/mem.log"; then
		sleep 2
		R[mem.rss1]=$(rss "$PID_mem" VmRSS)
		R[mem.hwm]=$(rss "$PID_mem" VmHWM)
		R[mem.bits]=$(awk -v a="${R[mem.rss0]}" -v b="${R[mem.rss1]}" 'BEGIN { printf "%.3f", (b - a) * 8 / 268435456 }')
		R[mem.hwmbits]=$(awk -v a="${R[mem.rss0]}" -v b="${R[mem.hwm]}" 'BEGIN { printf "%.3f", (b - a) * 8 / 268435456 }')
	else
		NA[mem]="CTR of the 2^28-region log failed: $(tail -n 1 "$OUT/logs/mem.log")"
	fi
	stop_pid "$PID_mem"
else
	NA[mem]="dmlogd for the memory test did not start"
fi
log "engine snapshot/restore on 2^28 regions"
for pat in 4096 1; do
	line=$(timeout "$(bound 120)" "$B/bench_memsnap" bits=28 run=$pat marks=10000 reps=3 2>>"$OUT/logs/memsnap.log") ||
		{ NA[snap$pat]="bench_memsnap failed"; continue; }
	echo "$line" >>"$OUT/memsnap.txt"
	for kv in $line; do [[ $kv == *=* ]] && R[snap$pat.${kv%%=*}]=${kv#*=}; done
done

# ---------------------------------------------------------------- 9: the VM
VMTYPES="core disk responder"
if [ "$DO_VM" = 0 ]; then
	NA[vm]="skipped (--no-vm)"
elif [ ! -x "$ROOT/tests/kernel/run-in-guest.sh" ]; then
	NA[vm]="tests/kernel/run-in-guest.sh not there"
elif [ "$(left)" -lt 200 ]; then
	NA[vm]="not enough time left ($(left) s)"
else
	prc=0
	timeout 120 "$ROOT/tests/kernel/run-in-guest.sh" -P >"$OUT/logs/vm-prepare.log" 2>&1 || prc=$?
	if [ $prc != 0 ]; then
		NA[vm]="run-in-guest.sh cannot run a guest here (status $prc, see $OUT/logs/vm-prepare.log)"
	else
		if [ -z "${NA[bridge]:-}" ]; then VMTYPES+=" dmlog dmlog-if"; else NA[vm.dmlog]=${NA[bridge]}; fi
		[ -z "${NA[bridge]:-}" ] && [ -z "${NA[group]:-}" ] && VMTYPES+=" dmlog3"
		vmt=$(bound $(( $(left) - 30 )))
		log "VM: types $VMTYPES, $VM_REPS reps of ${VM_RT}s fio jobs, at most ${vmt}s"
		cp -r "$CERTS" "$WORK/vmcerts"
		DMSETUP=$(command -v dmsetup || echo /sbin/dmsetup)
		vrc=0
		timeout $((vmt + 10)) "$ROOT/tests/kernel/run-in-guest.sh" -q -t "$vmt" -s 2 -r 2048 -o "$OUT/vm" \
			-m dm-mirror,dm-log-userspace,loop \
			-f "$ROOT/tests/kernel/guest-lib.sh:/host/guest-lib.sh" -f "$DMSETUP:/host/dmsetup" \
			-f "$(command -v fio):/host/fio" -f "$DMLOGD:/host/dmlogd" -f "$B/bench_responder:/host/bench_responder" \
			-f "$B/bench_lat:/host/bench_lat" -f "$B/bench_rounds:/host/bench_rounds" -f "$B/bench_tlsecho:/host/bench_tlsecho" \
			$([ -x "$BRIDGE" ] && echo "-f $BRIDGE:/host/dmlog-bridge") -f "$WORK/vmcerts:/host/certs" \
			-e "BENCH_REPS=$VM_REPS" -e "BENCH_RUNTIME=$VM_RT" -e "BENCH_TYPES=$VMTYPES" \
			"$HERE/guest-fio.sh" >"$OUT/logs/vm.log" 2>&1 || vrc=$?
		if [ -s "$OUT/vm/files/fio.txt" ]; then
			[ $vrc = 0 ] || log "the VM script reported failures (status $vrc; see $OUT/logs/vm.log)"
		else
			NA[vm]="the VM run gave no results (status $vrc, see $OUT/logs/vm.log)"
		fi
	fi
fi
# ---------------------------------------------------------------- stop the services early
for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[$i]}"; done
PIDS=()

# ---------------------------------------------------------------- the table
[ -n "$GROUP_SERVERS" ] && R[leader_changes]=$(cat "$OUT"/logs/dmlogd-peer*.log | grep -c 'raft leadership gained' || true)
num() { [ -n "${R[$1]:-}" ] && echo "${R[$1]}" || echo ""; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "" && b + 0 > 0) printf "%.2f", a / b; else printf "-" }'; }
FS50=$(num fsync.fsync.p50) FS99=$(num fsync.fsync.p99)
row() { # row LABEL KEY [NA-KEY]: latency row with ratios to the fsync floor
	local p50 p99
	p50=$(num "$2.p50") p99=$(num "$2.p99")
	if [ -z "$p50" ]; then
		printf "  %-50s %s\n" "$1" "n/a (${NA[${3:-none}]:-${NA[agent.${2%%.*}]:-not measured}})"
		return
	fi
	printf "  %-50s %9.1f %9.1f %9s %9s %7s\n" "$1" "$p50" "$p99" "$(ratio "$p50" "$FS50")" "$(ratio "$p99" "$FS99")" "$(num "$2.n")"
}
verdict() { # verdict OK(0/1/-) TEXT
	case $1 in 1) printf "  MET      %s\n" "$2" ;; 0) printf "  NOT MET  %s\n" "$2" ;; *) printf "  n/a      %s\n" "$2" ;; esac
}
# vm_medians: from the guest's fio.txt, "M TYPE WORKLOAD MEDIAN" (IOPS, or MiB/s for sw64 and
# sr) per pair that has results, and its "F ..." failure lines as they are.
vm_medians() {
	awk '
	$1 == "R" { k = $3 " " $4; n[k]++; v[k, n[k]] = ($4 == "sw64" || $4 == "sr") ? $6 / 1024 : $5 }
	$1 == "F" { print }
	END {
		for (k in n) {
			c = n[k]
			for (i = 1; i <= c; i++) a[i] = v[k, i]
			for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
			print "M", k, (c % 2 ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2)
		}
	}' "$OUT/vm/files/fio.txt"
}
# vm_med TYPE WORKLOAD: one median ("" when not measured).
vm_med() { vm_medians | awk -v k="$1 $2" '$1 == "M" && $2 " " $3 == k { print $4 }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "") print "-"; else print (a + 0 <= b + 0) ? 1 : 0 }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "") print "-"; else print (a + 0 < b + 0) ? 1 : 0 }'; }
mul() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "") print ""; else printf "%.1f", a * b }'; }

{
echo
echo "================================================================================================"
echo "dmlog benchmarks  $(date -u '+%Y-%m-%d %H:%M UTC')  $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), kernel $(uname -r)"
echo "state dirs on $(stat -f -c %T "$WORK") ($(df --output=source "$WORK" | tail -n 1)); 127.0.0.1; TLS 1.3 mutual; ${R[rounds]:-0} interleaved rounds of $PER"
echo "command: bench/run.sh $ARGS"
echo "================================================================================================"
echo "latency, microseconds (each series measured in the same rounds)"
printf "  %-50s %9s %9s %9s %9s %7s\n" "operation" "p50" "p99" "p50/fsync" "p99/fsync" "samples"
row "fsync floor: 4 KiB pwrite + fdatasync" fsync.fsync
row "3 fsyncs at once (3 peers, one disk): 2nd done" fsync3.fsync3_2nd group
row "3 fsyncs at once (3 peers, one disk): all done" fsync3.fsync3_all group
row "standalone dmlogd, libdmlog: MARK then FLUSH" solo.markflush
row "standalone dmlogd, libdmlog: FLUSH carrying mark" solo.iflush
row "standalone dmlogd, libdmlog: IN_SYNC" solo.insync
row "standalone dmlogd, bare TLS client: IN_SYNC" raw.raw_insync
row "3 peers, libdmlog: MARK then FLUSH" group.markflush group
row "3 peers, libdmlog: FLUSH carrying mark" group.iflush group
row "3 peers, libdmlog: IN_SYNC" group.insync group
row "3 peers on tmpfs (no disk): MARK then FLUSH" gmem.markflush gmem
row "3 peers on tmpfs (no disk): FLUSH carrying mark" gmem.iflush gmem
row "bridge -> standalone: MARK then FLUSH (kernel view)" bsolo.markflush bridge
row "bridge -> standalone: FLUSH carrying mark" bsolo.iflush bridge
row "bridge -> standalone: IN_SYNC" bsolo.insync bridge
row "bridge -> 3 peers: MARK then FLUSH (kernel view)" bgroup.markflush group
row "bridge -> 3 peers: FLUSH carrying mark" bgroup.iflush group
row "bridge -> 3 peers: IN_SYNC" bgroup.insync group
row "bare TLS echo, IN_SYNC frame sizes" tls.tls_echo
row "corosync CPG agreed: send -> own delivery" cpg.cpg_agreed cpg
row "etcd 3 members: put (HTTP/1.1 keep-alive)" etcd.etcd_put etcd
row "thread wake-up round trip (eventfd), across CPUs" wake.wake_cross
row "thread wake-up round trip (eventfd), on one CPU" wake.wake_same
echo
echo "throughput: 64 writers over 16 logs, 4 node connections (async API), ${TPUT_S} s per run"
printf "  %-50s %12s %9s %9s %9s %8s\n" "run" "marks/s" "p50 us" "p99 us" "max us" "retries"
for k in tput_solo:"standalone, MARK+FLUSH, 1 region per cycle" tput_solo_if:"standalone, FLUSH carrying mark, 1 region" \
	tput_group:"3 peers, MARK+FLUSH, 1 region per cycle" tput_group_if:"3 peers, FLUSH carrying mark, 1 region" \
	tput_group_b8:"3 peers, MARK+FLUSH, 8 regions per cycle"; do
	key=${k%%:*} label=${k#*:}
	if [ -n "${R[$key.marks_per_s]:-}" ]; then
		printf "  %-50s %12s %9s %9s %9s %8s\n" "$label" "${R[$key.marks_per_s]}" "${R[$key.p50]}" "${R[$key.p99]}" \
			"${R[$key.max]}" "${R[$key.retries]}"
	elif [[ $key == tput_group* ]] && [ -n "${NA[group]:-}" ]; then
		printf "  %-50s n/a (%s)\n" "$label" "${NA[group]}"
	else
		printf "  %-50s n/a (%s)\n" "$label" "${NA[$key]:-not measured}"
	fi
done
[ -n "${R[leader_changes]:-}" ] && echo "  (3 peers: leadership gained ${R[leader_changes]} times in the whole run, the first election included;" \
	"a retry is a cycle that failed with -EAGAIN or -ELOOP around a leader change and was sent again)"
echo
echo "memory and snapshots, 2^28 regions (a 128 TiB mirror of 512 KiB regions)"
if [ -n "${R[mem.bits]:-}" ]; then
	printf "  %-50s %s\n" "dmlogd RSS delta after CTR (nosync)" "$(awk -v a="${R[mem.rss0]}" -v b="${R[mem.rss1]}" 'BEGIN { printf "%.1f", (b - a) / 1048576 }') MiB = ${R[mem.bits]} bits/region (peak ${R[mem.hwmbits]} bits/region)"
else
	printf "  %-50s n/a (%s)\n" "dmlogd RSS delta after CTR" "${NA[mem]:-not measured}"
fi
for pat in 4096 1; do
	what="runs of $pat"; [ $pat = 1 ] && what="alternating regions (worst case)"
	if [ -n "${R[snap$pat.bits_per_region]:-}" ]; then
		printf "  %-50s %s\n" "engine, half out of sync in $what" \
			"${R[snap$pat.bits_per_region]} bits/region; snapshot ${R[snap$pat.snapshot_ms_p50]} ms (${R[snap$pat.snapshot_bytes]} bytes), restore ${R[snap$pat.restore_ms_p50]} ms, identical ${R[snap$pat.restored_identical]}"
	else
		printf "  %-50s n/a (%s)\n" "engine, half out of sync in $what" "${NA[snap$pat]:-not measured}"
	fi
done
echo
echo "VM: fio in QEMU (TCG), 2-leg mirror on tmpfs loops, 512 KiB regions, nosync; median of reps; ratio to kernel core"
if [ -n "${NA[vm]:-}" ]; then
	printf "  n/a (%s)\n" "${NA[vm]}"
else
	vm_medians | awk -v types="core disk responder dmlog dmlog-if dmlog3" -v nadm="${NA[vm.dmlog]:-}" -v nag="${NA[group]:-}" '
	$1 == "M" { m[$2 SUBSEP $3] = $4; seen[$2] = 1 }
	$1 == "F" { fail[$3] = $0 }
	END {
		nw = split("rw1 rw16 sw64 sr rr1", w, " ")
		split("4k randwrite QD1 (IOPS)|4k randwrite QD16 (IOPS)|64k seq write (MiB/s)|buffered seq read (MiB/s)|4k randread QD1 (IOPS)", lab, "|")
		nt = split(types, t, " ")
		printf "  %-28s", "workload"
		for (i = 1; i <= nt; i++) printf " %17s", t[i]
		printf "\n"
		for (j = 1; j <= nw; j++) {
			printf "  %-28s", lab[j]
			base = m["core" SUBSEP w[j]]
			for (i = 1; i <= nt; i++) {
				v = m[t[i] SUBSEP w[j]]
				if (v == "") cell = "n/a"
				else if (t[i] == "core" || base == "") cell = sprintf("%.0f", v)
				else cell = sprintf("%.0f (%.2fx)", v, v / base)
				printf " %17s", cell
			}
			printf "\n"
		}
		for (i = 1; i <= nt; i++) if (!seen[t[i]]) {
			why = fail[t[i]] != "" ? fail[t[i]] : (t[i] ~ /^dmlog/ && nadm != "" ? nadm : (t[i] == "dmlog3" && nag != "" ? nag : "not run"))
			printf "  %s: n/a (%s)\n", t[i], why
		}
	}'
	if [ -s "$OUT/vm/files/guest-lat.txt" ]; then
		awk '$1 == "series" { split($2, n, "."); printf "%s %s=%.0f/%.0f", (c++ ? "," : "  in-guest round trips, p50/p99 us:"), n[1] "." n[2], $4, $6 }
			END { if (c) printf "\n" }' "$OUT/vm/files/guest-lat.txt"
	fi
fi
echo
echo "targets"
G=group
[ -z "${R[group.markflush.p50]:-}" ] && G=none
for s in markflush iflush; do
	name="MARK then FLUSH"; [ $s = iflush ] && name="FLUSH carrying mark"
	p50=$(num $G.$s.p50) p99=$(num $G.$s.p99)
	verdict "$(le "$p50" "$(mul "$FS50" 1.5)")" "3 peers $name p50 ${p50:-n/a} us <= 1.5 x fsync p50 ${FS50:-n/a} us = $(mul "$FS50" 1.5) us (ratio $(ratio "$p50" "$FS50"))"
	verdict "$(le "$p99" "$(mul "$FS99" 3)")" "3 peers $name p99 ${p99:-n/a} us <= 3 x fsync p99 ${FS99:-n/a} us = $(mul "$FS99" 3) us (ratio $(ratio "$p99" "$FS99"))"
	E50=$(num etcd.etcd_put.p50) C50=$(num cpg.cpg_agreed.p50)
	verdict "$(le "$(mul "$p50" 4)" "$E50")" "3 peers $name p50 ${p50:-n/a} us at least 4x lower than etcd put p50 ${E50:-n/a} us (etcd/dmlog = $(ratio "$E50" "$p50"))"
	verdict "$(lt "$p50" "$(mul "$C50" 2)")" "3 peers $name p50 ${p50:-n/a} us < 2 x CPG agreed p50 ${C50:-n/a} us = $(mul "$C50" 2) us (ratio $(ratio "$p50" "$C50"))"
done
T50=$(num tls.tls_echo.p50)
for k in solo group; do
	p50=$(num $k.insync.p50)
	verdict "$(le "$p50" "$(mul "$T50" 1.2)")" "$k IN_SYNC (libdmlog) p50 ${p50:-n/a} us <= 1.2 x bare TLS echo p50 ${T50:-n/a} us = $(mul "$T50" 1.2) us (ratio $(ratio "$p50" "$T50"))"
done
p50=$(num raw.raw_insync.p50)
printf "  (info)   standalone IN_SYNC from a bare TLS client p50 %s us = %s x the echo: dmlogd's own share; the rest is libdmlog's\n" \
	"${p50:-n/a}" "$(ratio "$p50" "$T50")"
p50=$(num group.iflush.p50) m50=$(num gmem.iflush.p50) f50=$(num fsync3.fsync3_2nd.p50)
printf "  (info)   3 peers FLUSH carrying mark p50: %s us on disk, %s us with the state on tmpfs (the software path alone); the majority of 3 fsyncs on this disk: %s us\n" \
	"${p50:-n/a}" "${m50:-n/a}" "${f50:-n/a}"
printf "  (info)   a wake-up round trip between two threads: %s us across CPUs, %s us on one CPU; a 3-peer commit waits for 7 wake-ups in a row (client, dmlogd's raft thread, follower, disk completion, leader, libevent thread, client)\n" \
	"$(num wake.wake_cross.p50)" "$(num wake.wake_same.p50)"
for k in tput_group:"3 peers, MARK+FLUSH" tput_group_if:"3 peers, FLUSH carrying the mark" \
	tput_solo:"standalone, MARK+FLUSH" tput_solo_if:"standalone, FLUSH carrying the mark" \
	tput_group_b8:"3 peers, 8 regions per cycle"; do
	v=${R[${k%%:*}.marks_per_s]:-}
	verdict "$(le 100000 "$v")" ">= 100,000 region marks/s with 64 writers (${k#*:}): ${v:-n/a} marks/s"
done
verdict "$(le "${R[mem.bits]:-}" 2.2)" "<= 2.2 bits of memory per region (dmlogd RSS, 2^28 regions): ${R[mem.bits]:-n/a} bits/region (engine alone: ${R[snap4096.bits_per_region]:-n/a})"
# The VM targets, 3 peers against the in-memory responder (both through the real kernel):
# QD1, the time dmlog3 adds per random write <= 1.3 x one replicated MARK then FLUSH timed by
# libdmlog in the same guest (the dmlog3 mirror has no integrated_flush); QD16, >= 0.6 x.
if [ -z "${NA[vm]:-}" ] && [ -s "$OUT/vm/files/fio.txt" ]; then
	D1=$(vm_med dmlog3 rw1) P1=$(vm_med responder rw1) D16=$(vm_med dmlog3 rw16) P16=$(vm_med responder rw16)
	GMF=$(awk '$1 == "series" && $2 == "group.markflush" { print $4 }' "$OUT/vm/files/guest-lat.txt" 2>/dev/null)
	ADD=$(awk -v d="$D1" -v p="$P1" 'BEGIN { if (d + 0 > 0 && p + 0 > 0) printf "%.0f", 1e6 / d - 1e6 / p }')
	verdict "$(le "$ADD" "$(mul "$GMF" 1.3)")" "VM QD1 random write, 3 peers: dmlog adds ${ADD:-n/a} us per write over the responder (${D1:-n/a} vs ${P1:-n/a} IOPS) <= 1.3 x one replicated MARK then FLUSH in the guest ${GMF:-n/a} us = $(mul "$GMF" 1.3) us (ratio $(ratio "$ADD" "$GMF"))"
	verdict "$(le "$(mul "$P16" 0.6)" "$D16")" "VM QD16 random write, 3 peers: ${D16:-n/a} IOPS >= 0.6 x the responder's ${P16:-n/a} (ratio $(ratio "$D16" "$P16"))"
fi
echo
echo "raw samples, logs and outputs: $OUT   (run took $(($(date +%s) - T0)) s)"
} | tee "$OUT/table.txt"
