"""The study's time: wall time and peak memory of a finished ``./run_all.sh``, and the seconds of
every run it trained, read from the run cache. Trains nothing.

Inputs (any of them; the first that gives a number wins):

* ``--wall-seconds S --peak-rss-gb G`` (or ``--peak-rss-kb K``) on the command line;
* ``--time-log FILE``: the output of GNU time, ``/usr/bin/time -v -o FILE ./run_all.sh`` (its
  "Elapsed (wall clock) time" and "Maximum resident set size (kbytes)"; the file's mtime less
  the wall time is taken as the start);
* ``outputs/study_time.json`` (``--study-time``), written by hand or by ``--record`` (below)::

      {
        "wall_seconds": 4980.0,             # required: elapsed seconds of ./run_all.sh
        "peak_rss_gb": 3.1,                 # peak resident memory, GB (2**30 bytes); or "peak_rss_kb"
        "peak_memory_kind": "max single process (GNU time)",   # what the peak measures
        "started": "2026-12-01T09:00:00Z",  # ISO 8601: selects the cache entries the study wrote
        "finished": "2026-12-01T10:23:00Z",
        "cores": 2,                          # CPU cores of the machine that ran it
        "command": "./run_all.sh",
        "cache": ".cache/runs"               # the run cache it wrote (default: $TACR_CACHE or .cache/runs)
      }

  Only ``wall_seconds`` is required. ``--record -- ./run_all.sh [ARGS]`` runs the command,
  polls its whole process tree every 2 s (sum of RSS and, where readable, of PSS over every
  process: the pool's workers and papermill's kernels run side by side) and writes that file.
  GNU time's "Maximum resident set size" is the largest *single* process of the tree, not the
  sum: with two workers the machine's peak can be about twice it.

The run cache (``--cache``; default ``$TACR_CACHE`` or ``.cache/runs``): each finished run is
``<key>.parquet``, one row per epoch with ``epoch_seconds`` (training steps + per-epoch
evaluation) and ``train_seconds``, and the config's columns (model, sampler, policy, schedule,
n_candidates, ...; ``tacr.experiments``). Runs are taken from the files written between the
start and the end of the study (file mtime; ``--since``/``--until`` override, ``--all`` takes
every file), so a cache holding older runs still gives this study's. Seconds per run = the sum
of its epochs' ``epoch_seconds``: set-up, the final test pass and the notebooks' own work are not
in it (the table says how much of wall x cores the runs account for). A rerun on a warm cache
trains nothing: measure the study on an empty run cache (``TACR_CACHE=<new folder>``).

Targets (issue 16): the default study < 90 min on 2 CPU cores and < 8 GB peak memory.

    .venv/bin/python benchmarks/bench_study.py --time-log outputs/run_all.time [--cache .cache/runs]
    .venv/bin/python benchmarks/bench_study.py --record -- ./run_all.sh       # measure and write study_time.json
    .venv/bin/python benchmarks/bench_study.py --smoke                        # seconds: a made-up cache

Writes ``benchmarks/results/study.md`` and ``study.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, fmt, out_path, stamp, table, write_atomic  # noqa: E402

STUDY_TIME = ROOT / "outputs" / "study_time.json"
TARGET_MINUTES, TARGET_GB, TARGET_CORES = 90.0, 8.0, 2
#: Config columns that tell runs of one (model, sampler) apart in the table when they vary.
VARIANT_FIELDS = ("policy", "schedule", "reward", "n_candidates", "temperature", "epochs", "d_steps_per_g",
                  "lambda_i", "lambda_h", "pretrain_epochs", "lr_d", "lr_g", "eval_rows", "tau_positives")
COLUMNS = ("run_key", "model", "sampler", "dataset", "epoch", "epoch_seconds", "train_seconds") + VARIANT_FIELDS


# ------------------------------------------------------------------------------ inputs
def parse_time_log(path: Path) -> dict:
    """Wall seconds and max RSS from GNU ``time -v`` output."""
    text = path.read_text(errors="replace")
    out = {"time_log": str(path), "peak_memory_kind": "max single process (GNU time -v)"}
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\):\s*([\d:.]+)", text)
    if m:
        secs = 0.0
        for part in m.group(1).split(":"):
            secs = secs * 60 + float(part)
        out["wall_seconds"] = secs
        finished = path.stat().st_mtime
        out["finished"] = _iso(finished)
        out["started"] = _iso(finished - secs)
    m = re.search(r"Maximum resident set size \(kbytes\):\s*(\d+)", text)
    if m:
        out["peak_rss_gb"] = int(m.group(1)) / 2**20
    m = re.search(r'Command being timed:\s*"(.*)"', text)
    if m:
        out["command"] = m.group(1)
    m = re.search(r"Exit status:\s*(\d+)", text)
    if m:
        out["exit_status"] = int(m.group(1))
    return out


def read_study_time(path: Path) -> dict:
    d = json.loads(path.read_text())
    if "wall_seconds" not in d:
        raise SystemExit(f"{path}: no 'wall_seconds' (see the schema in {Path(__file__).name})")
    if "peak_rss_gb" not in d and "peak_rss_kb" in d:
        d["peak_rss_gb"] = d["peak_rss_kb"] / 2**20
    d["source"] = str(path)
    return d


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ts(text: str | None) -> float | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


# ------------------------------------------------------------------------------ --record
def _tree(root: int) -> list[int]:
    """``root`` and every descendant, from /proc."""
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                kids.setdefault(ppid, []).append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += kids.get(p, [])
    return out


def _kb(path: str, key: str) -> int:
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def record(cmd: list[str], path: Path, every: float = 2.0) -> dict:
    """Run ``cmd``, poll its process tree's summed RSS and PSS, write ``path``; returns the record."""
    started = time.time()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd)
    peak_rss = peak_pss = 0
    try:
        while proc.poll() is None:
            pids = _tree(proc.pid)
            peak_rss = max(peak_rss, sum(_kb(f"/proc/{p}/status", "VmRSS:") for p in pids))
            peak_pss = max(peak_pss, sum(_kb(f"/proc/{p}/smaps_rollup", "Pss:") for p in pids))
            time.sleep(every)
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        proc.wait()
        raise
    wall = time.perf_counter() - t0
    rec = {"wall_seconds": wall, "exit_status": proc.returncode, "started": _iso(started), "finished": _iso(time.time()),
           "cores": os.cpu_count(), "command": " ".join(cmd),
           "cache": os.environ.get("TACR_CACHE") or str(ROOT / ".cache" / "runs"),
           "peak_rss_sum_gb": peak_rss / 2**20, "peak_pss_sum_gb": peak_pss / 2**20 if peak_pss else None,
           "peak_rss_gb": (peak_pss or peak_rss) / 2**20,
           "peak_memory_kind": f"sum of {'PSS' if peak_pss else 'RSS'} over the process tree, polled every {every:g} s"}
    write_atomic(path, json.dumps(rec, indent=1))
    print(f"wrote {path}: {json.dumps(rec)}", file=sys.stderr)
    return rec


