# guest-clustered.sh: dmlog's userspace log in a real kernel, the normal life of a mirror.
#
# dmlogd and dmlog-bridge run in the guest; the kernel's dm-log-userspace talks to the bridge
# over the netlink connector. Two passes, each with two mirrors at once (different UUIDs):
#   pass 1: clustered-core, and clustered-disk with integrated_flush
#   pass 2: clustered-core with integrated_flush, and clustered-disk
# For each mirror: the table the kernel built, the log device of a disk log (named in the CTR
# reply, so the kernel holds it: `dmsetup deps`), the initial resync to N/N with both legs then
# identical, concurrent O_DIRECT writes verified on both legs, suspend/resume, and a table
# reload with the same UUID (a second instance with another luid, then the first one gone).
. /host/guest-lib.sh

MB=16 RS=1024 RKB=512
SECT=$((MB * 2048)) NREG=$((MB * 2048 / RS))

# mirror_table UUID TYPE(core|disk) IFLUSH(0|1) LOGDEV LEG_A LEG_B
mirror_table() {
	_args="clustered-$2" _n=3
	[ "$2" = disk ] && { _args="$_args $4"; _n=$((_n + 1)); }
	_args="$_args $RS"
	[ "$3" = 1 ] && { _args="integrated_flush $_args"; _n=$((_n + 1)); }
	echo "0 $SECT mirror userspace $_n $1 $_args 2 $5 0 $6 0 1 handle_errors"
}

# create_mirror NAME TYPE IFLUSH: legs, log device (disk), table; sets <NAME>_UUID etc. via
# files in /tmp/m-NAME/ (busybox sh has no arrays).
create_mirror() {
	_m=$1 _t=$2 _f=$3
	mkdir -p /tmp/m-$_m
	make_legs $_m $MB || return 1
	_logdev=-
	if [ "$_t" = disk ]; then
		truncate -s 1M /tmp/$_m-log.img && new_loop /tmp/$_m-log.img || return 1
		_logdev=$(devno $NEW_LOOP)
	fi
	_uuid=LVM-dmlogtest-$_m-$_t-$_f
	echo "$_uuid" >/tmp/m-$_m/uuid
	echo "$_logdev" >/tmp/m-$_m/logdev
	mirror_table $_uuid $_t $_f $_logdev $LEG_A $LEG_B >/tmp/m-$_m/table
	note "$_m: $(cat /tmp/m-$_m/table)"
	dms 60 create $_m --table "$(cat /tmp/m-$_m/table)"
}

# check_table NAME TYPE IFLUSH: what the kernel reports for the mirror it built.
check_table() {
	_m=$1 _t=$2 _f=$3 _logdev=$(cat /tmp/m-$1/logdev) _uuid=$(cat /tmp/m-$1/uuid)
	_tab=$(dms 20 table $_m)
	note "$_m table: $_tab"
	case "$_tab" in
	*" userspace "*" $_uuid "*) ok "$_m: the table names the userspace log and its uuid" ;;
	*) bad "$_m: the table names the userspace log and its uuid" ;;
	esac
	case "$_tab" in
	*integrated_flush*) [ "$_f" = 1 ] && ok "$_m: integrated_flush in the table" ||
		bad "$_m: integrated_flush in the table although not asked for" ;;
	*) [ "$_f" = 0 ] && ok "$_m: no integrated_flush in the table" ||
		bad "$_m: integrated_flush missing from the table" ;;
	esac
	_st=$(dms 20 status $_m)
	note "$_m status: $_st"
	if [ "$_t" = disk ]; then
		case "$_tab" in
		*" clustered-disk $_logdev $RS"*) ok "$_m: clustered-disk $_logdev in the table" ;;
		*) bad "$_m: clustered-disk $_logdev in the table" ;;
		esac
		_deps=$(dms 20 deps $_m)
		note "$_m deps: $_deps"
		_want="(${_logdev%:*}, ${_logdev#*:})"
		case "$_deps" in
		"3 dependencies"*"$_want"*) ok "$_m: the kernel holds the log device $_want (deps)" ;;
		*) bad "$_m: the kernel holds the log device $_want (deps)" ;;
		esac
		case "$_st" in
		*" 3 clustered-disk $_logdev A") ok "$_m: status names the disk log, alive" ;;
		*) bad "$_m: status names the disk log, alive" ;;
		esac
	else
		case "$_tab" in
		*" clustered-core $RS"*) ok "$_m: clustered-core in the table" ;;
		*) bad "$_m: clustered-core in the table" ;;
		esac
		case "$(dms 20 deps $_m)" in
		"2 dependencies"*) ok "$_m: two dependencies (the legs)" ;;
		*) bad "$_m: two dependencies (the legs)" ;;
		esac
		case "$_st" in
		*" 1 clustered-core") ok "$_m: status names the core log" ;;
		*) bad "$_m: status names the core log" ;;
		esac
	fi
}

