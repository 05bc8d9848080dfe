"""Scoring throughput (impressions/s) of every model on CPU, with and without batch dedup.

Scores the ``quick`` synthetic test split (``--rows`` caps it) in batches, for each model in
three modes: ``plain`` (``dedup=False``: every sample's history and items embedded on their own),
``dedup`` (the default: GRU/attention keys once per distinct history, item MLP once per distinct
(item, time features)) and ``hist only`` (``dedup_items=False``). Repetitions are interleaved
(rep -> model -> mode) so load drifts hit every cell alike; the table reports medians and the
dedup/plain ratio. One torch thread by default (``--threads 0``: torch's default). Writes
``benchmarks/results/scoring.md``.

    .venv/bin/python benchmarks/bench_scoring.py [--rows N] [--reps 3] [--threads 1] [--batch-size 65536]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tacr.batch import DeviceData  # noqa: E402
from tacr.models import MODEL_NAMES, build, count_parameters  # noqa: E402

MODES = {"plain": dict(dedup=False), "dedup": dict(dedup=True, dedup_items=True),
         "hist only": dict(dedup=True, dedup_items=False)}


def hand_made(seed: int = 0):
    """Fallback data of the quick profile's shape (~100K test rows, 20K items, 200 categories)."""
    from tacr.data.schema import Items, assemble

    rng = np.random.default_rng(seed)
    day, n_users, n_items = 86400, 3000, 20000
    n_views = 3 * 30000  # 3 days, ~3.3 items per view -> ~100K rows a day
    t0 = int(pd.Timestamp("2026-09-03", tz="UTC").timestamp())
    v_user = rng.integers(0, n_users, n_views)
    v_time = t0 + rng.integers(0, 3 * day, n_views)
    k = rng.integers(2, 6, n_views)
    log = pd.DataFrame({"user": np.repeat(v_user, k), "time": np.repeat(v_time, k),
                        "item": rng.integers(0, n_items, k.sum())})
    log["label"] = (rng.random(len(log)) < 0.05).astype(np.int64)
    items = Items(category=rng.integers(0, 200, n_items), raw=rng.normal(size=(n_items, 50)).astype(np.float32))
    aux = np.stack([rng.integers(0, 3, n_users), rng.integers(0, 8, n_users)], 1)
    return assemble("hand-made", log, items, aux, (3, 8), valid_start=t0 + day + day // 2, test_start=t0 + 2 * day)


def load_data():
    try:
        import tacr.data

        return tacr.data.load("synthetic", profile="quick"), "synthetic quick"
    except Exception as exc:  # the simulator is not available: same-shaped stand-in
        print(f"warning: tacr.data.load('synthetic', profile='quick') failed ({exc!r}); using hand-made data",
              file=sys.stderr)
        return hand_made(), "hand-made (quick-like)"


def score_all(model, split, rows: int, batch_size: int) -> float:
    """Seconds to score the first ``rows`` rows of ``split``."""
    t = time.perf_counter()
    with torch.inference_mode():
        for start in range(0, rows, batch_size):
            model(split.batch(torch.arange(start, min(start + batch_size, rows))))
    return time.perf_counter() - t


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=None, help="score only the first N test rows (default: all)")
    ap.add_argument("--reps", type=int, default=3, help="interleaved repetitions (median reported)")
    ap.add_argument("--batch-size", type=int, default=65536)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch CPU threads (default 1: per-core throughput, robust to other jobs on a "
                         "shared machine, where multi-threaded OpenMP degrades badly; 0 = torch's default)")
    ap.add_argument("--models", default=",".join(MODEL_NAMES))
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "scoring.md"))
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    t_start = time.perf_counter()
    load_before = os.getloadavg()[0]
    data, source = load_data()
    dev = DeviceData(data, "cpu")
    split = dev["test"]
    rows = split.n if args.rows is None else min(args.rows, split.n)
    names = args.models.split(",")
    models = {}
    for name in names:
        torch.manual_seed(0)
        base = build(name, data.spec).eval()
        for mode, kw in MODES.items():
            m = build(name, data.spec, **kw).eval()
            m.load_state_dict(base.state_dict())
            models[name, mode] = m
    # warm-up, and the dedup == plain check on the first batch
    b = split.batch(torch.arange(min(args.batch_size, rows)))
    with torch.inference_mode():
        for name in names:
            ref = models[name, "plain"](b).score
            for mode in MODES:
                err = (models[name, mode](b).score - ref).abs().max().item()
                assert err < 1e-4, (name, mode, err)
    times = {key: [] for key in models}
    for rep in range(args.reps):
        for name in names:
            for mode in MODES:
                times[name, mode].append(score_all(models[name, mode], split, rows, args.batch_size))
        print(f"rep {rep + 1}/{args.reps} done ({time.perf_counter() - t_start:.0f} s)", file=sys.stderr)

    n_hist = sum(len(torch.unique(split.hist_id[s:min(s + args.batch_size, rows)])) for s in range(0, rows, args.batch_size))
    lines = [
        "# Scoring throughput (CPU)",
        "",
        f"Data: {source}, test split, {rows:,} rows in batches of {args.batch_size:,} "
        f"({n_hist:,} distinct histories over the batches, mean history length "
        f"{split.hist_len[:rows].float().mean():.2f}). torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, 1-min load average "
        f"{load_before:.1f} before / {os.getloadavg()[0]:.1f} after (other jobs on the machine). "
        f"Median of {args.reps} interleaved repetitions; impressions per second.",
        "",
        "| model | parameters | plain | dedup | hist only | dedup / plain |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in names:
        med = {mode: statistics.median(times[name, mode]) for mode in MODES}
        ips = {mode: rows / med[mode] for mode in MODES}
        lines.append(f"| {name} | {count_parameters(models[name, 'plain']):,} | {ips['plain']:,.0f} | "
                     f"{ips['dedup']:,.0f} | {ips['hist only']:,.0f} | {med['plain'] / med['dedup']:.1f}x |")
    lines += ["", "plain: `dedup=False`; dedup: `dedup=True, dedup_items=True` (the default); "
              "hist only: `dedup=True, dedup_items=False`.",
              f"Total benchmark time {time.perf_counter() - t_start:.0f} s.", ""]
    text = "\n".join(lines)
    print(text)
    write_atomic(Path(args.out), text)
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
