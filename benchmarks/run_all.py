"""Run the benchmarks and write ``docs/performance.md``: the targets table, then each section's table.

    python benchmarks/run_all.py                  # --quick: the sections marked quick below
    python benchmarks/run_all.py --full           # every section
    python benchmarks/run_all.py --smoke          # every section at its smallest setting, into a temporary folder
    python benchmarks/run_all.py --only scoring,rgan

Each section is one script run in its own process; it writes ``benchmarks/results/<name>.md`` and
``<name>.json`` (with the tacr version, date and machine). A section not run shows its stored
files, labelled with the version and date that produced them; the targets table is built from the
JSON files by the records in ``TARGETS``.
"""
from __future__ import annotations

import argparse
import json
import operator
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from common import RESULTS, ROOT, SMOKE_DIR, machine_line, table

from tacr.files import atomic_write_text

PAGE = ROOT / "docs" / "performance.md"
#: name: (script, --quick arguments (None: show the stored result), --full arguments, --smoke arguments)
SECTIONS = {
    "scoring": ("bench_scoring.py", ["--rows", "65536"], [], ["--smoke"]),
    "rgan": ("bench_rgan.py", ["--batches", "1000,4400"], [], ["--smoke"]),
    "micro": ("bench_micro.py", [], ["--alloc-reps", "3", "--alloc-batch", "4400"], ["--smoke"]),
    "data": ("bench_data.py", [], [], ["--smoke"]),
    "data_paper": ("bench_data.py", None, ["--profiles", "paper", "--epoch"], ["--profiles", "smoke", "--epoch"]),
    "grid": ("bench_grid.py", [], ["--runs", "6"], ["--smoke"]),
    "peer": ("bench_peer.py", [], ["--epochs", "3"], ["--smoke"]),
    "peer_ml100k": ("bench_peer.py", None, ["--dataset", "movielens-100k"], ["--dataset", "movielens-100k", "--smoke"]),
    "taobao": ("bench_taobao.py", None, [], ["--smoke"]),
    "study": ("bench_study.py", None, None, ["--smoke"]),  # reads a recorded study: --study-time
    "install": ("bench_study.py", None, None, None),  # ./run_all.sh --check in a fresh clone: making .venv
    "study_smoke": ("bench_study.py", None, None, None),  # ./run_all.sh -p profile smoke / quick: stored only
    "study_quick": ("bench_study.py", None, None, None),
    "study_ml100k": ("bench_study.py", None, None, None),  # the MovieLens-100K study's record: stored only
    "tuning_synthetic": ("bench_study.py", None, None, None),  # the tuning runs' records (00_tuning -p retune True)
    "tuning_ml100k": ("bench_study.py", None, None, None),
    "cuda": ("gpu_check.sh", [], [], []),  # runs where torch sees a GPU; else the stored results/cuda/
}
#: (target, results file, figure: a dotted key of its JSON, rule it must meet ("": reported), how it reads)
TARGETS = [
    ("scoring: dedup >= 3x the per-impression forward (time-aware, CPU)", "scoring", "dedup_over_plain.time_aware",
     ">= 3", "{:.1f}x"),
    ("rGAN step >= 20x one positive at a time (CPU)", "rgan", "best_vs_per_positive", ">= 20", "{:.1f}x"),
    ("tacr's DIN trains at least as fast as deepctr-torch's (synthetic, CPU)", "peer",
     "peer_over_tacr_train_time.synthetic", ">= 1", "deepctr-torch takes {:.2f}x tacr's time"),
    ("tacr's DIN, loader defaults: val-selected test AUC >= deepctr-torch's - 0.005 (MovieLens-100K)", "peer_ml100k",
     "tacr_minus_peer.default", ">= -0.005", "{:+.4f}"),
    ("tacr's DIN, the study's real-data settings: the same", "peer_ml100k", "tacr_minus_peer.real", ">= -0.005", "{:+.4f}"),
    ("one `paper` epoch of time-aware + rGAN within 16 GB (CPU)", "data_paper", "epoch.epoch_peak_rss_gb", "< 16",
     "peak {:.2f} GB"),
    ("first install: `./run_all.sh --check` in a fresh clone (makes .venv)", "install", "wall_minutes", "",
     "{:.1f} min"),
    ("smoke profile (`./run_all.sh -p profile smoke`) on 2 cores", "study_smoke", "wall_minutes", "", "{:.1f} min"),
    ("quick profile (`./run_all.sh -p profile quick`) on 2 cores", "study_quick", "wall_minutes", "", "{:.1f} min"),
    ("default study (`./run_all.sh`) < 60 min on 2 cores", "study", "wall_minutes", "< 60", "{:.1f} min"),
    ("default study < 8 GB peak memory", "study", "peak_gb", "< 8", "{:.2f} GB"),
    ("the MovieLens-100K study (`./run_all.sh -p dataset movielens-100k`) < 2 h on 2 cores", "study_ml100k",
     "wall_minutes", "< 120", "{:.1f} min"),
    ("tuning the simulator's rows (`./run_all.sh --only 00 -p retune True`) < 2 h on 2 cores", "tuning_synthetic",
     "wall_minutes", "< 120", "{:.1f} min"),
    ("tuning MovieLens-100K's rows < 2 h on 2 cores", "tuning_ml100k", "wall_minutes", "< 120", "{:.1f} min"),
    ("Taobao's full log (26M rows) loads within 24 GB", "taobao", "peak_rss_gb", "< 24", "peak {:.1f} GB"),
    ("many runs at once: the best `run_grid` worker count on the CPU", "grid", "best_speedup", "", "{:.2f}x one worker"),
    ("one `paper` epoch on a GPU, incl. scoring valid and test", "cuda/scale", "epoch.paper_epoch_s", "", "{:.1f} s"),
    ("the study's configurations at the `paper` profile < 1 h on one GPU", ("study", "cuda/scale", "cuda/grid"),
     "paper_study_on_gpu", "< 1", "{:.1f} h"),
]
OPS = {">=": operator.ge, "<": operator.lt}


