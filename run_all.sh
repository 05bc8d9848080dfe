#!/usr/bin/env bash
# Regenerate every table and figure of the replication, run the test suite, or open JupyterLab.
#
#   ./run_all.sh                         every notebook on the embedded default (study profile)
#   ./run_all.sh -p dataset taobao -p data_dir ~/data/taobao -p profile paper
#                                        papermill parameters (-p, -r, -y, -f) go to every notebook
#                                        that declares them; an unknown name stops the run
#   ./run_all.sh --only 03               only the notebooks whose name contains "03"
#   ./run_all.sh --check [ARGS]          check the arguments and print the plan; run nothing
#   ./run_all.sh --tests [PYTEST ARGS]   the whole test suite
#   ./run_all.sh --lab [JUPYTER ARGS]    JupyterLab in notebooks/, the .py files open as notebooks
#
# When `tacr` is not importable, a virtual environment is made in .venv first (CPU torch).
# Ctrl-C or a TERM ends every process the run started, papermill's kernels and their workers too.
set -euo pipefail
CALLER_DIR=$(pwd)  # a relative -f parameters file is the caller's
cd "$(dirname "${BASH_SOURCE[0]}")"
ROOT=$(pwd)

has_modules() {  # python, modules...: all installed (found, not imported: fast)
  local py=$1; shift
  (cd / && "$py" -c "import sys, importlib.util as u; sys.exit(not all(u.find_spec(m) for m in sys.argv[1:]))" "$@") 2>/dev/null
}

find_python() {
  if [ -x "$ROOT/.venv/bin/python" ] && has_modules "$ROOT/.venv/bin/python" tacr papermill pytest yaml; then
    echo "$ROOT/.venv/bin/python"; return
  fi
  local sys_py
  sys_py=$(command -v python3 || command -v python || true)
  if [ -n "$sys_py" ] && has_modules "$sys_py" tacr papermill pytest yaml torch; then
    echo "$sys_py"; return
  fi
}

bootstrap() {
  local base_py
  base_py=$(command -v python3.11 || command -v python3 || command -v python)
  echo ">> tacr is not importable: creating $ROOT/.venv with $($base_py --version)" >&2
  "$base_py" -m venv "$ROOT/.venv"
  "$ROOT/.venv/bin/python" -m pip install --quiet --upgrade pip
  # torch first, pinned, so the package's requirement is met by it (a CPU wheel where the index serves
  # one; from plain PyPI, make .venv with the CPU index first: docs/running.md)
  "$ROOT/.venv/bin/python" -m pip install --quiet "torch==2.13.0"
  "$ROOT/.venv/bin/python" -m pip install --quiet -e "$ROOT[dev,lab]"
}

PY=$(find_python)
if [ -z "$PY" ]; then
  bootstrap
  PY=$(find_python)
  [ -n "$PY" ] || { echo "bootstrap failed: tacr still not importable" >&2; exit 1; }
fi
export MPLBACKEND=Agg PYTHONHASHSEED=0

case "${1:-}" in
  --tests) shift; exec "$PY" -m pytest "$@" ;;
  --lab) shift
    if ! has_modules "$PY" jupyterlab && [ "$PY" = "$ROOT/.venv/bin/python" ]; then  # a .venv made before the lab extra
      echo ">> installing JupyterLab into .venv (the lab extra)" >&2
      "$PY" -m pip install --quiet -e "$ROOT[lab]"
    fi
    exec "$PY" "$ROOT/tacr/_runall.py" lab "$@" ;;
esac

# run_all.sh's own options (anywhere); the rest goes to papermill
ONLY="" CHECK=0 ARGS=() skip=0
while [ $# -gt 0 ]; do
  if [ "$skip" -gt 0 ]; then ARGS+=("$1"); skip=$((skip - 1)); shift; continue; fi
  case "$1" in
    --only) [ $# -ge 2 ] || { echo "run_all.sh: --only needs a name (e.g. --only 03)" >&2; exit 2; }
            ONLY=$2; shift 2; continue ;;
    --check|--dry-run) CHECK=1; shift; continue ;;
    --tests|--lab) echo "run_all.sh: $1 must come first" >&2; exit 2 ;;
    -p|--parameters|-r|--parameters_raw) skip=2 ;;
    -y|--parameters_yaml|-f|--parameters_file|-b|--parameters_base64) skip=1 ;;
  esac
  ARGS+=("$1"); shift
done
set -- ${ARGS[@]+"${ARGS[@]}"}

