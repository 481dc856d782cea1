#!/usr/bin/env bash
# dmlog-certs.sh - make the certificates dmlog's mutual TLS runs on.
#
# Roles are told apart by the certificate's subject: OU=dmlog-node (a cluster node running
# dmlog-bridge), OU=dmlog-peer (a dmlogd server) or OU=dmlog-admin (dmlogctl); the CN is the
# identity (node name, peer id, admin name). Every certificate is signed by the CA in DIR.
# Peer certificates also name the server in subjectAltName (DNS and IP) and are usable for both
# TLS server and client authentication (peers connect to each other).
#
# Usage:
#   dmlog-certs.sh DIR ca                         create DIR/ca.crt, DIR/ca.key (if missing)
#   dmlog-certs.sh DIR node NAME                  DIR/node-NAME.{crt,key}
#   dmlog-certs.sh DIR admin NAME                 DIR/admin-NAME.{crt,key}
#   dmlog-certs.sh DIR peer NAME [SAN...]         DIR/peer-NAME.{crt,key}; SAN like DNS:host,IP:10.0.0.1
#                                                 (default DNS:localhost,IP:127.0.0.1)
#   dmlog-certs.sh DIR dev                        a CA, peer dmlogd1, node node1, admin admin
#                                                 (only what is missing); for development only
# Options (environment): DMLOG_CERT_DAYS (default 825).
# Keys are EC P-256, written mode 0600; nothing secret is printed.
set -euo pipefail

die() { echo "dmlog-certs: $*" >&2; exit 1; }
[ $# -ge 2 ] || { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
command -v openssl >/dev/null || die "openssl not found (apt-get install openssl)"

dir=$1 cmd=$2
shift 2
days=${DMLOG_CERT_DAYS:-825}
mkdir -p "$dir"
chmod 0700 "$dir"

valid_name() {
	[[ $1 =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$ ]] || die "invalid name '$1' (1-63 of A-Z a-z 0-9 . _ -)"
}

newkey() {
	( umask 077; openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null )
}

make_ca() {
	[ -f "$dir/ca.crt" ] && [ -f "$dir/ca.key" ] && return 0
	newkey "$dir/ca.key"
	openssl req -new -x509 -key "$dir/ca.key" -sha256 -days $((days * 2)) \
		-subj "/O=dmlog/CN=dmlog CA" -out "$dir/ca.crt" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
	echo "dmlog-certs: wrote $dir/ca.crt"
}

# sign ROLE NAME EXTFILE-CONTENT
sign() {
	local role=$1 name=$2 ext=$3 base="$dir/$1-$2"
	[ -f "$dir/ca.crt" ] || die "no CA in $dir (run: $0 $dir ca)"
	[ -f "$base.crt" ] && [ -f "$base.key" ] && return 0
	newkey "$base.key"
	local tmp
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' RETURN
	printf '%s\n' "$ext" >"$tmp/ext.cnf"
	openssl req -new -key "$base.key" -subj "/O=dmlog/OU=dmlog-$role/CN=$name" -out "$tmp/req.csr" 2>/dev/null
	openssl x509 -req -in "$tmp/req.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
		-sha256 -days "$days" -extfile "$tmp/ext.cnf" -out "$base.crt" 2>/dev/null
	echo "dmlog-certs: wrote $base.crt"
}

client_ext='basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth'

case $cmd in
ca) make_ca ;;
node|admin)
	[ $# -eq 1 ] || die "usage: $0 DIR $cmd NAME"
	valid_name "$1"
	sign "$cmd" "$1" "$client_ext" ;;
peer)
	[ $# -ge 1 ] || die "usage: $0 DIR peer NAME [SAN...]"
	valid_name "$1"
	name=$1; shift
	san=${*:-DNS:localhost,IP:127.0.0.1}
	san=${san// /,}
	sign peer "$name" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=$san" ;;
dev)
	make_ca
	"$0" "$dir" peer dmlogd1
	"$0" "$dir" node node1
	"$0" "$dir" admin admin ;;
*) die "unknown command '$cmd' (ca, node, admin, peer, dev)" ;;
esac