# verify_written NAME PATTERN OFFSET_KB: both legs and a read through the mirror hold PATTERN
# at OFFSET_KB (a multiple of 64).
verify_written() {
	check "$1: leg a holds the data written at ${3}K" leg_has $1 a $2 $3
	check "$1: leg b holds the data written at ${3}K" leg_has $1 b $2 $3
	check "$1: reading the mirror gives the data back" sh -c \
		"dd if=/dev/mapper/$1 bs=64k skip=$(($3 / 64)) count=$(($(stat -c %s $2) / 65536)) iflag=direct 2>/dev/null | cmp -s - $2"
}

# ctl_instances_check UUID WANT: dmlogd lists WANT instances of the log, with distinct luids;
# their luids are left in LUIDS.
ctl_instances_check() {
	LUIDS=
	have_dmlogctl || return 0
	LUIDS=$(ctl_luids $1) || { bad "dmlogctl log show $1: $(cat /tmp/ctl.err)"; return; }
	_n=$(echo "$LUIDS" | grep -c .)
	_d=$(echo "$LUIDS" | grep . | sort -u | grep -c .)
	note "instances of $1: $(echo $LUIDS)"
	[ "$_n" = "$2" ] && [ "$_d" = "$2" ] && ok "dmlogd lists $2 instance(s) with distinct luids" ||
		bad "dmlogd lists $2 instance(s) with distinct luids (got $_n, $_d distinct)"
}

