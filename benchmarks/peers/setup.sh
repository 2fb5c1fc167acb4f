#!/usr/bin/env bash
# One virtual environment per peer package (cyjax, cymyc, cymetric) under
# ${PEERS_DIR:-/work/peers}, for benchmarks/peers_compare.py:
#   $PEERS_DIR/<name>/            the venv (made with ${PYTHON:-python3}; pinned on 3.11)
#   $PEERS_DIR/<name>/.installed  stamp: commit and requirement file's checksum (re-run = no-op)
#   $PEERS_DIR/<name>.failed      why the install failed (peers_compare.py reports it and moves on)
#   $PEERS_DIR/src/<name>/        the peer's source at the commit pinned in PINS
# Each peer is installed from its public repository at the commit in PINS, with --no-deps,
# on top of its dependencies pinned in requirements-<name>.txt (from PyPI). The source comes
# from a local git mirror ($PEERS_MIRRORS/<owner>+<name>/repo, as made by this project's
# sessions) when there is one, otherwise from a clone of https://github.com/<owner>/<name>.
# Only the listed paths are exported for cymetric: its notebooks/ hold a large data blob
# that is not needed (and is missing from some mirrors).
#   bash benchmarks/peers/setup.sh [name ...]      (default: all three)
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
PEERS_DIR=${PEERS_DIR:-/work/peers}
PYTHON=${PYTHON:-python3}
MIRRORS=${PEERS_MIRRORS:-/work/.mirror}
mkdir -p "$PEERS_DIR/src"
status=0

fetch_source() {  # name repo commit paths -> $PEERS_DIR/src/name
  local name=$1 repo=$2 commit=$3 paths=$4 dest="$PEERS_DIR/src/$1"
  local mirror="$MIRRORS/${repo/\//+}/repo"
  rm -rf "$dest" && mkdir -p "$dest"
  if [ "$paths" = "." ]; then paths=""; else paths=${paths//,/ }; fi
  if [ -d "$mirror" ]; then
    # shellcheck disable=SC2086  # the paths are separate arguments
    git --git-dir="$mirror" archive "$commit" $paths | tar -x -C "$dest"
  else
    git clone --quiet "https://github.com/$repo" "$dest.clone" && git -C "$dest.clone" checkout --quiet "$commit" \
      && if [ -z "$paths" ]; then cp -a "$dest.clone/." "$dest/"; else (cd "$dest.clone" && cp -a $paths "$dest/"); fi \
      && rm -rf "$dest.clone" "$dest/.git"
  fi
}

install_peer() {  # name repo commit paths
  local name=$1 repo=$2 commit=$3 paths=$4 venv="$PEERS_DIR/$1" req="$HERE/requirements-$1.txt"
  local want log="$PEERS_DIR/install-$1.log"
  want="$repo $commit $(sha256sum "$req" | cut -c1-16) $($PYTHON -c 'import sys; print(sys.version.split()[0])')"
  if [ -f "$venv/.installed" ] && [ "$(cat "$venv/.installed")" = "$want" ]; then
    echo "$name: already installed ($commit)"; return 0
  fi
  echo "$name: installing $repo@$commit into $venv (log: $log)"
  rm -f "$PEERS_DIR/$name.failed" "$venv/.installed"
  if fetch_source "$name" "$repo" "$commit" "$paths" >"$log" 2>&1 \
     && { test -x "$venv/bin/python" || "$PYTHON" -m venv "$venv"; } >>"$log" 2>&1 \
     && "$venv/bin/python" -m pip install --quiet --upgrade pip >>"$log" 2>&1 \
     && "$venv/bin/python" -m pip install --quiet -r "$req" >>"$log" 2>&1 \
     && "$venv/bin/python" -m pip install --quiet --no-deps "$PEERS_DIR/src/$name" >>"$log" 2>&1 \
     && "$venv/bin/python" -c "import $name" >>"$log" 2>&1; then
    printf '%s' "$want" >"$venv/.installed"
    echo "$name: ok"
  else
    { echo "$repo@$commit with $PYTHON: $(tail -n 5 "$log" | tr '\n' ' ')"; } >"$PEERS_DIR/$name.failed"
    echo "$name: FAILED, see $PEERS_DIR/$name.failed"; status=1
  fi
}

want_names=("$@")
while read -r name repo commit paths; do
  case "$name" in ''|'#'*) continue ;; esac
  if [ ${#want_names[@]} -gt 0 ] && [[ ! " ${want_names[*]} " == *" $name "* ]]; then continue; fi
  install_peer "$name" "$repo" "$commit" "$paths"
done <"$HERE/PINS"
exit $status
