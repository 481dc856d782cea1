#!/usr/bin/env bash
# run-standalone.sh - start a standalone dmlogd with dev certificates and show it working.
#
# Usage: deploy/run-standalone.sh BUILD_DIR STATE_DIR [--demo-only]
#   Makes dev certificates in STATE_DIR/tls on first run (deploy/dmlog-certs.sh dev), starts
#   dmlogd on 127.0.0.1:7788 with its state in STATE_DIR/data, runs the demo client (a node
#   creating a mirror log, marking, flushing, clearing, resyncing) and dmlogctl against it, then
#   keeps dmlogd in the foreground until Ctrl-C. With --demo-only it stops dmlogd after the demo.
# Environment: DMLOG_LISTEN (default 127.0.0.1:7788), DMLOG_RAFT (default 127.0.0.1:7789).
set -euo pipefail
cd "$(dirname "$0")/.."

build=${1:?usage: $0 BUILD_DIR STATE_DIR [--demo-only]}
state=${2:?usage: $0 BUILD_DIR STATE_DIR [--demo-only]}
demo_only=0
[ "${3:-}" = "--demo-only" ] && demo_only=1
listen=${DMLOG_LISTEN:-127.0.0.1:7788}
raft=${DMLOG_RAFT:-127.0.0.1:7789}
tls=$state/tls

mkdir -p "$state/data"
if [ ! -f "$tls/ca.crt" ]; then
	echo "== first run: making dev certificates in $tls"
fi
deploy/dmlog-certs.sh "$tls" dev >/dev/null

echo "== starting dmlogd (listen $listen, state $state/data)"
"$build/server/dmlogd" --listen "$listen" --raft-address "$raft" --state-dir "$state/data" \
	--ca-file "$tls/ca.crt" --cert-file "$tls/peer-dmlogd1.crt" --key-file "$tls/peer-dmlogd1.key" &
pid=$!
stop() { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
trap stop EXIT INT TERM

# Wait until it accepts connections (bounded).
for _ in $(seq 1 100); do
	if (exec 3<>"/dev/tcp/${listen%:*}/${listen##*:}") 2>/dev/null; then break; fi
	kill -0 "$pid" 2>/dev/null || { echo "dmlogd exited during start-up" >&2; exit 1; }
	sleep 0.1
done

echo "== demo: node1 drives a mirror log the way the kernel would"
"$build/client/dmlog-demo" --server "$listen" --ca "$tls/ca.crt" \
	--cert "$tls/node-node1.crt" --key "$tls/node-node1.key"
echo "== dmlogctl (admin view)"
ctl=("$build/client/dmlogctl" --server "$listen" --ca "$tls/ca.crt" --cert "$tls/admin-admin.crt" --key "$tls/admin-admin.key")
"${ctl[@]}" status
"${ctl[@]}" logs

if [ "$demo_only" = 1 ]; then
	exit 0
fi
echo "== dmlogd keeps running (pid $pid); Ctrl-C stops it"
wait "$pid"