# one_pass TAG NAME1 TYPE1 IFLUSH1 NAME2 TYPE2 IFLUSH2
one_pass() {
	_p=$1
	phase "$_p: create two mirrors"
	create_mirror $2 $3 $4 || fatal "$_p: create $2"
	create_mirror $5 $6 $7 || fatal "$_p: create $5"
	check_table $2 $3 $4
	check_table $5 $6 $7

	phase "$_p: initial resync"
	check "$2: initial resync reaches $NREG/$NREG" wait_sync $2 $NREG 90
	check "$5: initial resync reaches $NREG/$NREG" wait_sync $5 $NREG 90
	check "$2: legs identical after the resync" legs_compare $2 $NREG $RKB
	check "$5: legs identical after the resync" legs_compare $5 $NREG $RKB
	if have_dmlogctl; then
		ctl_show "$(cat /tmp/m-$2/uuid)" && grep -q '"fully_synced":true' /tmp/ctl.json &&
			ok "$2: dmlogd reports the log fully synced" ||
			bad "$2: dmlogd reports the log fully synced: $(cat /tmp/ctl.json /tmp/ctl.err)"
	fi

	phase "$_p: concurrent writes"
	dd if=/dev/urandom of=/tmp/pat1 bs=64k count=40 2>/dev/null   # 2.5 MiB: regions 2-6
	dd if=/dev/urandom of=/tmp/pat2 bs=64k count=17 2>/dev/null   # 1.06 MiB: regions 9-11
	dd if=/dev/urandom of=/tmp/pat4 bs=64k count=4 2>/dev/null    # 256 KiB in 4 KiB writes
	rm -f /tmp/w1 /tmp/w2 /tmp/w3
	_t0=$(ts)
	(dd if=/tmp/pat1 of=/dev/mapper/$2 bs=64k seek=16 oflag=direct 2>/dev/null; echo $? >/tmp/w1) &
	(dd if=/tmp/pat2 of=/dev/mapper/$5 bs=64k seek=73 oflag=direct 2>/dev/null; echo $? >/tmp/w2) &
	(dd if=/tmp/pat4 of=/dev/mapper/$2 bs=4k seek=2400 oflag=direct 2>/dev/null; echo $? >/tmp/w3) &
	_n=600
	while [ $_n -gt 0 ] && ! { [ -f /tmp/w1 ] && [ -f /tmp/w2 ] && [ -f /tmp/w3 ]; }; do
		sleep 0.1
		_n=$((_n - 1))
	done
	note "writes took $(since $_t0)s"
	check "three writers finished without error" test "$(cat /tmp/w1 /tmp/w2 /tmp/w3 2>/dev/null | tr -d '\n')" = 000
	verify_written $2 /tmp/pat1 1024
	verify_written $2 /tmp/pat4 9600
	verify_written $5 /tmp/pat2 4672
	check "$2: legs identical after the writes" legs_compare $2 $NREG $RKB
	check "$5: legs identical after the writes" legs_compare $5 $NREG $RKB
	check "$2: still $NREG/$NREG" test "$(sync_field $2)" = $NREG/$NREG
	check "$5: still $NREG/$NREG" test "$(sync_field $5)" = $NREG/$NREG
	if have_dmlogctl; then
		sleep 4 # integrated_flush sends the flush that commits the clears 3 s after the last one
		for _m in $2 $5; do
			ctl_show "$(cat /tmp/m-$_m/uuid)" && grep -q '"marks":\[\]' /tmp/ctl.json &&
				ok "$_m: no marks left once the writes are done" ||
				bad "$_m: no marks left once the writes are done: $(cat /tmp/ctl.json)"
		done
	fi

	phase "$_p: suspend and resume"
	for _m in $2 $5; do
		check "$_m: suspend" dms 30 suspend $_m
		check "$_m: resume" dms 30 resume $_m
		check "$_m: $NREG/$NREG after resume" wait_sync $_m $NREG 30
		check "$_m: both legs alive" test "$(health $_m)" = AA
	done

	phase "$_p: reload with the same uuid"
	for _m in $2 $5; do
		_uuid=$(cat /tmp/m-$_m/uuid)
		ctl_instances_check $_uuid 1
		_old=$LUIDS
		check "$_m: reload the same table" dms 60 reload $_m --table "$(cat /tmp/m-$_m/table)"
		ctl_instances_check $_uuid 2
		check "$_m: resume with the new table" dms 60 resume $_m
		ctl_instances_check $_uuid 1
		if have_dmlogctl; then
			[ -n "$LUIDS" ] && [ "$LUIDS" != "$_old" ] &&
				ok "$_m: the instance left is the new one (old $_old, now $LUIDS)" ||
				bad "$_m: the instance left is the new one (old $_old, now $LUIDS)"
		fi
		check "$_m: $NREG/$NREG after the reload" wait_sync $_m $NREG 60
		dd if=/dev/urandom of=/tmp/pat3 bs=64k count=8 2>/dev/null
		dd if=/tmp/pat3 of=/dev/mapper/$_m bs=64k seek=200 oflag=direct 2>/dev/null
		check "$_m: write after the reload" test $? = 0
		verify_written $_m /tmp/pat3 12800
		check "$_m: legs identical after the reload" legs_compare $_m $NREG $RKB
	done

	phase "$_p: remove"
	check "$2: remove" dms 60 remove $2
	check "$5: remove" dms 60 remove $5
	if have_dmlogctl; then
		if ctl_show "$(cat /tmp/m-$2/uuid)"; then
			grep -q '"instances":\[\]' /tmp/ctl.json && ok "$2: no instance left in dmlogd" ||
				bad "$2: no instance left in dmlogd: $(cat /tmp/ctl.json)"
		else
			ok "$2: the log is gone from dmlogd"
		fi
	fi
	# free the loop devices and the memory of this pass for the next one
	for _d in $(losetup -a | cut -d: -f1); do losetup -d $_d; done
	rm -f /tmp/$2-*.img /tmp/$5-*.img
	LOOP_NEXT=0
}

phase start
start_dmlogd main || fatal "dmlogd did not start"
start_bridge main || fatal "dmlog-bridge did not start"

one_pass pass1 core1 core 0 disk1 disk 1
one_pass pass2 core2 core 1 disk2 disk 0

phase stop
check "no mapped device left" test "$($DMS ls 2>&1)" = "No devices found"
check_clean_stop
finish
