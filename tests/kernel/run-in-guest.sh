#!/usr/bin/env bash
# run-in-guest.sh - run a shell script as root inside a throwaway QEMU (TCG) guest
# that boots a real Debian kernel from an initramfs, and hand its output,
# result files and exit status back to the host.
#
# dmlog's copy of the project's VM harness (tests/kernel/ needs nothing outside
# the repository). Changes: exit 77 when the host cannot run a guest at all
# (missing tool or kernel package) so that ctest can skip; -P to only fetch and
# unpack the kernel; the kernel cache is locked (parallel ctest); the guest's
# loopback interface is up before the script starts.
#
# Usage:
#   run-in-guest.sh [options] GUEST_SCRIPT [ARGS...]
#
# GUEST_SCRIPT runs with busybox sh as root (uid 0, all capabilities, initial
# network namespace, devtmpfs on /dev, tmpfs on /tmp, cwd /host) and ARGS as
# its positional parameters. It should write result files under /out.
#
# Options:
#   -f HOST[:GUEST]  copy a file or directory into the guest (repeatable).
#                    Default GUEST path: /host/<basename>. Dynamically linked
#                    ELF files get their shared libraries (from ldd) copied too.
#   -m MODULE        kernel module to load (with its dependencies) before the
#                    script runs (repeatable, or comma separated).
#   -M MODULE        kernel module to include (with deps) but not load; the
#                    script can `modprobe MODULE [param=value]` itself.
#   -e NAME=VALUE    environment variable for the guest script (repeatable).
#   -t SECONDS       wall-clock timeout for the whole VM run (default 600).
#   -o DIR           output directory (default: a new mktemp dir). It receives
#                    console.log (kernel serial console), output.log (the
#                    script's stdout+stderr), results.txt (raw control channel),
#                    files/ (whatever the script wrote under /out in the guest,
#                    plus files/dmesg.txt), exit-status.
#   -c DIR           cache dir for the kernel package and its extraction
#                    (default $RUN_IN_GUEST_CACHE or ~/.cache/run-in-guest).
#   -k PKG_OR_DEB    kernel: a linux-image-*.deb path or a package name
#                    (default: what linux-image-amd64 depends on in apt).
#   -r MB            guest memory in MiB (default 1024).
#   -s N             guest vCPUs (default 1).
#   -a ARGS          extra kernel command line arguments.
#   -q               do not stream the script's output to this terminal.
#   -P               prepare only: check the host tools, fetch and unpack the
#                    kernel, exit 0 (or 77); no guest is started.
#
# Exit status: the guest script's exit status; 124 on timeout; 125 when the
# VM did not report a status (boot failure, kernel panic, QEMU error); 77 when
# this host cannot run a guest (a tool or the kernel package is missing).
# Guest scripts should therefore not exit with 77 themselves.
#
# Environment knobs: RUN_IN_GUEST_CACHE (cache dir), RIG_PVH=0 (boot the
# compressed bzImage instead of the pre-decompressed vmlinux via PVH; slower),
# RIG_QEMU_MACHINE (default pc), RIG_QEMU_CPU (default max), RIG_QEMU_EXTRA
# (extra QEMU arguments, word-split).
#
# Host needs: qemu-system-x86 (qemu-system-x86_64), busybox-static, cpio,
# gzip, coreutils, dpkg-deb, apt-get (only to download the kernel package,
# which works as a normal user). No root, no KVM, no network inside the guest.
set -euo pipefail

die() { echo "run-in-guest: $*" >&2; exit 125; }
unavailable() { echo "run-in-guest: cannot run a guest on this host: $*" >&2; exit 77; }
log() { echo "run-in-guest: $*" >&2; }