# ------------------------------------------------------------------------------ the cache
def read_runs(folder: Path, since: float | None, until: float | None):
    """One row per run of the cache files written in [since, until]: its seconds and config."""
    import pandas as pd
    import pyarrow.parquet as pq

    rows, skipped = [], 0
    for f in sorted(folder.glob("*.parquet")):
        if f.name.startswith(".") or f.name.endswith(".scores.parquet"):
            continue
        mtime = f.stat().st_mtime
        if (since is not None and mtime < since) or (until is not None and mtime > until):
            continue
        try:
            names = set(pq.read_schema(f).names)
            if not {"epoch_seconds", "train_seconds", "model", "sampler"} <= names:
                skipped += 1
                continue
            df = pd.read_parquet(f, columns=[c for c in COLUMNS if c in names])
        except Exception:  # noqa: BLE001 - a truncated file: not this table's business
            skipped += 1
            continue
        first = df.iloc[0]
        row = {"run_key": first.get("run_key", f.stem), "file_mtime": mtime, "epochs_run": len(df),
               "run_seconds": float(df["epoch_seconds"].sum()), "train_seconds": float(df["train_seconds"].sum())}
        row.update({c: first[c] for c in ("model", "sampler", "dataset") + VARIANT_FIELDS if c in df})
        rows.append(row)
    return pd.DataFrame(rows), skipped


def variant_labels(runs) -> list[str]:
    """Per run, the VARIANT_FIELDS whose value differs from the most common one ("" for the base)."""
    fields = [c for c in VARIANT_FIELDS if c in runs and runs[c].nunique(dropna=False) > 1]
    mode = {c: runs[c].mode(dropna=False).iloc[0] for c in fields}
    return [", ".join(f"{c}={r[c]:g}" if isinstance(r[c], float) else f"{c}={r[c]}" for c in fields
                      if r[c] != mode[c]) for _, r in runs.iterrows()]


