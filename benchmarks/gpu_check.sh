#!/usr/bin/env bash
# The prepared GPU check: one call of the `device` tool (about 6-8 minutes on an H200).
#
#   device run:  bash benchmarks/gpu_check.sh          (timeout_s 540; the image's python3 holds CUDA torch)
#   here:        DEVICE=cpu SMOKE=1 bash benchmarks/gpu_check.sh     (the plumbing, in seconds)
#
# Steps, each under its own time limit so one slow step cannot cost the rest:
#   1. the CUDA tests (models match the CPU, every sampler trains on the GPU, the fused GRU runs cuDNN);
#   2. bench_grid: run_grid with 1, 2 and 4 worker processes sharing the GPU (issue 16's "many runs on one GPU");
#   3. bench_rgan and bench_scoring on the GPU;
#   4. bench_scale: a scaled `paper` profile, one real epoch, extrapolated to the paper's study.
# Everything lands in $OUT/cuda.tar.gz (results .md/.json, logs, STAMP). Replace the stored GPU
# results with it (STAMP labels every file in the folder, so none of an older run may stay):
#   rm -rf benchmarks/results/cuda && tar -xzf <files_at>/cuda.tar.gz -C benchmarks/results
# then `python benchmarks/run_all.py --only study` (or any section) rebuilds the targets table
# with the GPU rows.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/tacr-gpu-check}
DEVICE=${DEVICE:-cuda}
PY=${PY:-python3}
RES="$OUT/cuda"
mkdir -p "$RES"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 MPLBACKEND=Agg
smoke() { [ -n "${SMOKE:-}" ] && echo "$1" || echo "$2"; }
step() {  # step NAME SECONDS COMMAND...
    local name=$1 limit=$2; shift 2
    local t0=$SECONDS
    echo "== $name (limit ${limit}s)"
    timeout "$limit" "$@" >"$RES/$name.log" 2>&1
    local rc=$?
    echo "   rc $rc in $((SECONDS - t0)) s"; tail -n 4 "$RES/$name.log" | sed 's/^/   /'
}
$PY -c "import torch; print('torch', torch.__version__, '| device', torch.cuda.get_device_name() if torch.cuda.is_available() else 'cpu only')" \
    | tee "$RES/env.txt"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader >>"$RES/env.txt" 2>/dev/null

step tests "$(smoke 60 120)" $PY -m pytest -q -p no:cacheprovider tests/test_models.py tests/test_train.py -k "cuda or fused"
step grid "$(smoke 60 240)" $PY benchmarks/bench_grid.py --device "$DEVICE" $(smoke "--smoke" "--runs 8 --epochs 3 --workers 1,2,4") \
    --out "$RES/grid_$DEVICE.md"
step rgan "$(smoke 60 90)" $PY benchmarks/bench_rgan.py --device "$DEVICE" $(smoke "--smoke" "--reps 3 --ref-positives 20") \
    --out "$RES/rgan_$DEVICE.md"
step scoring "$(smoke 60 60)" $PY benchmarks/bench_scoring.py --devices "$DEVICE" $(smoke "--smoke" "--reps 3") \
    --out "$RES/scoring_$DEVICE.md"
step scale "$(smoke 60 150)" $PY benchmarks/bench_scale.py --device "$DEVICE" \
    $(smoke "--scale 0.002 --step-batch 200 --reps 1" "--scale 0.1") --out "$RES/scale_$DEVICE.md"
$PY - "$RES/STAMP" <<'EOF'
import sys, datetime, torch, tacr
name = torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU"
open(sys.argv[1], "w").write(f"Measured on {name} on {datetime.date.today()} (tacr {tacr.__version__}, torch {torch.__version__}; "
                             "benchmarks/gpu_check.sh).\n")
EOF
tar -czf "$OUT/cuda.tar.gz" -C "$OUT" cuda && echo "wrote $OUT/cuda.tar.gz"
