#!/usr/bin/env bash
# Cross-check metricflow's analytic ReLU/erf/gelu NNGP/NTK against neural-tangents'
# stax kernels (issue 5).  neural-tangents 0.6.5 imports only with jax<0.5 and
# TensorFlow, so it runs in a SEPARATE virtual environment (.venv-nt) that never
# touches .venv.  metricflow is not installed there: the check puts the repository
# on PYTHONPATH and imports only metricflow.kernels.mlp (numpy + jax).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${NT_VENV:-.venv-nt}
# neural-tangents declares a dependency on the full `tensorflow` wheel; the CPU-only
# `tensorflow-cpu` provides the same `tensorflow` module, so neural-tangents and tf2jax are
# installed without their declared dependencies and those are listed here instead.
PINS=(
  "jax==0.4.30" "jaxlib==0.4.30"          # jax<0.5, a release neural-tangents 0.6.5 imports with
  "tensorflow-cpu==2.17.1"                # resolves on Python 3.11; needs numpy<2
  "numpy<2" "scipy<1.14" "frozendict" "absl-py" "dm-tree"
)
NODEPS=("neural-tangents==0.6.5" "tf2jax==0.3.6")
STAMP="$VENV/.nt-installed"
WANT="${PINS[*]} ${NODEPS[*]}"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then   # (re)install when pins change
  test -x "$VENV/bin/python" || "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet "${PINS[@]}"
  "$VENV/bin/python" -m pip install --quiet --no-deps "${NODEPS[@]}"
  printf '%s' "$WANT" > "$STAMP"
fi
export TF_CPP_MIN_LOG_LEVEL=3 JAX_PLATFORMS=cpu
PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" "$VENV/bin/python" tests/nt_crosscheck/crosscheck.py "$@"
