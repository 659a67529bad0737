#!/bin/sh
# Certificates for the compose demo, made by the image's own `raftseq certs`
# (no openssl) in a one-shot container before the nodes start: a CA, one
# member certificate per node (named for its service, n1:7000 between peers,
# and 127.0.0.1, where the healthcheck and clients on the host dial it), the
# admin certificate "ops" and an admin token file. What exists is kept, so a
# second `up` reuses the CA and the clients' --ca stays valid;
# `docker-compose down -v` deletes them with the volume.
#
# Usage (in the image): sh /app/deploy/tls-init.sh [DIR] [MEMBER...]
#   DIR defaults to /etc/raftseq/tls, the members to n1 n2 n3.
set -eu

DIR="${1:-/etc/raftseq/tls}"
[ "$#" -gt 0 ] && shift
[ "$#" -gt 0 ] || set -- n1 n2 n3
RAFTSEQ="node /app/bin/raftseq"
umask 077

[ -f "$DIR/ca.pem" ] || $RAFTSEQ certs init --dir "$DIR"
for id in "$@"; do
  [ -f "$DIR/member-$id.pem" ] || $RAFTSEQ certs member --dir "$DIR" --id "$id" --host "$id,127.0.0.1"
done
[ -f "$DIR/admin-ops.pem" ] || $RAFTSEQ certs admin --dir "$DIR" --name ops
if [ ! -f "$DIR/admin-token" ]; then
  # 'wx': created once, never overwritten (the nodes may already accept it).
  node -e 'require("fs").writeFileSync(process.argv[1], require("crypto").randomBytes(32).toString("hex") + "\n", { mode: 0o600, flag: "wx" })' \
    "$DIR/admin-token"
fi
echo "TLS files ready in $DIR"
