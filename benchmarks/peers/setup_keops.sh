#!/usr/bin/env bash
# The KeOps venv for benchmarks/kernel_sum_keops.py: ${PEERS_DIR:-/work/peers}/keops, made with
# ${PYTHON:-python3} (3.11 here) from requirements-keops.txt (PyPI; needs a C++ compiler and cmake:
# KeOps compiles each formula on first use into ~/.cache/keops*). Re-running is a no-op once installed.
#   bash benchmarks/peers/setup_keops.sh
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
PEERS_DIR=${PEERS_DIR:-/work/peers}
PYTHON=${PYTHON:-python3}
venv="$PEERS_DIR/keops"
stamp="$venv/.installed"
want=$(sha256sum "$HERE/requirements-keops.txt" | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
"$PYTHON" -m venv "$venv"
"$venv/bin/pip" install --quiet -r "$HERE/requirements-keops.txt"
"$venv/bin/python" -c "import pykeops; pykeops.test_numpy_bindings()"
echo "$want" > "$stamp"