# ------------------------------------------------------------------------------ the report
def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    cmd = []
    if "--" in argv:
        i = argv.index("--")
        argv, cmd = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wall-seconds", type=float, default=None)
    ap.add_argument("--peak-rss-gb", type=float, default=None)
    ap.add_argument("--peak-rss-kb", type=float, default=None, help="as GNU time prints it")
    ap.add_argument("--cores", type=int, default=None, help="CPU cores of the study's machine (default: the record's, else this one's)")
    ap.add_argument("--time-log", default=None, help="GNU `time -v -o FILE ./run_all.sh` output")
    ap.add_argument("--study-time", default=str(STUDY_TIME), help="the JSON of the schema above")
    ap.add_argument("--record", action="store_true", help="run the command after -- and write --study-time")
    ap.add_argument("--cache", default=None, help="run cache folder (default: the record's, $TACR_CACHE or .cache/runs)")
    ap.add_argument("--since", default=None, help="ISO time: cache files written from then (default: the study's start)")
    ap.add_argument("--until", default=None, help="ISO time: cache files written until then (default: the study's end)")
    ap.add_argument("--all", action="store_true", help="every run in the cache, whenever written")
    ap.add_argument("--dataset", default=None, help="only runs whose dataset name contains this")
    ap.add_argument("--target-minutes", type=float, default=TARGET_MINUTES,
                    help="the study's time budget (default: the default study's; MovieLens-100K's is 120)")
    ap.add_argument("--target-name", default="default study", help="what the target row calls the study")
    ap.add_argument("--smoke", action="store_true", help="seconds: a made-up cache of a few runs; writes to the smoke folder")
    ap.add_argument("--out", default=None, help="default benchmarks/results/study.md")
    args = ap.parse_args(argv)
    out = out_path(args.out, "study.md", args.smoke)
    if args.record:
        if not cmd:
            raise SystemExit("--record needs the command after --, e.g. --record -- ./run_all.sh")
        record(cmd, Path(args.study_time))
    if args.smoke:
        folder = _smoke_cache()
        rec = {"wall_seconds": 95.0, "peak_rss_gb": 1.2, "cores": 2, "source": "made up (--smoke)",
               "peak_memory_kind": "made up"}
        since = until = None
    else:
        rec: dict = {}
        if args.time_log:
            rec = parse_time_log(Path(args.time_log))
        elif Path(args.study_time).exists():
            rec = read_study_time(Path(args.study_time))
        if args.wall_seconds is not None:
            rec["wall_seconds"] = args.wall_seconds
        if args.peak_rss_kb is not None:
            rec["peak_rss_gb"], rec["peak_memory_kind"] = args.peak_rss_kb / 2**20, "given (kB)"
        if args.peak_rss_gb is not None:
            rec["peak_rss_gb"], rec["peak_memory_kind"] = args.peak_rss_gb, "given"
        folder = Path(args.cache or rec.get("cache") or os.environ.get("TACR_CACHE") or ROOT / ".cache" / "runs")
        if not folder.is_absolute():
            folder = ROOT / folder
        since = None if args.all else _ts(args.since or rec.get("started"))
        until = None if args.all else _ts(args.until or rec.get("finished"))
        if until is not None:
            until += 5  # the last run's file may land just after the clock read
    cores = args.cores or rec.get("cores") or os.cpu_count()
    runs, skipped = read_runs(folder, since, until) if folder.exists() else (None, 0)
    if args.smoke:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    lines = ["## The study's time: `./run_all.sh` and its runs", ""]
    wall = rec.get("wall_seconds")
    peak = rec.get("peak_rss_gb")
    src = rec.get("source") or rec.get("time_log") or ("command line" if wall is not None else None)
    lines += [f"Wall time and memory from {src or 'nowhere: give --time-log, --wall-seconds or ' + Path(args.study_time).name}"
              + (f" (command `{rec['command']}`" + (f", exit status {rec['exit_status']}" if "exit_status" in rec else "") + ")"
                 if rec.get("command") else "") + f"; {cores} CPU cores. Runs from the cache `{folder}`"
              + (f", files written {_iso(since) if since else '…'} .. {_iso(until - 5) if until else '…'}"
                 if (since or until) and not args.smoke else
                 "" if args.smoke or args.all else ": every run in it (no study start time: give --time-log, a "
                 "study_time.json with 'started', or --since)") + ".", ""]
    summary = {"wall_seconds": wall, "peak_rss_gb": peak, "peak_memory_kind": rec.get("peak_memory_kind"), "cores": cores,
               "cache": str(folder), "record": rec, "target_minutes": args.target_minutes, "target_gb": TARGET_GB, **stamp()}
    if runs is None or runs.empty:
        lines += [f"No runs found in `{folder}`" + (f" between the study's start and end" if since else "")
                  + (f" ({skipped} unreadable or of an older format)" if skipped else "") + ".", ""]
        summary["runs"] = 0
    else:
        if args.dataset:
            runs = runs[runs["dataset"].astype(str).str.contains(args.dataset)]
        runs = runs.assign(variant=variant_labels(runs))
        keys = [k for k in ("dataset", "model", "sampler", "variant") if k in runs]
        g = runs.groupby(keys, dropna=False, sort=True)
        tab = g.agg(runs=("run_seconds", "size"), epochs=("epochs_run", "mean"), mean_s=("run_seconds", "mean"),
                    mean_train_s=("train_seconds", "mean"), total_s=("run_seconds", "sum")).reset_index()
        total = float(runs["run_seconds"].sum())
        lines += table(keys + ["runs", "epochs", "mean s per run", "of which training steps s", "worker-seconds"],
                       [[*(str(r[k]) if str(r[k]) else "base" for k in keys), r["runs"], fmt(r["epochs"], 1),
                         fmt(r["mean_s"], 1), fmt(r["mean_train_s"], 1), fmt(r["total_s"])] for _, r in tab.iterrows()])
        for by in ("sampler", "model"):
            t2 = runs.groupby(by).agg(runs=("run_seconds", "size"), mean_s=("run_seconds", "mean"),
                                      total_s=("run_seconds", "sum")).reset_index().sort_values("total_s", ascending=False)
            lines += ["", f"By {by}:", ""]
            lines += table([by, "runs", "mean s per run", "worker-seconds", "share"],
                           [[r[by], r["runs"], fmt(r["mean_s"], 1), fmt(r["total_s"]), f"{100 * r['total_s'] / total:.0f} %"]
                            for _, r in t2.iterrows()])
        lines += ["", f"**{len(runs):,} runs, {total:,.0f} worker-seconds ({total / 3600:.2f} h) in their epochs**"
                  + (f" ({skipped} cache files unreadable or of an older format, left out)" if skipped else "") + "."]
        if wall:
            lines += [f"Wall time {wall / 60:.1f} min x {cores} cores = {wall * cores:,.0f} core-seconds; the runs' epochs "
                      f"account for {100 * total / (wall * cores):.0f} % of them (the rest: data generation, run set-up "
                      "and final test passes, the notebooks' own work, idle cores)."]
        summary.update(runs=len(runs), worker_seconds=total,
                       table=json.loads(tab.to_json(orient="records")))
    lines += [""]
    rows = []
    if wall is not None:
        ok_t = wall / 60 < args.target_minutes
        ok_m = peak is not None and peak < TARGET_GB
        core_note = "" if cores == TARGET_CORES else f" (measured on {cores} cores, not {TARGET_CORES})"
        status = "met" if ok_t and ok_m and cores == TARGET_CORES else "missed" if not ok_t or (peak is not None and not ok_m) \
            else "not judged" + core_note
        if rec.get("exit_status"):
            status = f"missed: the command failed (exit status {rec['exit_status']})"
        rows.append([f"{args.target_name} < {args.target_minutes:.0f} min on {TARGET_CORES} cores and < {TARGET_GB:.0f} GB peak",
                     f"{wall / 60:.1f} min ({wall / 60 / args.target_minutes:.2f}x the budget){core_note}; peak "
                     + (f"{peak:.2f} GB ({rec.get('peak_memory_kind', '?')})" if peak is not None else "not given"),
                     status])
        summary.update(met=status == "met", status=status)
        lines += table(["target", "measured", "status"], rows) + [""]
    write_atomic(out, "\n".join(lines))
    write_atomic(out.with_suffix(".json"), json.dumps(summary, indent=1, default=str))
    print("\n".join(lines))
    return summary


def _smoke_cache() -> Path:
    """A made-up run cache: a few runs of two models and three samplers, in a temporary folder."""
    import numpy as np
    import pandas as pd

    folder = Path(tempfile.mkdtemp(prefix="tacr_bench_study_"))
    rng = np.random.default_rng(0)
    k = 0
    for model in ("time_aware", "din"):
        for sampler, policy in (("uniform", "paper"), ("rgan", "paper"), ("rgan", "cosine")):
            for seed in range(2):
                n = 3
                pd.DataFrame({"epoch": np.arange(1, n + 1), "epoch_seconds": rng.uniform(5, 10, n),
                              "train_seconds": rng.uniform(3, 5, n), "model": model, "sampler": sampler, "policy": policy,
                              "schedule": "alternate", "n_candidates": 20, "seed": seed, "run_key": f"k{k}",
                              "dataset": "synthetic-smoke"}).to_parquet(folder / f"k{k}.parquet", index=False)
                k += 1
    return folder


if __name__ == "__main__":
    main()