OUT="$ROOT/outputs/notebooks"
mkdir -p "$OUT"
# every parameter name is checked against the notebooks' parameters cells before anything runs;
# each notebook gets only the parameters it declares (papermill would warn about the others),
# from a parameters file of this run's own
RUNALL="$ROOT/tacr/_runall.py"  # run as a file: no package import, quick
PLAN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tacr-run.XXXXXX")
trap 'rm -rf "$PLAN_DIR"' EXIT
PLAN=$("$PY" "$RUNALL" plan --base "$CALLER_DIR" ${ONLY:+--only "$ONLY"} "$PLAN_DIR" -- "$@") || exit 2
PM_ARGS=() NAMES=() SOURCES=() PARAMS=()
while IFS= read -r -d '' a; do PM_ARGS+=("$a"); done < "$PLAN_DIR/papermill.args"
SHOWN=() FIG="" PAGE="" KEPT=""
while IFS=$'\t' read -r name src params shown; do
  if [ "$name" = outputs ]; then  # where results go: decided once (tacr.profiles.outputs)
    FIG=$src KEPT=$shown; [ "$params" = - ] || PAGE=$params; continue
  fi
  NAMES+=("$name"); SOURCES+=("$src"); PARAMS+=("$params"); SHOWN+=("$shown")
done <<< "$PLAN"

if [ "$CHECK" = 1 ]; then
  echo ">> plan (nothing is run):"
  for i in "${!NAMES[@]}"; do
    echo "   ${NAMES[$i]}: ${SHOWN[$i]}"
  done
  [ ${#PM_ARGS[@]} -eq 0 ] || echo "   papermill options: ${PM_ARGS[*]}"
  echo "   figures and tables: $FIG${PAGE:+ (rewrites the committed $PAGE results)}"
  echo "   executed notebooks: $KEPT"
  exit 0
fi

CHILD=""
on_signal() {  # end the running notebook's process tree (the supervisor kills kernels and workers)
  trap - INT TERM
  echo ">> interrupted: stopping every process of this run" >&2
  if [ -n "$CHILD" ]; then kill -TERM "$CHILD" 2>/dev/null || true; wait "$CHILD" 2>/dev/null || true; fi
  exit "$1"
}
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

export TACR_FIGURES="$FIG"  # every notebook writes where the plan decided
start=$(date +%s)
for i in "${!NAMES[@]}"; do
  name=${NAMES[$i]} src=${SOURCES[$i]} params=${PARAMS[$i]}
  echo ">> $name" >&2
  t0=$(date +%s)
  "$PY" -m jupytext --quiet --to ipynb --output "$OUT/$name.input.ipynb" "$src"
  # in the background, so that a signal reaches the trap at once instead of after the notebook
  "$PY" "$RUNALL" supervise -- "$PY" -m papermill --cwd "$ROOT" --kernel python3 --language python \
      --log-level WARNING --no-progress-bar "$OUT/$name.input.ipynb" "$OUT/$name.ipynb" \
      -f "$params" ${PM_ARGS[@]+"${PM_ARGS[@]}"} &
  CHILD=$!
  rc=0
  wait "$CHILD" || rc=$?
  CHILD=""
  if [ "$rc" -eq 130 ] || [ "$rc" -eq 143 ]; then
    echo ">> interrupted: notebook $name stopped, with every process of this run" >&2
    exit "$rc"
  elif [ "$rc" -ne 0 ]; then
    echo "FAILED: notebook $name (exit $rc; executed notebook: $OUT/$name.ipynb)" >&2
    "$PY" "$RUNALL" error "$OUT/$name.ipynb" >&2 || true
    exit 1
  fi
  rm -f "$OUT/$name.input.ipynb"
  # the executed notebook, outputs included, where readers open it (a committed run's: notebooks/executed/)
  "$PY" "$RUNALL" keep "$OUT/$name.ipynb" "$KEPT/$name.ipynb"
  echo "   $name done in $(( $(date +%s) - t0 )) s" >&2
done
elapsed=$(( $(date +%s) - start ))

echo ">> notebooks done in $elapsed s; figures and tables in $FIG, executed notebooks in $KEPT" >&2
# the results block: always outputs/RESULTS.md; the committed page too when this run rewrote
# a dataset's committed results at its defaults (every notebook)
if [ -z "$ONLY" ]; then
  "$PY" -m tacr.report --figures "$FIG" --seconds "$elapsed" --out "$ROOT/outputs/RESULTS.md" ${PAGE:+--page "$PAGE"}
  [ -n "$PAGE" ] || echo ">> results block of this run: $ROOT/outputs/RESULTS.md (committed pages unchanged)" >&2
fi
