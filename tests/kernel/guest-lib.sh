# guest-lib.sh: shared helpers for dmlog's guest scripts (sourced; busybox sh, root, in the VM).
#
# The runner (run-kernel-test.sh) copies this file to /host/guest-lib.sh, the binaries to /host
# (dmlogd, dmlog-bridge, dmlogctl when built, dmsetup) and the development certificates to
# /host/certs. Everything a guest script runs that can wait on the kernel's log (dmsetup,
# I/O through a mirror) is bounded, because while no log server answers those calls block in
# the kernel, uninterruptibly: a hung step must become a failed check, never a hung VM.
#
# Also: delayed legs (dm-delay) that hold a write, and so its mark, in flight for seconds.
#
# Results: every failed check is counted in FAILS and appended to /out/failures.log; a
# script ends with `finish`, which exits 0 only when nothing failed. /out stays small (it comes
# back over a slow serial line): long logs are gzipped.

set -u
export DM_DISABLE_UDEV=1
DMS="dmsetup --noudevsync --noudevrules"
CERTS=/host/certs
DMLOGD_LISTEN=127.0.0.1:7788
DMLOGD_RAFT=127.0.0.1:7789
DMLOGD_STATE=/tmp/dmlogd-state
DMLOGD_PID=
BRIDGE_PID=
FAILS=0 PASSES=0
LOOP_NEXT=0

