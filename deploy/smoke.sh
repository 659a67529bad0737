#!/usr/bin/env bash
# Smoke test of the docker-compose demo (CI runs it): build the image, bring up
# the 3-node TLS cluster (certificates made by the one-shot `certs` service),
# wait for health, check that the demo client got numbers over TLS, that a
# plaintext client is refused and an admin call needs the admin certificate
# or the token, take numbers and read the status through the published ports
# (one endpoint at a time: a follower must redirect to the leader's advertised
# 127.0.0.1 port), kill -9 the leader's container, take numbers again from the
# survivors, start it again and see it rejoin, then `docker-compose down -v`.
# Exit 0 only if every step worked.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ -z "${DOCKER:-}" ]]; then
  if [[ -x /usr/bin/docker ]]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi
fi
export DOCKER
COMPOSE=(docker-compose -f deploy/docker-compose.yml)
RAFTSEQ=bin/raftseq
ALL=127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103
declare -A PORT=([n1]=7101 [n2]=7102 [n3]=7103)
SEQ="smoke-$$"
# The CA and the admin certificate, copied out of the volume for this host's CLI.
TLS="$(mktemp -d /tmp/raftseq-smoke-tls.XXXXXX)"
CA=(--ca "$TLS/ca.pem")

say() { echo "smoke: $*"; }
fail() {
  echo "smoke: FAILED: $*" >&2
  "${COMPOSE[@]}" ps >&2 || true
  for n in n1 n2 n3; do
    echo "--- logs of $n (last 15 lines)" >&2
    "${COMPOSE[@]}" logs --no-color --tail=15 "$n" >&2 || true
  done
  exit 1
}
cleanup() { "${COMPOSE[@]}" down -v --remove-orphans >/dev/null 2>&1 || true; }
trap 'cleanup; rm -rf "$TLS"' EXIT

container() { "${COMPOSE[@]}" ps -q "$1"; }
health() { "$DOCKER" inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$(container "$1")" 2>/dev/null || echo gone; }

wait_healthy() {
  local deadline=$((SECONDS + ${2:-60})) n
  for n in $1; do
    until [[ "$(health "$n")" == healthy ]]; do
      ((SECONDS < deadline)) || fail "$n not healthy after ${2:-60}s (status $(health "$n"))"
      sleep 0.5
    done
  done
}

leader_id() {
  "$RAFTSEQ" cluster status --endpoints "$1" "${CA[@]}" --json |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);if(!j.leader)process.exit(1);console.log(j.leader)})'
}

# next VALUE-VAR ENDPOINTS: one Next; the value must exceed the last one seen.
LAST=0
take() {
  local v
  v="$("$RAFTSEQ" next "$SEQ" --endpoints "$1" "${CA[@]}" 2>&1)" || fail "next via $1: $v"
  [[ "$v" =~ ^[0-9]+$ ]] || fail "next via $1 printed '$v'"
  ((v > LAST)) || fail "next via $1 gave $v after $LAST"
  say "next $SEQ via $1 -> $v"
  LAST=$v
}

t0=$SECONDS
deploy/build-image.sh
cleanup
"${COMPOSE[@]}" up -d
wait_healthy "n1 n2 n3" 90
say "3 nodes healthy after $((SECONDS - t0))s"

# TLS: the certificates were made once, before the nodes started.
[[ "$("$DOCKER" inspect -f '{{.State.ExitCode}}' "$(container certs)")" == 0 ]] ||
  fail "the certs service failed: $("${COMPOSE[@]}" logs --no-color certs)"
for f in ca.pem admin-ops.pem admin-ops-key.pem; do
  "$DOCKER" cp "$(container certs):/etc/raftseq/tls/$f" "$TLS/$f" >/dev/null
