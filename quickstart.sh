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
  # the editable install follows code changes; only a changed pyproject.toml needs pip again
  local stamp="$VENV/.latbench-setup" want
  want="torch==2.13.0 torchvision==0.28.0 $(sha256sum pyproject.toml | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return
  fi
  # torch first, pinned: pip takes a CPU wheel of it where it finds one (wheel cache,
  # find-links, an extra index) instead of pulling a multi-GB CUDA build through the loose
  # `torch>=2.1` requirement of the package; from PyPI alone, Linux gets the CUDA build.
  # torchvision pinned beside it (the `models` extra): an unpinned one would pull a newer torch.
  "$VENV/bin/python" -m pip install -q torch==2.13.0 torchvision==0.28.0
  # the test suite also covers fleet runs on a local Ray (the optional `ray` extra) and
  # users' timm / torchvision networks (the optional `models` extra)
  "$VENV/bin/python" -m pip install -q -e ".[test,ray,models]"
  echo "$want" > "$stamp"
}

main_job() {
  # The main job on the CPU with the repeatable protocol (the default of profile and
  # measure-nets: one thread on the per-thread CPU clock, 20 interleaved rounds with a drift
  # reference network; fitted on the drift-corrected fastest sample; every table shares the ops
  # table's drift scale through --drift-from):
  # profile a search space -> measure whole networks -> fit -> evaluate -> predict -> validate.
  local lb="$VENV/bin/latbench" space=${LATBENCH_SPACE:-nasbench201}
  # one folder per space: a second space never appends to the first one's tables
  local out=${LATBENCH_OUT:-out/quickstart/$space}
  local cpu=(--device cpu --threads 1) rounds=(--rounds 20 --drift-from "$out/ops.csv")
  mkdir -p "$out"
  "$lb" devices
  "$lb" spaces
  # 1. per-op latency table of the space (crash-safe: re-running resumes)
  "$lb" profile "$space" --size small "${cpu[@]}" --rounds 20 --table "$out/ops.csv"
  "$lb" show "$out/ops.csv" --limit 10
  # 2. whole networks measured as a whole: 60 to calibrate on, 40 held out (measured twice: noise floor)
  "$lb" measure-nets "$space" --size small --n 60 --seed 0 "${cpu[@]}" "${rounds[@]}" --table "$out/nets-train.csv"
  "$lb" measure-nets "$space" --size small --n 40 --seed 1 --repeat 2 "${cpu[@]}" "${rounds[@]}" \
    --table "$out/nets-test.csv"
  # 3. fit: op lookup table + calibration on measured networks; saved as checksummed JSON
  "$lb" fit "$out/ops.csv" --networks "$out/nets-train.csv" --stat min-corrected -o "$out/predictor.json"
  # 4. accuracy on the held-out networks, beside the measurement's own noise floor
  "$lb" evaluate "$out/predictor.json" "$out/nets-test.csv" --plot "$out/eval.png"
  # 5. predictions for new networks of the space
  "$lb" predict "$out/predictor.json" --space "$space" --size small --n 5 --seed 7 --threads 1
  # 6. validate one architecture as deployed (PyTorch and ONNX Runtime CPU) against the RT-DNAS budget
  "$lb" validate "$space:7:small" --backend torch,ort "${cpu[@]}" --predictor "$out/predictor.json" \
    --budget-ms 50 --min-fps 22 --out "$out/validate"
  echo "quickstart done: tables, predictor, plot and reports are in $out/"
  echo "latbench is installed in $VENV: run 'source $VENV/bin/activate' to put it on PATH" \
    "(or call $VENV/bin/latbench)"
  echo "next: README.md's five-minute tour runs these steps one by one;" \
    "LATBENCH_SPACE=msnas ./quickstart.sh runs them on another space (latbench spaces lists them);" \
    "docs/models.md profiles and predicts your own model"
}

case "${1:-run}" in
  run) setup; main_job ;;
  # two pytest-xdist workers (the CI machine has 2 cores); a test module runs on one worker,
  # so the Ray tests share one local Ray
  test) setup; "$VENV/bin/ruff" check --quiet && "$VENV/bin/ruff" format --check --quiet &&
        echo "ruff: no lint errors, formatted" &&
        "$VENV/bin/mypy" && "$VENV/bin/python" -m pytest -q -n 2 --dist loadfile ;;
  setup) setup; echo "latbench is installed in $VENV: 'source $VENV/bin/activate' puts it on PATH" ;;
  *) echo "usage: $0 [run|test|setup]" >&2; exit 2 ;;
esac
