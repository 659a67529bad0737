#!/usr/bin/env bash
# Smoke test of the docker-compose demo (CI runs it): build the image, bring up
# the 3-node cluster, wait for health, take numbers and read the status through
# the published ports (one endpoint at a time: a follower must redirect to the
# leader's advertised 127.0.0.1 port), kill -9 the leader's container, take
# numbers again from the survivors, start it again and see it rejoin, then
# `docker-compose down -v`. Exit 0 only if every step worked.
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
trap cleanup EXIT

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
  "$RAFTSEQ" cluster status --endpoints "$1" --json |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);if(!j.leader)process.exit(1);console.log(j.leader)})'
}

# next VALUE-VAR ENDPOINTS: one Next; the value must exceed the last one seen.
LAST=0
take() {
  local v
  v="$("$RAFTSEQ" next "$SEQ" --endpoints "$1" 2>&1)" || fail "next via $1: $v"
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

leader="$(leader_id "$ALL")" || fail "no leader"
say "leader is $leader"
"$RAFTSEQ" cluster status --endpoints "$ALL"
for n in n1 n2 n3; do take "127.0.0.1:${PORT[$n]}"; done # one endpoint each: redirects
out="$("$RAFTSEQ" next "$SEQ" --count 100 --endpoints "$ALL")" || fail "next --count 100: $out"
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
"$RAFTSEQ" cluster status --endpoints "127.0.0.1:${PORT[$newleader]}"

say "start $leader again (restart: data directory only, no bootstrap needed)"
"${COMPOSE[@]}" start "$leader" >/dev/null 2>&1
wait_healthy "$leader" 60
take "127.0.0.1:${PORT[$leader]}"
status="$("$RAFTSEQ" cluster status --endpoints "$ALL" --json)" || fail "status after restart"
echo "$status" | node -e '
let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{
  const j=JSON.parse(s), want=process.argv[1];
  const m=j.members.find(x=>x.id===want);
  if(!m||!["follower","leader"].includes(m.role)){console.error("member "+want+" is "+JSON.stringify(m));process.exit(1);}
})' "$leader" || fail "$leader did not rejoin"
"$RAFTSEQ" cluster status --endpoints "$ALL"
say "OK in $((SECONDS - t0))s (last value $LAST)"