done
# The demo client ran once at `up`, over TLS: five numbers.
"$DOCKER" wait "$(container client)" >/dev/null
demo="$("$DOCKER" logs "$(container client)" 2>&1)"
[[ "$demo" =~ ^[0-9]+\.\.[0-9]+$ ]] || fail "the demo client printed '$demo'"
say "demo client (next demo --count 5, over TLS) -> $demo"
# A plaintext client is refused, in one line that says why.
if out="$("$RAFTSEQ" next "$SEQ" --endpoints 127.0.0.1:7101 2>&1)"; then
  fail "a plaintext client got '$out' from a TLS node"
fi
[[ "$out" == *"speaks TLS"* ]] || fail "plaintext refusal said '$out'"
say "plaintext refused: $out"
# An admin call needs an admin identity: refused with --ca only, done with the
# admin certificate (host CLI) and with the token (the client service).
if out="$("$RAFTSEQ" sequence advance "$SEQ-admin" --to 1000 --endpoints "$ALL" "${CA[@]}" 2>&1)"; then
  fail "an admin call without an identity was accepted: $out"
fi
[[ "$out" == *UNAUTHENTICATED* ]] || fail "anonymous admin call said '$out'"
say "anonymous admin call refused: $out"
"$RAFTSEQ" sequence advance "$SEQ-admin" --to 1000 --endpoints "$ALL" "${CA[@]}" \
  --cert "$TLS/admin-ops.pem" --key "$TLS/admin-ops-key.pem" >/dev/null ||
  fail "sequence advance with the admin certificate"
"${COMPOSE[@]}" run --rm -e RAFTSEQ_TOKEN_FILE=/etc/raftseq/tls/admin-token client \
  sequence advance "$SEQ-admin" --to 2000 >/dev/null 2>&1 || fail "sequence advance with the token"
say "admin calls done with the admin certificate and with the token"

leader="$(leader_id "$ALL")" || fail "no leader"
say "leader is $leader"
"$RAFTSEQ" cluster status --endpoints "$ALL" "${CA[@]}"
for n in n1 n2 n3; do take "127.0.0.1:${PORT[$n]}"; done # one endpoint each: redirects
out="$("$RAFTSEQ" next "$SEQ" --count 100 --endpoints "$ALL" "${CA[@]}")" || fail "next --count 100: $out"
say "next $SEQ --count 100 -> $out"
LAST="${out##*..}"

say "kill -9 the leader's container ($leader)"
"${COMPOSE[@]}" kill -s SIGKILL "$leader" >/dev/null 2>&1
survivors=()
for n in n1 n2 n3; do [[ "$n" == "$leader" ]] || survivors+=("$n"); done
take "$ALL"
for n in "${survivors[@]}"; do take "127.0.0.1:${PORT[$n]}"; done
newleader="$(leader_id "127.0.0.1:${PORT[${survivors[0]}]}")" || fail "no leader after the kill"
[[ "$newleader" != "$leader" ]] || fail "the killed node $leader is still named leader"
say "new leader is $newleader"
"$RAFTSEQ" cluster status --endpoints "127.0.0.1:${PORT[$newleader]}" "${CA[@]}"

say "start $leader again (restart: data directory only, no bootstrap needed)"
"${COMPOSE[@]}" start "$leader" >/dev/null 2>&1
wait_healthy "$leader" 60
take "127.0.0.1:${PORT[$leader]}"
status="$("$RAFTSEQ" cluster status --endpoints "$ALL" "${CA[@]}" --json)" || fail "status after restart"
echo "$status" | node -e '
let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{
  const j=JSON.parse(s), want=process.argv[1];
  const m=j.members.find(x=>x.id===want);
  if(!m||!["follower","leader"].includes(m.role)){console.error("member "+want+" is "+JSON.stringify(m));process.exit(1);}
})' "$leader" || fail "$leader did not rejoin"
"$RAFTSEQ" cluster status --endpoints "$ALL" "${CA[@]}"
say "OK in $((SECONDS - t0))s (last value $LAST)"
