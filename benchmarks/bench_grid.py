"""Many runs at once: ``tacr.experiments.run_grid`` with 1 worker against several, on one device.

The study is a grid of small runs (a 150K-parameter model), so what decides its wall time is how
many runs a machine trains at once, not how fast one run is. This benchmark trains the same grid
(time-aware + rGAN, ``--runs`` seeds of a profile's settings, ``--epochs`` epochs each) once per
worker count, each time into a fresh temporary run cache, and reports the wall time, runs per
hour, the speed-up over one worker and the largest difference of any run's last test AUC from
the one-worker grid (0 on the CPU, where a seed fixes a run bit for bit; float rounding on a GPU).

On the CPU each worker is one process with one torch thread (``workers=2`` on 2 cores is the
default study's setting). On CUDA the workers are processes sharing the GPUs (worker *i* uses GPU
*i* mod the GPU count; ``workers="auto"`` starts two per GPU): the row for 2 and 4 workers per GPU
says whether more processes keep a small model's GPU busier.

    .venv/bin/python benchmarks/bench_grid.py                        # CPU: workers 1,2; 4 runs, 2 epochs
    .venv/bin/python benchmarks/bench_grid.py --device cuda --runs 8 --workers 1,2,4
    .venv/bin/python benchmarks/bench_grid.py --smoke                # seconds: smoke data, 2 runs, 1 epoch

Writes ``benchmarks/results/grid_<device>.md`` and a JSON beside it.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import fmt, machine_line, out_path, stamp, table, write_atomic  # noqa: E402


def time_grid(configs, seeds, data, workers: int):
    """Wall seconds to train the grid with ``workers`` processes into a fresh cache, and its rows."""
    from tacr.experiments import run_grid

    folder = Path(tempfile.mkdtemp(prefix=f"tacr-bench-grid-w{workers}-"))
    try:
        t = time.perf_counter()
        df = run_grid(configs, seeds, data, cache=folder, workers=workers, progress=False, quiet=True)
        return time.perf_counter() - t, df
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def last_aucs(df) -> dict:
    last = df.sort_values("epoch").groupby("seed").tail(1)
    return dict(zip(last.seed.astype(int), last.test_auc.astype(float)))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--profile-name", default="quick", help="synthetic profile: its data and training settings")
    ap.add_argument("--runs", type=int, default=4, help="runs in the grid (seeds 0..runs-1)")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--workers", default=None, help="comma list of worker counts (default 1,2 on CPU; 1,2,4 x GPUs on CUDA)")
    ap.add_argument("--smoke", action="store_true", help="seconds: smoke data, 2 runs, 1 epoch, workers 1,2")
    ap.add_argument("--out", default=None, help="default benchmarks/results/grid_<device>.md")
    args = ap.parse_args(argv)
    if args.smoke:
        args.profile_name, args.runs, args.epochs = "smoke", 2, 1
    import torch

    import tacr.data
    from tacr.study import base_config

    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("bench_grid: --device cuda but torch sees no GPU")
    n_gpu = torch.cuda.device_count() if args.device == "cuda" else 0
    default_workers = "1,2" if args.device == "cpu" else ",".join(str(k * n_gpu) for k in (1, 2, 4))
    workers = sorted({int(w) for w in (args.workers or default_workers).split(",")})
    if workers[0] != 1:
        workers = [1] + workers  # the reference
    out = out_path(args.out, f"grid_{args.device}.md", args.smoke)
    t0 = time.perf_counter()
    data = tacr.data.load("synthetic", profile=args.profile_name)
    cfg = base_config(args.profile_name, model="time_aware", sampler="rgan", epochs=args.epochs, device=args.device)
    seeds = list(range(args.runs))
    walls, aucs = {}, {}
    for w in workers:
        walls[w], df = time_grid([cfg], seeds, data, w)
        aucs[w] = last_aucs(df)
        print(f"grid: {w} worker(s): {walls[w]:.1f} s ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    ref = aucs[1]
    rows, summary_rows = [], {}
    for w in workers:
        diff = max(abs(aucs[w][s] - ref[s]) for s in seeds)
        speed = walls[1] / walls[w]
        rows.append([w, fmt(walls[w], 1), fmt(3600 * args.runs / walls[w]), f"{speed:.2f}x", f"{diff:.1e}"])
        summary_rows[w] = {"wall_s": walls[w], "speedup": speed, "max_auc_diff": diff}
    dev_name = torch.cuda.get_device_name(0) if args.device == "cuda" else "CPU"
    lines = [f"## Many runs at once: `run_grid` workers on {dev_name}", "",
             f"Grid: {args.runs} runs of time-aware + rGAN ({args.profile_name} profile's settings, {args.epochs} "
             f"epoch(s) each, seeds 0-{args.runs - 1}, {cfg.threads} torch thread(s) per run), trained into a "
             f"fresh run cache per row; {machine_line()}" + (f"; {n_gpu} x {dev_name}" if n_gpu else "") + ".", ""]
    lines += table(["workers", "wall s", "runs per hour", "speed-up vs 1 worker", "max |last test AUC - 1 worker's|"], rows)
    best = max(workers, key=lambda w: summary_rows[w]["speedup"])
    lines += ["", f"Best: {best} worker(s), {summary_rows[best]['speedup']:.2f}x one worker. Wall times include "
              "each pool's start (spawned processes import torch and receive the data once).", "",
              f"Benchmark time {time.perf_counter() - t0:.0f} s.", ""]
    text = "\n".join(lines)
    write_atomic(out, text)
    write_atomic(out.with_suffix(".json"), json.dumps(
        {"device": args.device, "device_name": dev_name, "gpus": n_gpu, "runs": args.runs, "epochs": args.epochs,
         "profile": args.profile_name, "workers": {str(k): v for k, v in summary_rows.items()}, **stamp()}, indent=1))
    print(text)
    return summary_rows


if __name__ == "__main__":
    main()
