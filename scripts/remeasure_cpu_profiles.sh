#!/usr/bin/env bash
# Re-measure the committed CPU op tables of device_profiles/<slug>/ with latbench's default
# repeatable CPU protocol (1 thread on the per-thread CPU clock, 20 interleaved rounds with the
# drift reference op; every table shares nasbench201-small's drift scale through --drift-from),
# then refit the committed nasbench201-paper predictor on the new ops table.
#
#   scripts/remeasure_cpu_profiles.sh [NEW_ROOT]     (default: device_profiles.new)
#
# Tables are written under NEW_ROOT/<slug>/ (a re-run resumes them); move them over
# device_profiles/<slug>/ once you have looked at them. The memory table is a different
# protocol (training memory) and is not re-measured here.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
NEW=${1:-device_profiles.new}
lb() { "$PY" -m latbench "$@"; }
slug=$("$PY" -c "from latbench.device import fingerprint; print(fingerprint('cpu', threads=1)['slug'])")
dir="$NEW/$slug"
cpu=(--device cpu --threads 1 --budget-ms 1000 --rounds 20)

lb profile nasbench201 --size small "${cpu[@]}" --out "$NEW"
ref=(--drift-from "$dir/nasbench201-small.csv")
for space in msnas stnas-encoder stnas-decoder cakes dints dyncell ofa-mbv3; do
  lb profile "$space" --size small "${cpu[@]}" "${ref[@]}" --out "$NEW"
done
lb profile ofa-mbv3 --size paper --match '*|1x*' --sample 300 --seed 0 "${cpu[@]}" "${ref[@]}" \
  --table "$dir/ofa-mbv3-paper-b1-sample300.csv"
lb profile nasbench201 --size paper --device cpu --threads 1 --budget-ms 300 --rounds 20 \
  "${ref[@]}" --out "$NEW"
# the committed predictor: lookup on the paper ops + affine calibration on 30 whole networks
# (the networks table is not committed: 440 KB)
lb measure-nets nasbench201 --size paper --n 30 --seed 0 --device cpu --threads 1 \
  --budget-ms 600 --rounds 20 "${ref[@]}" --table "$NEW/nasbench201-paper-nets.csv"
lb fit "$dir/nasbench201-paper.csv" --networks "$NEW/nasbench201-paper-nets.csv" \
  --stat min-corrected -o "$dir/nasbench201-paper.predictor.json"
echo "new tables in $dir/; compare, then: cp $dir/* device_profiles/$slug/"
