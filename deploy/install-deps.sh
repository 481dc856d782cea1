#!/usr/bin/env bash
# install-deps.sh - install, with apt-get, the Debian packages dmlog needs to build and test.
#
# Only packages that are missing are installed. libraft comes from Debian's bookworm-backports
# suite (0.22.x, the maintained cowsql/raft); the suite is enabled with the mirror URI that the
# machine's own apt sources already name. bookworm's own libraft 0.15 lacks a Raft safety fix
# and is refused (CMake checks the version too).
#
# Usage: deploy/install-deps.sh [--test]   (--test adds what the test suite needs)
set -euo pipefail

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

BUILD_PKGS=(gcc make cmake pkg-config libc6-dev linux-libc-dev
            libprotobuf-c-dev protobuf-c-compiler libevent-dev libssl-dev openssl
            libuv1-dev check)
# The real-kernel tests (tests/kernel/) boot Debian's kernel under QEMU.
TEST_PKGS=(valgrind procps qemu-system-x86 busybox-static cpio dmsetup xz-utils iproute2)
RAFT_PKG=libraft-dev
RAFT_MIN=0.22

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then SUDO=(sudo); else
		echo "install-deps: must run as root (or with sudo available)" >&2; exit 1
	fi
fi

missing() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
	done
}

raft_ok() {
	local v
	v=$(dpkg-query -W -f='${Version}' "$RAFT_PKG" 2>/dev/null) || return 1
	dpkg --compare-versions "$v" ge "$RAFT_MIN"
}

# The URI of the Debian archive as this machine's sources name it (deb822 or one-line form).
debian_uri() {
	local f uri=''
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		uri=$(awk '
			/^[[:space:]]*$/ { if (u != "" && s ~ /(^|[ \t])bookworm([ \t]|$)/) { print u; exit } u=""; s=""; next }
			/^URIs:/   { u=$2 }
			/^Suites:/ { $1=""; s=$0 }
			END { if (u != "" && s ~ /(^|[ \t])bookworm([ \t]|$)/) print u }' "$f" | head -n1)
		[ -n "$uri" ] && { echo "$uri"; return 0; }
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		uri=$(awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
			if ($(i+1) == "bookworm") { print $i; exit } }' "$f")
		[ -n "$uri" ] && { echo "$uri"; return 0; }
	done
	return 1
}

enable_backports() {
	if grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null; then
		return 0
	fi
	local uri
	uri=$(debian_uri) || { echo "install-deps: no bookworm source found in /etc/apt to derive the backports URI from" >&2; exit 1; }
	echo "install-deps: enabling bookworm-backports from $uri"
	local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	"${SUDO[@]}" tee /etc/apt/sources.list.d/dmlog-bookworm-backports.sources >/dev/null <<SRC
Types: deb
URIs: $uri
Suites: bookworm-backports
Components: main
Signed-By: $keyring
SRC
}

pkgs=("${BUILD_PKGS[@]}")
[ "$want_test" = 1 ] && pkgs+=("${TEST_PKGS[@]}")
todo=$(missing "${pkgs[@]}")
need_raft=0
raft_ok || need_raft=1

if [ -z "$todo" ] && [ "$need_raft" = 0 ]; then
	echo "install-deps: all packages present"
	exit 0
fi

export DEBIAN_FRONTEND=noninteractive
[ "$need_raft" = 1 ] && enable_backports
"${SUDO[@]}" apt-get update -q
if [ -n "$todo" ]; then
	# shellcheck disable=SC2086
	"${SUDO[@]}" apt-get install -y -q --no-install-recommends $todo
fi
if [ "$need_raft" = 1 ]; then
	"${SUDO[@]}" apt-get install -y -q --no-install-recommends -t bookworm-backports "$RAFT_PKG"
	raft_ok || { echo "install-deps: $RAFT_PKG from bookworm-backports is older than $RAFT_MIN" >&2; exit 1; }
fi
echo "install-deps: done"
