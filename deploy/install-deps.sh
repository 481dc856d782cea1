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
# The real-kernel tests (tests/kernel/) boot Debian's kernel under QEMU; inside the guest,
# busybox provides the shell tools (ip included), so the host needs no procps or iproute2.
TEST_PKGS=(valgrind qemu-system-x86 busybox-static cpio dmsetup xz-utils)
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

APT_DIR=/etc/apt

# The stanzas of the deb822 .sources files given, one line each: "<types>|<uris>|<suites>",
# the field values space-separated. Comment lines are skipped, continuation lines are joined
# to their field, and stanzas with "Enabled: no" are left out (apt ignores them too).
deb822_stanzas() {
	awk '
		function flush() { if (e && (t != "" || u != "" || s != "")) print t "|" u "|" s
			t = u = s = k = ""; e = 1 }
		BEGIN { e = 1 }
		/^#/ { next }
		/^[[:space:]]*$/ { flush(); next }
		/^[[:space:]]/ { v = $0; sub(/^[[:space:]]+/, "", v)
			if (k == "types") t = t " " v; else if (k == "uris") u = u " " v
			else if (k == "suites") s = s " " v
			next }
		{ k = tolower($1); sub(/:$/, "", k); v = $0; sub(/^[^:]*:[[:space:]]*/, "", v)
			if (k == "types") t = v; else if (k == "uris") u = v
			else if (k == "suites") s = v; else if (k == "enabled") e = tolower(v) !~ /^no/ }
		END { flush() }' "$@"
}

# The one-line "deb" entries of the sources.list files given: "<uri> <suite>" per line, options
# ([...]) and comments (from "#" to the end of the line) removed.
oneline_debs() {
	awk '{ sub(/#.*/, "") }
		$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
			if (i + 1 <= NF) print $i, $(i + 1) }' "$@"
}

# The sources files apt reads (those that exist), by format.
list_files() {
	local f
	for f in "$APT_DIR"/sources.list "$APT_DIR"/sources.list.d/*.list; do
		[ -f "$f" ] && echo "$f"
	done
	return 0
}
sources_files() {
	local f
	for f in "$APT_DIR"/sources.list.d/*.sources; do
		[ -f "$f" ] && echo "$f"
	done
	return 0
}

# Whether some active deb entry already names suite $1. A commented-out line or a disabled
# stanza does not count: apt would not use it, and "apt-get -t $1" would then fail.
suite_enabled() {
	local files
	mapfile -t files < <(list_files)
	if [ "${#files[@]}" -gt 0 ] && oneline_debs "${files[@]}" | awk -v s="$1" '$2 == s { f = 1 } END { exit !f }'; then
		return 0
	fi
	mapfile -t files < <(sources_files)
	[ "${#files[@]}" -gt 0 ] || return 1
	deb822_stanzas "${files[@]}" | awk -F'|' -v s="$1" '
		{ nt = split($1, t, " "); ns = split($3, w, " "); deb = 0
		  for (i = 1; i <= nt; i++) if (t[i] == "deb") deb = 1
		  for (i = 1; i <= ns; i++) if (deb && w[i] == s) f = 1 }
		END { exit !f }'
}

# The URI of the Debian archive as this machine's active sources name it for bookworm
# (deb822 or one-line form): the first one found.
debian_uri() {
	local files uri=''
	mapfile -t files < <(sources_files)
	if [ "${#files[@]}" -gt 0 ]; then
		uri=$(deb822_stanzas "${files[@]}" | awk -F'|' '
			{ nt = split($1, t, " "); ns = split($3, w, " "); deb = 0; bw = 0
			  for (i = 1; i <= nt; i++) if (t[i] == "deb") deb = 1
			  for (i = 1; i <= ns; i++) if (w[i] == "bookworm") bw = 1
			  if (deb && bw) { split($2, u, " "); print u[1]; exit } }')
		[ -n "$uri" ] && { echo "$uri"; return 0; }
	fi
	mapfile -t files < <(list_files)
	if [ "${#files[@]}" -gt 0 ]; then
		uri=$(oneline_debs "${files[@]}" | awk '$2 == "bookworm" { print $1; exit }')
		[ -n "$uri" ] && { echo "$uri"; return 0; }
	fi
	return 1
}

enable_backports() {
	suite_enabled bookworm-backports && return 0
	local uri
	uri=$(debian_uri) || { echo "install-deps: no bookworm source found in $APT_DIR to derive the backports URI from" >&2; exit 1; }
	echo "install-deps: enabling bookworm-backports from $uri"
	local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	"${SUDO[@]}" tee "$APT_DIR"/sources.list.d/dmlog-bookworm-backports.sources >/dev/null <<SRC
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
