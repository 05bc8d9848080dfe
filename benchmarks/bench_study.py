"""The study's time: wall time and peak memory of a recorded ``./run_all.sh``, and the seconds of
every run it trained, read from its run cache. Trains nothing.

The record (``--study-time FILE``, default ``outputs/study_time.json``) is written by ``--record --
./run_all.sh [ARGS]``, which runs the command and polls its whole process tree every 2 s: the
peak of the summed proportional set size (PSS; RSS where PSS is unreadable), since the pool's
workers and the notebooks' kernels run side by side. Its ``started``/``finished`` times select
the cache files the study wrote (``<key>.parquet``, one row per epoch with ``epoch_seconds``),
so a cache holding older runs still gives this study's; measure on an empty cache
(``TACR_CACHE=<new folder>``). Seconds per run = the sum of its epochs' ``epoch_seconds``: set-up,
final test passes and the notebooks' own work are not in it.

    python benchmarks/bench_study.py --record -- ./run_all.sh   # record a study, then report it
    python benchmarks/bench_study.py [--study-time FILE] [--cache DIR]
    python benchmarks/bench_study.py --smoke                    # a made-up record and cache
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from common import ROOT, fmt, out_path, table, write_result

#: Config columns that tell runs of one (model, sampler) apart when they vary within the study.
VARIANT_FIELDS = ("policy", "schedule", "reward", "n_candidates", "temperature", "epochs", "d_steps_per_g", "lr_d",
                  "steps_per_epoch", "weight_decay")


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def tree(root: int) -> list[int]:
    """``root`` and its descendants, from /proc."""
    kids, out, todo = {}, [], [root]
    for d in filter(str.isdigit, os.listdir("/proc")):
        try:
            kids.setdefault(int(Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()[1]), []).append(int(d))
        except (OSError, ValueError, IndexError):
            pass
    while todo:
        out.append(todo.pop())
        todo += kids.get(out[-1], [])
    return out


def kb(pid: int, file: str, key: str) -> int:
    try:
        return next(int(ln.split()[1]) for ln in Path(f"/proc/{pid}/{file}").read_text().splitlines() if ln.startswith(key))
    except (OSError, StopIteration):
        return 0


def record(cmd: list[str], path: Path) -> None:
    """Run ``cmd``; write its wall time and the peak summed PSS (else RSS) of its process tree."""
    started, t0 = time.time(), time.perf_counter()
    proc, pss, rss = subprocess.Popen(cmd), 0, 0
    while proc.poll() is None:
        pids = tree(proc.pid)
        pss = max(pss, sum(kb(p, "smaps_rollup", "Pss:") for p in pids))
        rss = max(rss, sum(kb(p, "status", "VmRSS:") for p in pids))
        time.sleep(2)
    rec = {"wall_seconds": time.perf_counter() - t0, "exit_status": proc.returncode, "started": iso(started),
           "finished": iso(time.time()), "cores": os.cpu_count(), "command": " ".join(cmd),
           "cache": os.environ.get("TACR_CACHE") or str(ROOT / ".cache" / "runs"), "peak_rss_gb": (pss or rss) / 2**20,
           "peak_memory_kind": f"sum of {'PSS' if pss else 'RSS'} over the process tree, polled every 2 s"}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rec, indent=1))


def read_runs(folder: Path, since: float | None, until: float | None, dataset: str | None = None):
    """One row per run written in [since, until] (of ``dataset`` only, when given): its seconds
    and config."""
    import pandas as pd

    rows = []
    for f in sorted(folder.glob("*.parquet")):
        if f.name.endswith(".scores.parquet") or not (since or 0) <= f.stat().st_mtime <= (until or float("inf")):
            continue
        df = pd.read_parquet(f)
        if {"epoch_seconds", "model", "sampler"} <= set(df) and (dataset is None or df["dataset"].iloc[0] == dataset):
            rows.append({"run_seconds": float(df.epoch_seconds.sum()), "epochs": len(df),
                         **{c: df[c].iloc[0] for c in ("dataset", "model", "sampler", *VARIANT_FIELDS) if c in df}})
    runs = pd.DataFrame(rows)
    vary = [c for c in VARIANT_FIELDS if c in runs and runs[c].nunique() > 1]
    mode = {c: runs[c].mode().iloc[0] for c in vary}
    return runs.assign(variant=[", ".join(f"{c}={r[c]}" for c in vary if r[c] != mode[c]) or "base"
                                for _, r in runs.iterrows()]) if rows else runs


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    cmd = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--study-time", default=str(ROOT / "outputs" / "study_time.json"), help="the study's record (JSON)")
    ap.add_argument("--record", action="store_true", help="run the command after -- and write the record first")
    ap.add_argument("--cache", default=None, help="the run cache it wrote (default: the record's)")
    ap.add_argument("--smoke", action="store_true", help="seconds: a made-up record and cache")
    ap.add_argument("--dataset", default=None, help="count only this dataset's runs (another study shared the cache)")
    ap.add_argument("--out", default=None, help="default benchmarks/results/study.md")
    args = ap.parse_args(argv)
    rec_path = Path(args.study_time)
    if args.smoke:
        rec_path, args.cache = Path(tempfile.mkdtemp()) / "study_time.json", tempfile.mkdtemp(prefix="tacr-bench-study-")
        record([sys.executable, "-c", "import time; time.sleep(3)"], rec_path)
        import pandas as pd

        for k, (model, sampler) in enumerate([("time_aware", "rgan"), ("time_aware", "uniform"), ("din", "rgan")] * 2):
            pd.DataFrame({"epoch": [1, 2], "epoch_seconds": [5.0 + k, 6.0], "model": model, "sampler": sampler,
                          "dataset": "synthetic-smoke"}).to_parquet(Path(args.cache) / f"k{k}.parquet")
    if args.record:
        record(cmd, rec_path)
    rec = json.loads(rec_path.read_text())
    folder = Path(args.cache or rec["cache"])
    stamp = lambda key: datetime.fromisoformat(rec[key].replace("Z", "+00:00")).timestamp()
    runs = read_runs(folder, None if args.smoke else stamp("started"), None if args.smoke else stamp("finished") + 5,
                     args.dataset)
    wall, peak = rec["wall_seconds"], rec["peak_rss_gb"]
    lines = [f"## Time and memory of `{rec['command']}`", "",
             (f"`{rec['command']}` (exit status {rec.get('exit_status')}) from {rec['started']} to {rec['finished']} "
             f"on {rec['cores']} cores: **{wall / 60:.1f} min**, peak memory **{peak:.2f} GB** "
             f"({rec['peak_memory_kind']}). Runs from the cache `{folder}` written in that time."), ""]
    if rec.get("note"):  # what a reader must know to read the record (a run resumed in parts, say)
        lines += [rec["note"], ""]
    summary = {"record": rec, "wall_minutes": wall / 60, "peak_gb": peak, "cores": rec["cores"], "runs": len(runs),
               "text": f"{wall / 60:.1f} min on {rec['cores']} cores, peak {peak:.2f} GB; {len(runs)} runs"}
    if len(runs):
        keys = [k for k in ("dataset", "model", "sampler", "variant") if k in runs]
        tab = runs.groupby(keys).agg(runs=("run_seconds", "size"), epochs=("epochs", "mean"),
                                     mean_s=("run_seconds", "mean"), total_s=("run_seconds", "sum")).reset_index()
        lines += table(keys + ["runs", "epochs", "mean s per run", "worker-seconds"],
                       [[*(r[k] for k in keys), r["runs"], fmt(r["epochs"], 1), fmt(r["mean_s"], 1), fmt(r["total_s"])]
                        for _, r in tab.iterrows()])
        total = runs.run_seconds.sum()
        lines += ["", (f"{len(runs)} runs, {total / 3600:.2f} worker-hours in their epochs: {100 * total / (wall * rec['cores']):.0f} % "
                  "of wall time x cores (the rest: data generation, set-up, final test passes, the notebooks' own work, "
                  "idle cores).")]
        summary["table"] = json.loads(tab.to_json(orient="records"))
    write_result(out_path(args.out, "study", args.smoke), lines, summary)


if __name__ == "__main__":
    main()
