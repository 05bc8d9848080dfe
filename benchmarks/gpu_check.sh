#!/usr/bin/env bash
# The GPU check in one command, for a session that has a GPU (give the device call a timeout of
# at least the steps' limits below added up):
#
#   bash benchmarks/gpu_check.sh
#   DEVICE=cpu SMOKE=1 PY=.venv/bin/python OUT=/tmp/gc bash benchmarks/gpu_check.sh   # the plumbing, on CPU
#
# Steps, each under its own time limit so one slow step cannot cost the rest: the CUDA tests;
# run_grid with 1, 2 and 4 workers sharing the GPU; the rGAN step and scoring on the GPU; a
# scaled `paper` profile's epoch, extrapolated to the full profile (bench_data.py --scale).
# Everything lands in $OUT/cuda.tar.gz (results .md/.json, logs, STAMP). To store it:
#   rm -rf benchmarks/results/cuda && tar -xzf <files_at>/cuda.tar.gz -C benchmarks/results
#   python benchmarks/run_all.py --only cuda      # rebuilds docs/performance.md with it
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
    echo "   rc $? in $((SECONDS - t0)) s"; tail -n 4 "$RES/$name.log" | sed 's/^/   /'
}
$PY -c "import torch; print('torch', torch.__version__, '| device', torch.cuda.get_device_name() if torch.cuda.is_available() else 'cpu only')" \
    | tee "$RES/env.txt"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader >>"$RES/env.txt" 2>/dev/null

step tests "$(smoke 120 120)" $PY -m pytest -q -p no:cacheprovider tests/test_models.py tests/test_train.py -k "cuda or fused"
step grid "$(smoke 60 240)" $PY benchmarks/bench_grid.py --device "$DEVICE" $(smoke "--smoke" "--runs 8 --workers 1,2,4") \
    --out "$RES/grid.md"
step rgan "$(smoke 60 90)" $PY benchmarks/bench_rgan.py --device "$DEVICE" $(smoke "--smoke" "--ref-positives 20") \
    --out "$RES/rgan.md"
step scoring "$(smoke 60 60)" $PY benchmarks/bench_scoring.py --device "$DEVICE" $(smoke "--smoke" "") --out "$RES/scoring.md"
step scale "$(smoke 60 180)" $PY benchmarks/bench_data.py --device "$DEVICE" --scale "$(smoke 0.002 0.1)" --out "$RES/scale.md"
$PY - "$RES/STAMP" <<'EOF'
import sys, datetime, torch, tacr
name = torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU"
open(sys.argv[1], "w").write(f"Measured on {name} on {datetime.date.today()} (tacr {tacr.__version__}, torch {torch.__version__}; "
                             "benchmarks/gpu_check.sh).\n")
EOF
tar -czf "$OUT/cuda.tar.gz" -C "$OUT" cuda && echo "wrote $OUT/cuda.tar.gz"
