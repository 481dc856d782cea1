#!/usr/bin/env bash
# run-kernel-test.sh - run one of dmlog's real-kernel tests: a guest script in a QEMU guest
# booted with Debian's kernel, with dmlogd, dmlog-bridge and dmlogctl from the build.
#
# Usage:
#   run-kernel-test.sh [options] GUEST_SCRIPT
# Options:
#   --out DIR          keep the run's output here (default: a new temporary directory)
#   --dmlogd PATH      dmlogd from the build
#   --bridge PATH      dmlog-bridge from the build
#   --dmlogctl PATH    dmlogctl from the build (optional: copied in when it exists)
#   --need LIST        comma-separated, among dmlogd,bridge: programs the script needs. One that
#                      was not given (not part of this build) skips the test; one that was given
#                      but does not exist fails it (the build was not run).
#   --certs-tool PATH  deploy/dmlog-certs.sh (default: found from this script's place)
#   --timeout SECONDS  bound on the whole VM run (default 300)
#   --smp N            guest vCPUs (default $DMLOG_VM_SMP or 1: two were no faster under TCG)
#   -e NAME=VALUE      environment for the guest script (repeatable)
#
# Exit status: 0 passed, 1 failed, 77 skipped (no QEMU, no static busybox, no kernel package,
# no dmsetup on the host, or a needed program not in this build): ctest's SKIP_RETURN_CODE.
# Environment: RUN_IN_GUEST_CACHE (kernel cache), DMLOG_VM_KERNEL (a linux-image .deb or
# package name instead of the one linux-image-amd64 names), DMLOG_VM_SMP (guest vCPUs).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT='' DMLOGD='' BRIDGE='' DMLOGCTL='' NEED='' TIMEOUT=300 SMP=${DMLOG_VM_SMP:-1} ENVS=()
CERTS_TOOL=$HERE/../../deploy/dmlog-certs.sh
while [ $# -gt 0 ]; do
	case $1 in
	--out) OUT=$2; shift 2 ;;
	--dmlogd) DMLOGD=$2; shift 2 ;;
	--bridge) BRIDGE=$2; shift 2 ;;
	--dmlogctl) DMLOGCTL=$2; shift 2 ;;
	--need) NEED=$2; shift 2 ;;
	--certs-tool) CERTS_TOOL=$2; shift 2 ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	--smp) SMP=$2; shift 2 ;;
	-e) ENVS+=(-e "$2"); shift 2 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d;s/^# \{0,1\}//'; exit 0 ;;
	-*) echo "run-kernel-test: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# = 1 ] || { echo "usage: run-kernel-test.sh [options] GUEST_SCRIPT (see --help)" >&2; exit 2; }
SCRIPT=$1
NAME=$(basename "$SCRIPT" .sh)
[ -f "$SCRIPT" ] || { echo "run-kernel-test: no such guest script: $SCRIPT" >&2; exit 2; }

skip() { echo "SKIP $NAME: $*"; exit 77; }
fail() { echo "FAIL $NAME: $*"; exit 1; }

# The host must be able to boot a guest at all; otherwise the test is skipped, not failed.
KOPT=()
[ -n "${DMLOG_VM_KERNEL:-}" ] && KOPT=(-k "$DMLOG_VM_KERNEL")
set +e
prep=$("$HERE/run-in-guest.sh" -P ${KOPT[@]+"${KOPT[@]}"} 2>&1)
prc=$?
set -e
case $prc in
0) ;;
77) skip "$(echo "$prep" | grep 'cannot run a guest' | head -n1 | sed 's/^run-in-guest: //')" ;;
*) echo "$prep"; fail "preparing the kernel failed (status $prc)" ;;
esac
DMSETUP=$(command -v dmsetup || true)
[ -n "$DMSETUP" ] || DMSETUP=/sbin/dmsetup
[ -x "$DMSETUP" ] || skip "no dmsetup on this host (apt-get install dmsetup)"

FILES=(-f "$HERE/guest-lib.sh:/host/guest-lib.sh" -f "$DMSETUP:/host/dmsetup")
need() { [[ ",$NEED," == *",$1,"* ]]; }
add_prog() { # $1 = name for --need, $2 = name in the guest, $3 = path from the build
	if [ -z "$3" ]; then
		need "$1" && skip "$2 is not part of this build"
		return 0
	fi
	if [ ! -x "$3" ]; then
		need "$1" && fail "$2 has not been built: $3 (run cmake --build first)"
		return 0
	fi
	FILES+=(-f "$3:/host/$2")
}
add_prog dmlogd dmlogd "$DMLOGD"
add_prog bridge dmlog-bridge "$BRIDGE"
add_prog dmlogctl dmlogctl "$DMLOGCTL"

OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/dmlog-kernel.XXXXXX")}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
if [ -n "$DMLOGD" ]; then
	rm -rf "$OUT/certs"
	"$CERTS_TOOL" "$OUT/certs" dev >"$OUT/certs.log" 2>&1 || { cat "$OUT/certs.log"; fail "certificates"; }
	FILES+=(-f "$OUT/certs:/host/certs")
fi

T0=$(date +%s)
set +e
"$HERE/run-in-guest.sh" -q -t "$TIMEOUT" -s "$SMP" -o "$OUT/vm" ${KOPT[@]+"${KOPT[@]}"} \
	-m dm-mirror,dm-log-userspace,loop -M dm-delay "${FILES[@]}" ${ENVS[@]+"${ENVS[@]}"} \
	"$SCRIPT" 2>"$OUT/harness.log"
rc=$?
set -e
T1=$(date +%s)
tr -d '\r' <"$OUT/vm/output.log" 2>/dev/null || true
grep -v '^run-in-guest: kernel ' "$OUT/harness.log" || true
if [ "$rc" != 0 ]; then
	echo "--- evidence in $OUT/vm/files:"
	ls "$OUT/vm/files" 2>/dev/null | tr '\n' ' '
	echo
	if [ -f "$OUT/vm/files/dm-dmesg.txt" ]; then
		echo "--- kernel messages (device-mapper, last 20):"
		tail -n 20 "$OUT/vm/files/dm-dmesg.txt"
	fi
	for f in "$OUT"/vm/files/dmlogd-*.log* "$OUT"/vm/files/bridge-*.log*; do
		[ -f "$f" ] || continue
		lines=$(case $f in *.gz) zcat "$f" ;; *) cat "$f" ;; esac |
			grep -E ': (emerg|alert|crit|err|error|warning): |answered -' | tail -n 12 || true)
		[ -n "$lines" ] || continue
		echo "--- $(basename "$f"): warnings, errors and error answers (last 12):"
		echo "$lines" | cut -c1-400
	done
fi
case $rc in
0) echo "PASS $NAME in $((T1 - T0))s (output in $OUT)"; exit 0 ;;
124) fail "the VM run timed out after ${TIMEOUT}s (console: $OUT/vm/console.log)" ;;
125) tail -n 20 "$OUT/vm/console.log" 2>/dev/null; fail "the VM failed (no status from the guest)" ;;
*) fail "guest script exited $rc after $((T1 - T0))s (output in $OUT)" ;;
esac
