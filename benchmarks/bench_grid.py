"""Many runs at once: ``tacr.runs.run_grid`` with one worker against several, on one device.

A study is a grid of small runs, so its wall time depends on how many runs a machine trains at
once. The same grid (time-aware + rGAN, ``--runs`` seeds at a profile's settings, ``--epochs``
epochs each) is trained once per worker count, each time into a fresh temporary run cache:
wall time, runs per hour, speed-up over one worker, and the largest difference of any run's last
test AUC from the one-worker grid (0 on the CPU, where a seed fixes a run bit for bit). On CPU a
worker is one process with one torch thread; on CUDA the workers share the GPUs.

    python benchmarks/bench_grid.py [--runs 4] [--epochs 3] [--workers 1,2] [--device cpu]
    python benchmarks/bench_grid.py --smoke
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
import time

from common import fmt, out_path, table, write_result


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--profile-name", default="quick", help="synthetic profile: its data and training settings")
    ap.add_argument("--runs", type=int, default=4)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--workers", default="1,2", help="comma list of worker counts (1 is always measured)")
    ap.add_argument("--smoke", action="store_true", help="seconds: smoke data, 2 runs, 1 epoch")
    ap.add_argument("--out", default=None, help="default benchmarks/results/grid.md")
    args = ap.parse_args(argv)
    if args.smoke:
        args.profile_name, args.runs, args.epochs = "smoke", 2, 1
    import tacr.data
    from tacr.runs import run_grid
    from tacr.study import base_config

    data = tacr.data.load("synthetic", profile=args.profile_name)
    cfg = base_config(args.profile_name, model="time_aware", sampler="rgan", epochs=args.epochs, device=args.device)
    walls, aucs = {}, {}
    for w in sorted({1, *map(int, args.workers.split(","))}):
        folder = tempfile.mkdtemp(prefix=f"tacr-bench-grid-w{w}-")
        try:
            t = time.perf_counter()
            df = run_grid([cfg], list(range(args.runs)), data, cache=folder, workers=w, progress=False, quiet=True)
            walls[w] = time.perf_counter() - t
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        aucs[w] = df.sort_values("epoch").groupby("seed").test_auc.last()
    res = {str(w): {"wall_s": walls[w], "speedup": walls[1] / walls[w],
                    "max_auc_diff": float((aucs[w] - aucs[1]).abs().max())} for w in walls}
    best = max(res, key=lambda w: res[w]["speedup"])
    lines = [f"## Many runs at once: `run_grid` workers ({args.device})", "",
             f"{args.runs} runs of time-aware + rGAN at the `{args.profile_name}` profile's settings, {args.epochs} "
             f"epoch(s) each, {cfg.threads} torch thread(s) per run, into a fresh run cache per row; wall times "
             "include each pool's start.", ""]
    lines += table(["workers", "wall s", "runs per hour", "speed-up vs 1 worker", "max last-AUC difference"],
                   [[w, fmt(r["wall_s"], 1), fmt(3600 * args.runs / r["wall_s"]), f"{r['speedup']:.2f}x",
                     f"{r['max_auc_diff']:.1e}"] for w, r in res.items()])
    write_result(out_path(args.out, "grid", args.smoke), lines,
                 {"device": args.device, "profile": args.profile_name, "runs": args.runs, "epochs": args.epochs,
                  "workers": res, "best_workers": int(best), "best_speedup": res[best]["speedup"]}, args.device)


if __name__ == "__main__":
    main()