FILES=() LOAD_MODS=() INC_MODS=() ENVS=()
TIMEOUT=600 OUTDIR='' CACHE=${RUN_IN_GUEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/run-in-guest}
KERNEL='' MEM=1024 SMP=1 EXTRA_APPEND='' QUIET=0 PREPARE=0
while getopts "f:m:M:e:t:o:c:k:r:s:a:qPh" opt; do
	case $opt in
	f) FILES+=("$OPTARG") ;;
	m) IFS=, read -ra _m <<<"$OPTARG"; LOAD_MODS+=("${_m[@]}"); INC_MODS+=("${_m[@]}") ;;
	M) IFS=, read -ra _m <<<"$OPTARG"; INC_MODS+=("${_m[@]}") ;;
	e) ENVS+=("$OPTARG") ;;
	t) TIMEOUT=$OPTARG ;;
	o) OUTDIR=$OPTARG ;;
	c) CACHE=$OPTARG ;;
	k) KERNEL=$OPTARG ;;
	r) MEM=$OPTARG ;;
	s) SMP=$OPTARG ;;
	a) EXTRA_APPEND=$OPTARG ;;
	q) QUIET=1 ;;
	P) PREPARE=1 ;;
	h) sed -n '2,/^set -euo/p' "$0" | sed '$d;s/^# \{0,1\}//'; exit 0 ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
if [ "$PREPARE" = 0 ]; then
	[ $# -ge 1 ] || die "usage: $0 [options] GUEST_SCRIPT [ARGS...] (see -h)"
	SCRIPT=$1; shift
	[ -f "$SCRIPT" ] || die "no such guest script: $SCRIPT"
fi

for t in qemu-system-x86_64 cpio gzip dpkg-deb base64 timeout flock; do
	command -v "$t" >/dev/null || unavailable "missing host tool: $t (apt-get install qemu-system-x86 cpio gzip dpkg)"
done
BUSYBOX=$(command -v busybox || true)
[ -n "$BUSYBOX" ] && ! ldd "$BUSYBOX" >/dev/null 2>&1 || unavailable "need a static busybox (apt-get install busybox-static)"

# ---------------------------------------------------------------- kernel cache
mkdir -p "$CACHE" || unavailable "cannot create the cache dir $CACHE"
# One lock for the whole cache: parallel runs must not download or unpack the same package twice.
exec 9>"$CACHE/.lock"
flock 9
if [ -z "$KERNEL" ]; then
	KERNEL=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}' || true)
	[ -n "$KERNEL" ] || KERNEL=$(cd "$CACHE" && ls -1 linux-image-*.deb 2>/dev/null | tail -1)
	[ -n "$KERNEL" ] || unavailable "cannot find the kernel package (run apt-get update, or pass -k)"
fi
if [ -f "$KERNEL" ]; then
	DEB=$(readlink -f "$KERNEL")
else
	DEB=$(ls -1 "$CACHE/${KERNEL}"_*.deb 2>/dev/null | tail -1 || true)
	if [ -z "$DEB" ]; then
		log "downloading $KERNEL into $CACHE"
		(cd "$CACHE" && apt-get download "$KERNEL" >&2) || unavailable "apt-get download $KERNEL failed"
		DEB=$(ls -1 "$CACHE/${KERNEL}"_*.deb | tail -1)
	fi
fi
KX="$CACHE/x-$(basename "$DEB" .deb)"
if [ ! -f "$KX/.done" ]; then
	log "extracting $(basename "$DEB")"
	rm -rf "$KX" && mkdir -p "$KX"
	dpkg-deb -x "$DEB" "$KX" || unavailable "cannot unpack $DEB"
	touch "$KX/.done"
