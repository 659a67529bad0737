#!/usr/bin/env bash
# Makes sure the image `node:20-bookworm-slim` (the base of deploy/Dockerfile)
# exists locally:
#   1. the tag is already there: nothing to do;
#   2. a registry answers: `docker pull` it;
#   3. otherwise build a stand-in from this host's own files (Debian 12 with
#      Node 20): node and every library ldd lists, the loader, dash as /bin/sh,
#      a `node` user (uid 1000), the CA bundle, a few coreutils, and for
#      in-container partitions iptables (nft) with its xtables modules and
#      `ip`; then `docker import` it. About 130 MB, a few seconds.
#
# Usage: deploy/build-base-image.sh [--force]   (--force: rebuild the stand-in)
# Env:   BASE_IMAGE (default node:20-bookworm-slim), DOCKER (docker client)
set -euo pipefail

TAG="${BASE_IMAGE:-node:20-bookworm-slim}"
# Debian's client talks to Debian's daemon without surprises (the static
# client in /usr/local/bin may lack buildx); fall back to whatever is on PATH.
if [[ -z "${DOCKER:-}" ]]; then
  if [[ -x /usr/bin/docker ]]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi
fi
FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1

if ((FORCE == 0)) && "$DOCKER" image inspect "$TAG" >/dev/null 2>&1; then
  echo "base image $TAG: present"
  exit 0
fi
if ((FORCE == 0)) && timeout 120 "$DOCKER" pull -q "$TAG" >/dev/null 2>&1; then
  echo "base image $TAG: pulled"
  exit 0
fi

echo "base image $TAG: no registry answers; building a stand-in from this host's files"
NODE_BIN="$(readlink -f "$(command -v node)")"
major="$("$NODE_BIN" -p 'process.versions.node.split(".")[0]')"
if [[ "$major" != "20" ]]; then
  echo "error: the host's node is $("$NODE_BIN" --version); the stand-in needs Node 20" >&2
  exit 1
fi

ROOT="$(mktemp -d /tmp/raftseq-base.XXXXXX)"
trap 'rm -rf "$ROOT"' EXIT

# Copies a file (following symlinks) to the same *directory* path in the image,
# under the name it was asked by: the loader looks libraries up by soname.
copy_file() {
  local src="$1" dir
  [[ -e "$src" ]] || return 0
  dir="$(readlink -f "$(dirname "$src")")"
  mkdir -p "$ROOT$dir"
  [[ -e "$ROOT$dir/$(basename "$src")" ]] || cp -L "$src" "$ROOT$dir/$(basename "$src")"
}

# Copies a binary or shared object and every library it needs.
copy_with_libs() {
  local f lib
  for f in "$@"; do
    [[ -e "$f" ]] || continue
    copy_file "$f"
    while read -r lib; do
      [[ -n "$lib" ]] && copy_file "$lib"
    done < <(ldd "$f" 2>/dev/null | grep -oE '/[^ ]+' || true)
  done
}

# Merged /usr, as on Debian 12.
mkdir -p "$ROOT"/usr/{bin,sbin,lib,lib64} "$ROOT"/{etc,tmp,root,home/node,var/tmp,proc,sys,dev,run}
ln -s usr/bin "$ROOT/bin"
ln -s usr/sbin "$ROOT/sbin"
ln -s usr/lib "$ROOT/lib"
ln -s usr/lib64 "$ROOT/lib64"
chmod 1777 "$ROOT/tmp" "$ROOT/var/tmp"

# Node and its libraries, plus the loader.
copy_with_libs "$NODE_BIN"
copy_file /lib64/ld-linux-x86-64.so.2
[[ "$NODE_BIN" == /usr/bin/node ]] || ln -sf "$NODE_BIN" "$ROOT/usr/bin/node"

# A shell and a few tools (for `docker exec`, healthchecks, debugging).
copy_with_libs /usr/bin/dash
ln -sf dash "$ROOT/usr/bin/sh"
for tool in cat ls sleep env id mkdir rm chmod chown echo true false kill ps hostname; do
  p="$(command -v "$tool" 2>/dev/null || true)"
  if [[ -n "$p" && "$p" == /* ]]; then
    real="$(readlink -f "$p")"
    copy_with_libs "$real"
    if [[ "$(basename "$real")" != "$tool" ]]; then
      ln -sf "$(basename "$real")" "$ROOT$(dirname "$real")/$tool"
    fi
  fi
done

# iptables (nft backend) and its modules, for partitions inside a container
# (the container needs cap_add NET_ADMIN).
XT="$(readlink -f /usr/sbin/xtables-nft-multi 2>/dev/null || true)"
if [[ -n "$XT" && -x "$XT" ]]; then
  copy_with_libs "$XT"
  for name in iptables iptables-nft iptables-save iptables-restore ip6tables ip6tables-nft \
    iptables-nft-save iptables-nft-restore; do
    ln -sf xtables-nft-multi "$ROOT/usr/sbin/$name"
  done
  XTDIR=/usr/lib/x86_64-linux-gnu/xtables
  if [[ -d "$XTDIR" ]]; then
    mkdir -p "$ROOT$XTDIR"
    cp -L "$XTDIR"/*.so "$ROOT$XTDIR/"
    copy_with_libs "$XTDIR"/*.so
  fi
else
  echo "warning: iptables (nft) not found on the host: apt-get install iptables" >&2
fi
if [[ -x /usr/sbin/ip || -x /bin/ip ]]; then
  copy_with_libs "$(readlink -f "$(command -v ip)")"
  [[ -d /etc/iproute2 ]] && cp -r /etc/iproute2 "$ROOT/etc/"
else
  echo "warning: ip not found on the host: apt-get install iproute2" >&2
fi

# /etc: users, name service, CA bundle, protocol tables.
cat >"$ROOT/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
node:x:1000:1000::/home/node:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
cat >"$ROOT/etc/group" <<'EOF'
root:x:0:
node:x:1000:
nogroup:x:65534:
EOF
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$ROOT/etc/nsswitch.conf"
for f in /etc/protocols /etc/services /etc/os-release /etc/ethertypes; do
  [[ -e "$f" ]] && cp -L "$f" "$ROOT/etc/"
done
if [[ -e /etc/ssl/certs/ca-certificates.crt ]]; then
  mkdir -p "$ROOT/etc/ssl/certs"
  cp -L /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/certs/"
fi
chown 1000:1000 "$ROOT/home/node"

tar -C "$ROOT" -c . | "$DOCKER" import \
  --change 'CMD ["node"]' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=${major}" \
  --change 'LABEL org.raftseq.stand-in=true' \
  - "$TAG" >/dev/null
echo "base image $TAG: built ($(du -sh "$ROOT" | cut -f1)) with $("$NODE_BIN" --version)"