ts() { cut -d' ' -f1 /proc/uptime; }
# Seconds (one decimal) since the uptime stamp $1.
since() { awk -v a="$1" -v b="$(ts)" 'BEGIN { printf "%.1f", b - a }'; }
phase() {
	echo "=== $* @ $(ts)s"
	echo "$(ts) $*" >>/out/phases.log
}
note() { echo "   $*"; }
ok() {
	echo "ok: $*"
	PASSES=$((PASSES + 1))
}
bad() {
	echo "FAIL: $*"
	echo "$(ts) $*" >>/out/failures.log
	FAILS=$((FAILS + 1))
}
# check DESCRIPTION COMMAND...: a passed or failed check.
check() {
	_d=$1
	shift
	if "$@"; then ok "$_d"; else bad "$_d"; fi
}
# wait_log FILE PATTERN SECONDS: wait until FILE has a line matching PATTERN (grep -E).
wait_log() {
	_n=$(($3 * 10))
	until grep -qE "$2" "$1" 2>/dev/null; do
		[ $_n -gt 0 ] || { note "no line matching '$2' in $1 after ${3}s"; return 1; }
		sleep 0.1
		_n=$((_n - 1))
	done
}
# no_dmesg PATTERN: the kernel has logged no line matching PATTERN (grep -E); prints them if so.
no_dmesg() {
	dmesg | grep -E "$1" >/tmp/no_dmesg.out || return 0
	note "kernel said: $(head -3 /tmp/no_dmesg.out)"
	return 1
}
# check_resync NAME N RKB SECONDS EVENT: wait (at most SECONDS) for mirror NAME's resync to
# report N/N, comparing its legs (regions of RKB KiB) the moment it first does; checks that it
# completed and that N/N came only with identical legs. EVENT names what the time counts from.
check_resync() {
	_t0=$(ts) _wrong=0 _f=
	while :; do
		_f=$(sync_field $1 10) || _f=
		if [ "$_f" = "$2/$2" ]; then
			legs_compare $1 $2 $3 >/tmp/$1-cmp || _wrong=1
			break
		fi
		[ "$(since $_t0 | cut -d. -f1)" -ge $4 ] && break
		sleep 0.2
	done
	note "resync at ${_f:-?} $(since $_t0)s after $5"
	check "the resync completes after $5 ($2/$2)" test "$_f" = "$2/$2"
	check "$2/$2 was reported only with identical legs" test $_wrong = 0
	[ $_wrong = 0 ] || cat /tmp/$1-cmp
}
# daemon_ready PID FILE: wait (15 s at most) until FILE exists while PID runs; status 0 when it
# does. daemon_stop: SIGTERM $DAEMON_PID, SIGKILL after 5 s, reap it (for the benchmarks).
daemon_ready() {
	_n=300
	while [ $_n -gt 0 ]; do
		[ -f "$2" ] && return 0
		kill -0 $1 2>/dev/null || break
		sleep 0.05
		_n=$((_n - 1))
	done
	return 1
}
daemon_stop() {
	[ -n "$DAEMON_PID" ] || return 0
	kill -TERM $DAEMON_PID 2>/dev/null
	_n=100
	while [ $_n -gt 0 ] && kill -0 $DAEMON_PID 2>/dev/null; do
		sleep 0.05
		_n=$((_n - 1))
	done
	kill -KILL $DAEMON_PID 2>/dev/null
	wait $DAEMON_PID 2>/dev/null
	DAEMON_PID=
}
# start_delayed_mirror DMLOGD_TAG BRIDGE_TAG UUID: dmlogd and a bridge, then mirror "wr" (MB,
# RS from the script) over legs whose leg b sits under dm-delay (DLY_DEV), fully resynced.
start_delayed_mirror() {
	start_dmlogd $1 || fatal "dmlogd did not start"
	start_bridge $2 || fatal "dmlog-bridge did not start"
	make_legs wr $MB || fatal "legs"
	delay_leg wr $LEG_B || fatal "dm-delay over leg b"
	dms 60 create wr --table "$(core_table $3 $MB $RS $LEG_A $DLY_DEV)" ||
		fatal "create the mirror"
	check "initial resync reaches $NREG/$NREG" wait_sync wr $NREG 90
	check "legs identical after the resync" legs_compare wr $NREG $RKB
}
# write_holding_mark DELAY_MS UUID: leg b writes take DELAY_MS; one 64 KiB O_DIRECT write of
# /tmp/pa to region 5 of "wr" starts in the background (its status in /tmp/pa.rc, start time in
# _t0) and, with dmlogctl, dmlogd is checked to hold its mark while it is in flight.
write_holding_mark() {
	check "leg b writes now take $(($1 / 1000)) s" set_write_delay wr $1
	dd if=/dev/urandom of=/tmp/pa bs=64k count=1 2>/dev/null
	rm -f /tmp/pa.rc
	_t0=$(ts)
	(dd if=/tmp/pa of=/dev/mapper/wr bs=64k seek=40 oflag=direct 2>/tmp/pa.err; echo $? >/tmp/pa.rc) &
	if have_dmlogctl; then
		_n=30
		until ctl_marked $2 5 || [ $_n = 0 ]; do sleep 0.1; _n=$((_n - 1)); done
		check "dmlogd holds the mark on region 5 while the write is in flight" ctl_marked $2 5
	else
		sleep 1
		note "dmlogctl not in this build: the mark itself is not inspected"
	fi
}
# start_resync UUID: mirror "rs" of MB2 MiB, RS2-sector regions over fresh legs, its initial
# resync waited for until an eighth of its NREG2 regions are in sync (30 s at most); the count
# then is in _c.
start_resync() {
	make_legs rs $MB2 || fatal "legs"
	dms 60 create rs --table "$(core_table $1 $MB2 $RS2 $LEG_A $LEG_B)" ||
		fatal "create the second mirror"
	_c=0 _n=600
	while [ $_n -gt 0 ]; do
		_c=$(in_sync_count rs) || _c=0
		[ "$_c" -ge $((NREG2 / 8)) ] && break
		sleep 0.05
		_n=$((_n - 1))
	done
}
# rotated K WORDS...: the words rotated left by K-1 (round K of a rotating order).
rotated() {
	_k=$1
	shift
	while [ $_k -gt 1 ]; do
		_first=$1
		shift
		set -- "$@" $_first
		_k=$((_k - 1))
	done
	echo "$@"
}
# check_clean_stop: SIGTERM the bridge, then dmlogd; each must exit 0.
check_clean_stop() {
	kill_bridge TERM
	check "dmlog-bridge stops cleanly on SIGTERM" test $? = 0
	kill_dmlogd TERM
	check "dmlogd stops cleanly on SIGTERM" test $? = 0
}
# fatal DESCRIPTION: a failure after which the script cannot go on.
fatal() {
	bad "$*"
	finish
}

# ---------------------------------------------------------------- bounded commands
# bounded SECONDS OUTFILE COMMAND...: run COMMAND in the background with output to OUTFILE
# and wait at most SECONDS for it. Returns its status, or 124 if it is still running (it is
# then left alone: a process blocked in the kernel cannot be killed until the kernel lets go).
bounded() {
	_b_lim=$1 _b_of=$2
	shift 2
	"$@" >"$_b_of" 2>&1 &
	_b_pid=$!
	_b_n=$((_b_lim * 10))
	while [ $_b_n -gt 0 ] && kill -0 $_b_pid 2>/dev/null; do
		sleep 0.1
		_b_n=$((_b_n - 1))
	done
	if kill -0 $_b_pid 2>/dev/null; then
		kill $_b_pid 2>/dev/null
		return 124
	fi
	wait $_b_pid
}
# dms SECONDS ARGS...: dmsetup with a bound; prints its output; status as bounded().
dms() {
	_d_lim=$1
	shift
	bounded "$_d_lim" /tmp/dms.out $DMS "$@"
	_d_rc=$?
	cat /tmp/dms.out
	[ $_d_rc = 124 ] && echo "(dmsetup $* still blocked after ${_d_lim}s)"
	return $_d_rc
}

