#!/usr/bin/env bash
# Regenerate every table and figure of the replication, or run the test suite.
#
#   ./run_all.sh                         every notebook on the embedded default (quick profile)
#   ./run_all.sh -p dataset taobao -p data_dir ~/data/taobao -p profile paper
#                                        extra papermill arguments go to every notebook
#   ./run_all.sh --only 03               only the notebooks whose name contains "03"
#   ./run_all.sh --tests [PYTEST ARGS]   the whole test suite
#
# When `tacr` is not importable, a virtual environment is made in .venv first (CPU torch).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
ROOT=$(pwd)

find_python() {
  if [ -x "$ROOT/.venv/bin/python" ] && (cd / && "$ROOT/.venv/bin/python" -c "import tacr, papermill, pytest") 2>/dev/null; then
    echo "$ROOT/.venv/bin/python"; return
  fi
  local sys_py
  sys_py=$(command -v python3 || command -v python || true)
  if [ -n "$sys_py" ] && (cd / && "$sys_py" -c "import tacr, papermill, pytest, torch") 2>/dev/null; then
    echo "$sys_py"; return
  fi
}

bootstrap() {
  local base_py
  base_py=$(command -v python3.11 || command -v python3 || command -v python)
  echo ">> tacr is not importable: creating $ROOT/.venv with $($base_py --version)" >&2
  "$base_py" -m venv "$ROOT/.venv"
  "$ROOT/.venv/bin/python" -m pip install --quiet --upgrade pip
  # the CPU wheel first, so the package's torch requirement is already met (no CUDA download)
  "$ROOT/.venv/bin/python" -m pip install --quiet "torch==2.13.0"
  "$ROOT/.venv/bin/python" -m pip install --quiet -e "$ROOT[dev]"
}

PY=$(find_python)
if [ -z "$PY" ]; then
  bootstrap
  PY=$(find_python)
  [ -n "$PY" ] || { echo "bootstrap failed: tacr still not importable" >&2; exit 1; }
fi
export MPLBACKEND=Agg PYTHONHASHSEED=0

if [ "${1:-}" = "--tests" ]; then
  shift
  exec "$PY" -m pytest "$@"
fi

ONLY=""
if [ "${1:-}" = "--only" ]; then ONLY=$2; shift 2; fi

OUT="$ROOT/outputs/notebooks"
mkdir -p "$OUT" "$ROOT/figures"
start=$(date +%s)
for src in "$ROOT"/notebooks/[0-9][0-9]_*.py; do
  name=$(basename "$src" .py)
  if [ -n "$ONLY" ] && [[ "$name" != *"$ONLY"* ]]; then continue; fi
  echo ">> $name" >&2
  t0=$(date +%s)
  "$PY" -m jupytext --quiet --to ipynb --output "$OUT/$name.input.ipynb" "$src"
  if ! "$PY" -m papermill --cwd "$ROOT" --kernel python3 --language python --log-level WARNING --no-progress-bar \
      "$OUT/$name.input.ipynb" "$OUT/$name.ipynb" "$@"; then
    echo "FAILED: notebook $name (see $OUT/$name.ipynb)" >&2
    exit 1
  fi
  rm -f "$OUT/$name.input.ipynb"
  echo "   $name done in $(( $(date +%s) - t0 )) s" >&2
done
elapsed=$(( $(date +%s) - start ))
echo ">> all notebooks done in $elapsed s; figures in $ROOT/figures, notebooks in $OUT" >&2
# the results block: always outputs/RESULTS.md; the README's too for a default run (every notebook, no parameters)
if [ -z "$ONLY" ] && [ $# -eq 0 ]; then
  "$PY" -m tacr.report --figures "$ROOT/figures" --seconds "$elapsed" --out "$ROOT/outputs/RESULTS.md" --readme "$ROOT/README.md"
elif [ -z "$ONLY" ]; then
  "$PY" -m tacr.report --figures "$ROOT/figures" --seconds "$elapsed" --out "$ROOT/outputs/RESULTS.md" || true
fi