def load(folder: Path, name: str) -> dict | None:
    try:
        return json.loads((folder / f"{name}.json").read_text())
    except (OSError, ValueError):
        return None


def paper_study_on_gpu(study, scale, grid) -> float:
    """Hours: the recorded study's runs at the ``paper`` profile's seeds and epochs, each epoch as
    long as the GPU's ``paper`` epoch, divided by the best speed-up of ``run_grid`` workers on it."""
    from tacr.study import PROFILES

    st, pa = PROFILES["study"], PROFILES["paper"]
    runs = sum(pa.seeds if r["runs"] >= st.seeds else pa.sweep_seeds for r in study["table"])
    return runs * pa.train["epochs"] * scale["epoch"]["paper_epoch_s"] / 3600 / grid["best_speedup"]


def provenance(d: dict, name: str, fresh: set) -> str:
    if name in fresh:
        return "this run"
    return f"tacr {d.get('tacr_version', '?')}, {d.get('date', '?')}, {re.split(r';|, 1-min', d.get('machine', '?'))[0]}"


def targets(folder: Path, fresh: set) -> list[str]:
    rows = []
    for what, files, key, rule, how in TARGETS:
        names = [files] if isinstance(files, str) else list(files)
        docs = [load(folder, n) for n in names]
        value = None
        if all(docs):
            if key == "paper_study_on_gpu":
                value = paper_study_on_gpu(*docs)
            else:
                value = docs[0]
                for k in key.split("."):
                    value = value.get(k) if isinstance(value, dict) else None
        op, _, limit = rule.partition(" ")
        status = "not measured" if value is None else "reported" if not rule else \
            "met" if OPS[op](value, float(limit)) else "missed"
        missing = ", ".join(f"`{n}.json`" for n, d in zip(names, docs) if not d)
        rows.append([what, how.format(value) if value is not None else f"no {missing}" if missing else "not in its results", status,
                     "; ".join(f"`{n}`: {provenance(d, n, fresh)}" for n, d in zip(names, docs) if d) or "no results yet"])
    return ["## Targets", ""] + table(["target", "measured", "status", "numbers from"], rows)


def run_section(name: str, mode: str, folder: Path, opts) -> bool:
    """Run one section in ``mode``; False when it has nothing to run there (its stored files stand)."""
    script, quick, full, smoke = SECTIONS[name]
    args = {"quick": quick, "full": full, "smoke": smoke}[mode]
    if name == "study" and opts.study_time and mode != "smoke":
        args = ["--study-time", opts.study_time]
    if args is None:
        return False
    if name == "cuda":
        import torch

        if not torch.cuda.is_available():
            return False
        out = Path(tempfile.mkdtemp())
        env = {"OUT": str(out), "PY": sys.executable, **({"SMOKE": "1"} if mode == "smoke" else {})}
        subprocess.run(["bash", str(ROOT / "benchmarks" / script)], check=True, env={**os.environ, **env})
        shutil.rmtree(folder / "cuda", ignore_errors=True)
        shutil.copytree(out / "cuda", folder / "cuda")
        return True
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args, "--out", str(folder / f"{name}.md")],
                   check=True, cwd=ROOT)
    return True