# ---------------------------------------------------------------- loop devices and legs
# new_loop FILE: attach FILE to the next loop device; sets NEW_LOOP to its path. (A function,
# not a command substitution, because it counts the devices in LOOP_NEXT.)
new_loop() {
	NEW_LOOP=/dev/loop$LOOP_NEXT
	[ -b $NEW_LOOP ] || mknod $NEW_LOOP b 7 $LOOP_NEXT
	LOOP_NEXT=$((LOOP_NEXT + 1))
	losetup $NEW_LOOP "$1"
}
# devno DEV: "major:minor" of a block device.
devno() {
	_s=$(stat -c '%t %T' "$1") || return 1
	set -- $_s
	echo "$((0x$1)):$((0x$2))"
}
# make_legs TAG MB: /tmp/TAG-a.img filled with random data (so that resync has something to
# copy) and /tmp/TAG-b.img zeroed; attaches both and sets LEG_A, LEG_B (loop devices).
make_legs() {
	dd if=/dev/urandom of=/tmp/$1-a.img bs=1M count=$2 2>/dev/null || return 1
	truncate -s ${2}M /tmp/$1-b.img || return 1
	new_loop /tmp/$1-a.img || return 1
	LEG_A=$NEW_LOOP
	new_loop /tmp/$1-b.img || return 1
	LEG_B=$NEW_LOOP
}

# legs_compare TAG NREG REGION_KB: compare the two leg files region by region; prints
# "identical" or the regions that differ. Status 0 when identical.
legs_compare() {
	if cmp -s /tmp/$1-a.img /tmp/$1-b.img; then
		note "legs identical"
		return 0
	fi
	_r=0 _diff=
	while [ $_r -lt $2 ]; do
		_x=$(dd if=/tmp/$1-a.img bs=${3}k skip=$_r count=1 2>/dev/null | md5sum)
		_y=$(dd if=/tmp/$1-b.img bs=${3}k skip=$_r count=1 2>/dev/null | md5sum)
		[ "$_x" = "$_y" ] || _diff="$_diff $_r"
		_r=$((_r + 1))
	done
	note "legs differ in regions:$_diff"
	return 1
}
# leg_has TAG LEG(a|b) PATTERN_FILE OFFSET_KB: the leg file holds PATTERN_FILE at OFFSET_KB.
leg_has() {
	_sz=$(stat -c %s "$3")
	dd if=/tmp/$1-$2.img bs=1k skip=$4 count=$((_sz / 1024)) 2>/dev/null | cmp -s - "$3"
}

# core_table UUID MB RS LEG_A LEG_B: a clustered-core userspace mirror table.
core_table() {
	echo "0 $(($2 * 2048)) mirror userspace 3 $1 clustered-core $3 2 $4 0 $5 0 1 handle_errors"
}
# delay_leg TAG DEV: put a dm-delay device TAG-dly over DEV (no delay yet); sets DLY_DEV.
delay_leg() {
	_sz=$(blockdev --getsz "$2") || return 1
	echo "$2 $_sz" >/tmp/$1-dly.base
	DLY_DEV=/dev/mapper/$1-dly
	bounded 20 /tmp/dly.out $DMS create $1-dly --table "0 $_sz delay $2 0 0" || {
		cat /tmp/dly.out
		return 1
	}
}
# set_write_delay TAG MS: writes to TAG-dly now wait MS milliseconds (reads never wait).
set_write_delay() {
	set -- $1 $2 $(cat /tmp/$1-dly.base)
	bounded 20 /tmp/dly.out $DMS reload $1-dly --table "0 $4 delay $3 0 0 $3 0 $2" &&
		bounded 60 /tmp/dly.out $DMS resume $1-dly || {
		cat /tmp/dly.out
		return 1
	}
}

