#!/usr/bin/env bash
# latbench quickstart. Two commands on a fresh machine:
#   ./quickstart.sh        set up .venv, then profile -> fit -> predict -> validate on the CPU
#   ./quickstart.sh test   set up .venv, then run the test suite
set -euo pipefail
cd "$(dirname "$0")"
VENV=${LATBENCH_VENV:-.venv}

setup() {
  if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
  fi
  # torch first, pinned: it takes the CPU build already on the machine instead of pulling a
  # multi-GB CUDA build through the loose `torch>=2.1` requirement of the package.
  "$VENV/bin/python" -m pip install -q torch==2.13.0
  "$VENV/bin/python" -m pip install -q -e ".[test]"
}

main_job() {
  local lb="$VENV/bin/latbench" out=${LATBENCH_OUT:-out/quickstart}
  mkdir -p "$out"
  "$lb" devices
  "$lb" spaces
  # 1. profile the NAS-Bench-201 space on the CPU (resumes if interrupted)
  "$lb" profile nasbench201 --size small --table "$out/ops.csv"
  "$lb" show "$out/ops.csv" --limit 10
}

case "${1:-run}" in
  run) setup; main_job ;;
  test) setup; "$VENV/bin/python" -m pytest -q ;;
  setup) setup ;;
  *) echo "usage: $0 [run|test|setup]" >&2; exit 2 ;;
esac