fi
VMLINUZ=$(ls -1 "$KX"/boot/vmlinuz-* | head -1)
KVER=${VMLINUZ##*/vmlinuz-}
MODDIR="$KX/lib/modules/$KVER"
# Booting the compressed bzImage makes the guest decompress ~60 MB of xz under
# TCG (about 4-5 s per boot). If the kernel supports PVH entry, decompress it
# once here and let QEMU boot the ELF vmlinux directly (RIG_PVH=0 disables).
KERNEL_IMG=$VMLINUZ
if [ "${RIG_PVH:-1}" = 1 ] && grep -q '^CONFIG_PVH=y' "$KX/boot/config-$KVER" 2>/dev/null; then
	if [ ! -s "$KX/vmlinux.pvh" ]; then
		for magic in 'fd377a585a00:xz -dc' '28b52ffd:zstd -dc' '1f8b0800:gzip -dc'; do
			off=$(od -An -v -tx1 "$VMLINUZ" | tr -d ' \n' | grep -ob "${magic%%:*}" | awk -F: '$1 % 2 == 0 {print $1 / 2; exit}')
			[ -n "$off" ] || continue
			# the decompressor complains about the trailing bzImage bytes: ignore, check for ELF
			tail -c +$((off + 1)) "$VMLINUZ" | ${magic#*:} >"$KX/vmlinux.tmp" 2>/dev/null || true
			if [ "$(head -c4 "$KX/vmlinux.tmp" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
				mv "$KX/vmlinux.tmp" "$KX/vmlinux.pvh"
				break
			fi
		done
		rm -f "$KX/vmlinux.tmp"
	fi
	[ -s "$KX/vmlinux.pvh" ] && KERNEL_IMG="$KX/vmlinux.pvh"
fi
[ -d "$MODDIR" ] || die "no modules for $KVER in $KX"
# name -> path index (module names normalised to underscores)
if [ ! -f "$KX/.modindex" ]; then
	(cd "$MODDIR" && find kernel -name '*.ko*' | while read -r p; do
		n=${p##*/}; n=${n%%.ko*}; echo "${n//-/_} $p"; done) >"$KX/.modindex.tmp"
	mv "$KX/.modindex.tmp" "$KX/.modindex"
fi
flock -u 9
exec 9>&-
if [ "$PREPARE" = 1 ]; then
	log "kernel $KVER ready in $KX"
	exit 0
fi

mod_path() { awk -v n="${1//-/_}" '$1==n{print $2; exit}' "$KX/.modindex"; }
mod_deps() { # read depends= from the .modinfo section (works for .ko; .ko.xz/.zst: decompress)
	local f="$MODDIR/$1"
	case $f in
	*.ko) tr '\0' '\n' <"$f" ;;
	*.ko.xz) xz -dc "$f" | tr '\0' '\n' ;;
	*.ko.zst) zstd -dc "$f" | tr '\0' '\n' ;;
	*.ko.gz) gzip -dc "$f" | tr '\0' '\n' ;;
	esac | awk -F= '/^depends=/{gsub(",", " ", $2); print $2; exit}'
}
declare -A SEEN=() BUILTIN=()
MODLIST=()
add_mod() {
	local n=${1//-/_} p d
	[ -n "${SEEN[$n]:-}" ] && return 0
	SEEN[$n]=1
	if tr '-' '_' <"$MODDIR/modules.builtin" 2>/dev/null | grep -q "/${n}\.ko"; then
		BUILTIN[$n]=1 # built into the kernel (e.g. the connector, cn)
		return 0
	fi
	p=$(mod_path "$n")
	[ -n "$p" ] || die "kernel module not found: $1 (kernel $KVER)"
	for d in $(mod_deps "$p"); do add_mod "$d"; done
	MODLIST+=("$p")
}
for m in ${INC_MODS[@]+"${INC_MODS[@]}"}; do add_mod "$m"; done

# ---------------------------------------------------------------- initramfs
OUTDIR=${OUTDIR:-$(mktemp -d "${TMPDIR:-/tmp}/run-in-guest.XXXXXX")}
mkdir -p "$OUTDIR"
OUTDIR=$(readlink -f "$OUTDIR")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rig-build.XXXXXX")
QPID=
cleanup() {
	[ -n "$QPID" ] && kill "$QPID" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ROOT="$WORK/root"
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,out,host,etc,lib/modules/"$KVER"}
cp "$BUSYBOX" "$ROOT/bin/busybox"

copy_elf_libs() { # copy the shared libraries of a dynamic ELF to the same paths
	local lib
	ldd "$1" 2>/dev/null | awk '/=> \//{print $3} /^[[:space:]]*\/[^ ]+ \(/{print $1}' | while read -r lib; do
		[ -e "$ROOT$lib" ] && continue
		mkdir -p "$ROOT$(dirname "$lib")"
		cp -L "$lib" "$ROOT$lib"
		# A library found through a build tree's RUNPATH (say under /tmp, which the guest
		# mounts a tmpfs over) must also be where the loader looks by default.
		case $lib in
		/lib/*|/lib64/*|/usr/lib/*|/usr/lib64/*) ;;
		*) mkdir -p "$ROOT/usr/lib/x86_64-linux-gnu"
		   cp -L "$lib" "$ROOT/usr/lib/x86_64-linux-gnu/$(basename "$lib")" ;;
		esac
	done
}
for spec in ${FILES[@]+"${FILES[@]}"}; do
	src=${spec%%:*}
	if [ "$spec" != "$src" ]; then dst=${spec#*:}; else dst=/host/$(basename "$src"); fi
	[ -e "$src" ] || die "no such file: $src"
	mkdir -p "$ROOT$(dirname "$dst")"
	cp -a -L "$src" "$ROOT$dst"
	while IFS= read -r -d '' f; do
		if head -c4 "$f" 2>/dev/null | grep -q 'ELF' && ldd "$f" >/dev/null 2>&1; then copy_elf_libs "$f"; fi
	done < <(find "$ROOT$dst" -type f -print0)
done
cp "$SCRIPT" "$ROOT/host/.guest-script"
for p in ${MODLIST[@]+"${MODLIST[@]}"}; do
	mkdir -p "$ROOT/lib/modules/$KVER/$(dirname "$p")"
	cp "$MODDIR/$p" "$ROOT/lib/modules/$KVER/$p"
done
for f in modules.order modules.builtin modules.builtin.modinfo; do
	[ -f "$MODDIR/$f" ] && cp "$MODDIR/$f" "$ROOT/lib/modules/$KVER/"
done
"$BUSYBOX" depmod -b "$ROOT" "$KVER" 2>/dev/null || true

NONCE="RIG$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
shq() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
{
	for e in ${ENVS[@]+"${ENVS[@]}"}; do
		case $e in [A-Za-z_]*=*) ;; *) die "bad -e (want NAME=VALUE): $e" ;; esac
		printf 'export %s=%s\n' "${e%%=*}" "$(shq "${e#*=}")"
	done
	printf 'set --'; for a in "$@"; do printf ' %s' "$(shq "$a")"; done; echo
} >"$ROOT/etc/guest-env"
LOAD_LIST=
for m in ${LOAD_MODS[@]+"${LOAD_MODS[@]}"}; do
	[ -n "${BUILTIN[${m//-/_}]:-}" ] || LOAD_LIST="$LOAD_LIST $m"
done
cat >"$ROOT/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/host:/bin:/sbin:/usr/bin:/usr/sbin HOME=/root
mount -t devtmpfs dev /dev
exec 0</dev/null 1>/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tmpfs -o mode=1777 tmp /tmp
mkdir -p /dev/pts /dev/shm /root && mount -t devpts devpts /dev/pts
ip link set lo up 2>/dev/null
stty -F /dev/ttyS1 raw -echo 2>/dev/null
stty -F /dev/ttyS2 raw -echo 2>/dev/null
ctl() { echo "@@$NONCE \$*" >/dev/ttyS2; }
ctl INIT \$(cut -d' ' -f1 /proc/uptime)
rc=0
for m in $LOAD_LIST; do modprobe "\$m" || { echo "modprobe \$m failed" >/dev/ttyS1; rc=125; }; done
ctl MODULES \$(cut -d' ' -f1 /proc/uptime)
. /etc/guest-env
if [ \$rc -eq 0 ]; then
	cd /host
	sh /host/.guest-script "\$@" </dev/null >/dev/ttyS1 2>&1
	rc=\$?
fi
ctl SCRIPT_END \$(cut -d' ' -f1 /proc/uptime)
dmesg >/out/dmesg.txt 2>&1
ctl OUT_BEGIN
tar -C /out -cf - . | gzip -1 | base64 >/dev/ttyS2
ctl OUT_END
ctl EXIT \$rc
ctl POWEROFF \$(cut -d' ' -f1 /proc/uptime)
sync
poweroff -f
EOF
chmod 755 "$ROOT/init"
INITRD="$WORK/initrd.cpio.gz"
(cd "$ROOT" && find . -print0 | cpio --null -o -H newc -R 0:0 --quiet | gzip -1) >"$INITRD"

# ---------------------------------------------------------------- boot
rm -f "$OUTDIR"/{console.log,output.log,results.txt,exit-status}
rm -rf "$OUTDIR/files"
: >"$OUTDIR/output.log"
APPEND="console=ttyS0 panic=-1 oops=panic rdinit=/init quiet loglevel=4 mitigations=off $EXTRA_APPEND"
T0=$(date +%s.%N)
# shellcheck disable=SC2086
timeout -k 5 "$TIMEOUT" qemu-system-x86_64 \
	-machine "${RIG_QEMU_MACHINE:-pc},accel=tcg" -cpu "${RIG_QEMU_CPU:-max}" -smp "$SMP" -m "$MEM" \
	-nodefaults -no-user-config -nographic -monitor none -nic none -no-reboot \
	-kernel "$KERNEL_IMG" -initrd "$INITRD" -append "$APPEND" \
	-serial "file:$OUTDIR/console.log" \
	-serial "file:$OUTDIR/output.log" \
	-serial "file:$OUTDIR/results.txt" \
	${RIG_QEMU_EXTRA:-} </dev/null >"$OUTDIR/qemu.log" 2>&1 &
QPID=$!
if [ "$QUIET" = 0 ]; then
	tail -n +1 -s 0.3 --pid="$QPID" -f "$OUTDIR/output.log" 2>/dev/null | tr -d '\r' >&2 || true
fi
set +e
wait "$QPID"
QRC=$?
set -e
QPID=
T1=$(date +%s.%N)

# ---------------------------------------------------------------- results
RES="$OUTDIR/results.txt"
tr -d '\r' <"$RES" >"$RES.tmp" 2>/dev/null && mv "$RES.tmp" "$RES" || true
mkdir -p "$OUTDIR/files"
if grep -q "^@@$NONCE OUT_END" "$RES" 2>/dev/null; then
	sed -n "/^@@$NONCE OUT_BEGIN/,/^@@$NONCE OUT_END/{/^@@/d;p}" "$RES" | base64 -d | tar -C "$OUTDIR/files" -xzf - ||
		log "could not unpack /out from the guest"
fi
t_init=$(awk -v n="@@$NONCE" '$1==n && $2=="INIT"{print $3}' "$RES" 2>/dev/null)
t_end=$(awk -v n="@@$NONCE" '$1==n && $2=="SCRIPT_END"{print $3}' "$RES" 2>/dev/null)
t_off=$(awk -v n="@@$NONCE" '$1==n && $2=="POWEROFF"{print $3}' "$RES" 2>/dev/null)
rc=$(awk -v n="@@$NONCE" '$1==n && $2=="EXIT"{print $3}' "$RES" 2>/dev/null)
wall=$(awk -v a="$T0" -v b="$T1" 'BEGIN{printf "%.1f", b-a}')
if [ "$QRC" = 124 ] || [ "$QRC" = 137 ]; then
	log "TIMEOUT after ${TIMEOUT}s (see $OUTDIR/console.log)"
	rc=124
elif [ -z "$rc" ]; then
	log "guest reported no exit status (qemu rc=$QRC); see $OUTDIR/console.log and $OUTDIR/qemu.log"
	tail -n 30 "$OUTDIR/console.log" >&2 2>/dev/null || true
	rc=125
fi
echo "$rc" >"$OUTDIR/exit-status"
log "kernel $KVER; guest uptime: /init ${t_init:-?}s, script end ${t_end:-?}s, poweroff ${t_off:-?}s; qemu wall ${wall}s; exit $rc; output in $OUTDIR"
exit "$rc"