# ---------------------------------------------------------------- mirror status
# sync_field NAME [SECONDS]: the mirror's "in-sync/total" status field; fails if `dmsetup
# status` did not answer within SECONDS (default 20).
sync_field() {
	bounded "${2:-20}" /tmp/status.out $DMS status "$1" || return 1
	awk '{ n = $4; print $(5 + n) }' /tmp/status.out
}
# in_sync_count NAME: the number of regions in sync.
in_sync_count() {
	_f=$(sync_field "$1") || return 1
	echo "${_f%/*}"
}
# wait_sync NAME NREG SECONDS: wait until the mirror reports NREG/NREG.
wait_sync() {
	_w_t0=$(ts) _w_f=
	while :; do
		_w_f=$(sync_field "$1" 10)
		[ "$_w_f" = "$2/$2" ] && { note "$1 in sync ($_w_f) after $(since $_w_t0)s"; return 0; }
		[ "$(since $_w_t0 | cut -d. -f1)" -ge "$3" ] && break
		sleep 0.2
	done
	note "$1 not in sync after ${3}s: ${_w_f:-status did not answer}"
	return 1
}
# health NAME: the leg health letters (AA when both legs are alive).
health() {
	bounded 20 /tmp/status.out $DMS status "$1" || return 1
	awk '{ n = $4; print $(7 + n) }' /tmp/status.out
}

# ---------------------------------------------------------------- dmlogd
# start_dmlogd TAG: start dmlogd (standalone, state in $DMLOGD_STATE, kept across restarts)
# and wait until it is serving. Its log goes to /tmp/dmlogd-TAG.log.
start_dmlogd() {
	_log=/tmp/dmlogd-$1.log
	mkdir -p $DMLOGD_STATE
	/host/dmlogd --listen=$DMLOGD_LISTEN --raft-address=$DMLOGD_RAFT --state-dir=$DMLOGD_STATE \
		--ca-file=$CERTS/ca.crt --cert-file=$CERTS/peer-dmlogd1.crt \
		--key-file=$CERTS/peer-dmlogd1.key --log-level=${DMLOGD_LOG_LEVEL:-info} \
		--log-timestamps=yes >"$_log" 2>&1 &
	DMLOGD_PID=$!
	_t0=$(ts) _n=600
	while [ $_n -gt 0 ]; do
		grep -q ' ready ' "$_log" 2>/dev/null && grep -q ':1E6C 00000000:0000 0A' /proc/net/tcp &&
			{ note "dmlogd pid $DMLOGD_PID ready after $(since $_t0)s"; return 0; }
		kill -0 $DMLOGD_PID 2>/dev/null || break
		sleep 0.1
		_n=$((_n - 1))
	done
	echo "dmlogd did not start:"
	tail -n 20 "$_log"
	return 1
}
# kill_dmlogd [SIGNAL]: signal dmlogd (default KILL) and reap it; returns its exit status,
# or 1 if it had already exited before the signal.
kill_dmlogd() {
	[ -n "$DMLOGD_PID" ] || return 0
	_k_pid=$DMLOGD_PID
	DMLOGD_PID=
	kill -${1:-KILL} $_k_pid 2>/dev/null || { wait $_k_pid 2>/dev/null; return 1; }
	{ wait $_k_pid; } 2>/dev/null
}

# ---------------------------------------------------------------- dmlog-bridge
# start_bridge TAG: start dmlog-bridge on the real connector and wait for its ready file
# (written once it has joined the connector group). Log: /tmp/bridge-TAG.log.
start_bridge() {
	_log=/tmp/bridge-$1.log
	rm -f /tmp/bridge.ready
	/host/dmlog-bridge --servers=$DMLOGD_LISTEN --ca-file=$CERTS/ca.crt \
		--cert-file=$CERTS/node-node1.crt --key-file=$CERTS/node-node1.key \
		--transport=netlink --ready-file=/tmp/bridge.ready \
		--log-level=${BRIDGE_LOG_LEVEL:-info} --log-timestamps=yes >"$_log" 2>&1 &
	BRIDGE_PID=$!
	_t0=$(ts) _n=600
	while [ $_n -gt 0 ]; do
		[ -f /tmp/bridge.ready ] && { note "bridge pid $BRIDGE_PID ready after $(since $_t0)s"; return 0; }
		kill -0 $BRIDGE_PID 2>/dev/null || break
		sleep 0.1
		_n=$((_n - 1))
	done
	echo "dmlog-bridge did not start:"
	tail -n 20 "$_log"
	return 1
}
# kill_bridge [SIGNAL]: as kill_dmlogd, for the bridge.
kill_bridge() {
	[ -n "$BRIDGE_PID" ] || return 0
	_k_pid=$BRIDGE_PID
	BRIDGE_PID=
	kill -${1:-KILL} $_k_pid 2>/dev/null || { wait $_k_pid 2>/dev/null; return 1; }
	{ wait $_k_pid; } 2>/dev/null
}