def section_text(name: str, folder: Path, fresh: set, note: str) -> str:
    if name == "cuda":
        files = sorted((folder / "cuda").glob("*.md"))
        stamp = (folder / "cuda" / "STAMP").read_text().strip() if (folder / "cuda" / "STAMP").exists() else ""
        body = "\n\n".join(re.sub(r"(?m)^(#+) ", r"#\1 ", f.read_text().strip()) for f in files)
        return f"## CUDA\n\n{stamp} {note}\n\n{body or 'No GPU results yet: `bash benchmarks/gpu_check.sh` on a GPU.'}"
    path = folder / f"{name}.md"
    if not path.exists():
        return f"## {name}\n\nNo results yet. {note}"
    label = note if name in fresh else f"Stored: {provenance(load(folder, name) or {}, name, fresh)}. {note}"
    return path.read_text().strip() + f"\n\n_{label}_"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="the default")
    g.add_argument("--full", action="store_true")
    g.add_argument("--smoke", action="store_true")
    ap.add_argument("--only", default=",".join(SECTIONS), help="comma list of: " + ", ".join(SECTIONS))
    ap.add_argument("--study-time", default=None, help="a study's record (bench_study.py --record) for the study section")
    args = ap.parse_args(argv)
    mode = "full" if args.full else "smoke" if args.smoke else "quick"
    only = args.only.split(",")
    if unknown := set(only) - set(SECTIONS):
        raise SystemExit(f"unknown section(s) {sorted(unknown)}; known: {', '.join(SECTIONS)}")
    folder, page = (SMOKE_DIR / "run_all", SMOKE_DIR / "run_all" / "performance.md") if args.smoke else (RESULTS, PAGE)
    if args.smoke:
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(RESULTS / "cuda", folder / "cuda")
    t0, fresh, notes = time.perf_counter(), set(), {}
    for name in SECTIONS:
        how = ("`bash benchmarks/gpu_check.sh` on a GPU" if name == "cuda" else
               "`python benchmarks/bench_study.py --record -- ./run_all.sh ...` (see its docstring)"
               if SECTIONS[name][0] == "bench_study.py" else f"`python benchmarks/run_all.py --full --only {name}`")
        notes[name] = f"Not re-run in this run; to measure: {how}."
        if name not in only:
            continue
        print(f"== {name} ({mode})", file=sys.stderr, flush=True)
        t = time.perf_counter()
        try:
            if run_section(name, mode, folder, args):
                fresh |= {name} | ({f"cuda/{p.stem}" for p in (folder / "cuda").glob("*.json")} if name == "cuda" else set())
                notes[name] = f"Measured in this run ({time.perf_counter() - t:.0f} s)."
        except subprocess.CalledProcessError as exc:  # one failing section must not hide the others
            notes[name] = f"**Failed in this run** (exit status {exc.returncode}; its output is in run_all's log)."
    import tacr

    head = ["_Generated by `python benchmarks/run_all.py`; do not edit by hand._", "", "# Performance", "",
            "Every benchmark is a short script in `benchmarks/` that writes its table to `benchmarks/results/<name>.md` "
            "and its numbers, with the tacr version, date and machine, to `<name>.json`; this page is assembled from "
            "those files. `python benchmarks/run_all.py` runs the quick sections, `--full` every section (the `paper` "
            "profile's epoch, Taobao's full log, the MovieLens-100K peer comparison), `--smoke` each at its smallest "
            "setting into a temporary folder, `--only a,b` the named ones; `bash benchmarks/gpu_check.sh` measures the "
            "CUDA section on a GPU in one command. The machines are shared with other jobs: compare ratios measured "
            "within one run (interleaved repetitions, alternated processes), not absolute rates across runs. A "
            "section not re-run shows its stored numbers with the version and date that produced them.", "",
            f"This page: `run_all.py --{mode}" + ("" if len(only) == len(SECTIONS) else f" --only {args.only}")
            + f"`, tacr {tacr.__version__}, {datetime.now(timezone.utc):%Y-%m-%d}, {machine_line()}; "
            f"{time.perf_counter() - t0:.0f} s.", ""]
    if args.smoke:
        head += ["**Smoke run**: every section at its smallest setting; the statuses test the plumbing, not the targets.", ""]
    parts = [section_text(name, folder, fresh, notes[name]) for name in SECTIONS]
    page.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(page, "\n".join(head + targets(folder, fresh)) + "\n\n" + "\n\n".join(parts) + "\n")
    print(f"wrote {page}", file=sys.stderr)
    if any(n.startswith("**Failed") for n in notes.values()):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