# ---------------------------------------------------------------- dmlogctl (optional)
have_dmlogctl() { [ -x /host/dmlogctl ]; }
ctl() {
	/host/dmlogctl --server $DMLOGD_LISTEN --ca $CERTS/ca.crt --cert $CERTS/admin-admin.crt \
		--key $CERTS/admin-admin.key --timeout 5000 "$@"
}
# ctl_show UUID: `dmlogctl log show UUID --json` into /tmp/ctl.json.
ctl_show() { ctl --json log show "$1" >/tmp/ctl.json 2>/tmp/ctl.err; }
# json_ranges KEY: the region ranges of "KEY":[[a,b],...] in /tmp/ctl.json as words "a,b".
json_ranges() {
	awk -v k="\"$1\":[" '{
		i = index($0, k); if (!i) exit 1
		s = substr($0, i + length(k)); d = 1; out = ""
		for (j = 1; j <= length(s) && d > 0; j++) {
			c = substr(s, j, 1)
			if (c == "[") d++; else if (c == "]") d--
			if (d > 0) out = out c
		}
		gsub(/\],\[/, " ", out); gsub(/[][]/, "", out); print out
	}' /tmp/ctl.json
}
# ranges_have "RANGES" REGION: REGION lies in one of the "a,b" words.
ranges_have() {
	for _w in $1; do
		[ "$2" -ge "${_w%,*}" ] && [ "$2" -le "${_w#*,}" ] && return 0
	done
	return 1
}
# ctl_marked UUID REGION: dmlogd holds a mark on REGION (by the only node here, node1).
ctl_marked() { ctl_show "$1" && ranges_have "$(json_ranges ranges)" "$2"; }
# ctl_dirty UUID REGION: dmlogd reports REGION dirty.
ctl_dirty() { ctl_show "$1" && ranges_have "$(json_ranges dirty_ranges)" "$2"; }
# ctl_luids UUID: the luids of the log's instances (hex), one a line.
ctl_luids() { ctl_show "$1" && grep -o '"luid_hex":"[0-9a-fx]*"' /tmp/ctl.json | cut -d'"' -f4; }

# ---------------------------------------------------------------- background writer
# start_writer DEV PATTERN_FILE SEEK_KB CHUNK_KB: write PATTERN_FILE into DEV at SEEK_KB, one
# O_DIRECT dd per CHUNK_KB, in the background; progress (chunks written) in /tmp/writer.progress,
# the final status in /tmp/writer.rc.
start_writer() {
	rm -f /tmp/writer.rc
	echo 0 >/tmp/writer.progress
	(
		_sz=$(stat -c %s "$2")
		_chunks=$((_sz / 1024 / $4)) _i=0
		while [ $_i -lt $_chunks ]; do
			dd if="$2" of="$1" bs=${4}k skip=$_i seek=$(($3 / $4 + _i)) count=1 \
				oflag=direct conv=notrunc 2>/tmp/writer.err || { echo 1 >/tmp/writer.rc; exit 1; }
			_i=$((_i + 1))
			echo $_i >/tmp/writer.progress.new && mv /tmp/writer.progress.new /tmp/writer.progress
		done
		echo 0 >/tmp/writer.rc
	) &
	WRITER_PID=$!
}
writer_progress() { cat /tmp/writer.progress; }
# wait_writer SECONDS: wait for the writer; status 0 when it finished and succeeded.
wait_writer() {
	_n=$(($1 * 10))
	while [ $_n -gt 0 ] && [ ! -f /tmp/writer.rc ]; do
		sleep 0.1
		_n=$((_n - 1))
	done
	[ -f /tmp/writer.rc ] || { note "writer still at chunk $(writer_progress) after ${1}s"; return 1; }
	wait $WRITER_PID 2>/dev/null
	[ "$(cat /tmp/writer.rc)" = 0 ] || { note "writer failed: $(cat /tmp/writer.err)"; return 1; }
}

# ---------------------------------------------------------------- end of a script
# save_log FILE: copy a log into /out, gzipped when it is longer than 300 lines.
save_log() {
	[ -f "$1" ] || return 0
	if [ "$(wc -l <"$1")" -le 300 ]; then cp "$1" /out/; else
		gzip -c "$1" >/out/"$(basename "$1").gz"
	fi
}
finish() {
	for _f in /tmp/dmlogd-*.log /tmp/bridge-*.log; do save_log "$_f"; done
	dmesg | grep -iE 'device-mapper|dm-log|userspace|log server|mirror|raid1' | tail -n 60 >/out/dm-dmesg.txt
	echo "RESULT: $PASSES passed, $FAILS failed"
	[ "$FAILS" = 0 ] && exit 0
	sed 's/^/   /' /out/failures.log
	exit 1
}
