"""Scoring throughput (impressions/s) of every model on CPU, with and without batch dedup.

Scores the ``quick`` synthetic test split (``--rows`` caps it) in batches, rows grouped by history
as ``tacr.train.score_split`` orders them (``--order storage``: as stored), for each model in
three modes: ``plain`` (``dedup=False``: every sample's history and items embedded on their own),
``dedup`` (the default: GRU/attention keys once per distinct history, item MLP once per distinct
(item, time features)) and ``hist only`` (``dedup_items=False``). Repetitions are interleaved
(rep -> model -> mode) so load drifts hit every cell alike; the table reports medians and the
dedup/plain ratio. One torch thread by default (``--threads 0``: torch's default). On CUDA
(when ``torch.cuda.is_available()``) the same table is measured on the GPU too.

FLOPs: :func:`flops_time_aware` counts the time-aware model's matmuls analytically from its
config (2 FLOPs per multiply-add; one-hot layers are lookups and count 0; elementwise ops are
not counted). ``per impression`` is the model's nominal work for one impression with its real
history (no dedup, no padding); ``executed`` counts what each path actually multiplies on the
benchmark's batches (the plain path runs the item MLP and ``W_h`` on padded positions too; the
dedup path runs the item MLP once per distinct (item, time) key and the GRU/``W_h`` once per
distinct history). Achieved GFLOP/s = FLOPs / median seconds, beside this machine's matmul peak
(a 2048x2048 float32 ``torch.matmul`` at the same thread count, interleaved in the same reps).
Writes ``benchmarks/results/scoring.md``.

    .venv/bin/python benchmarks/bench_scoring.py [--rows N] [--reps 3] [--threads 1] [--batch-size 65536]
    .venv/bin/python benchmarks/bench_scoring.py --smoke    # seconds: smoke data, 2 models, one rep
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tacr.batch import DeviceData  # noqa: E402
from tacr.models import MODEL_NAMES, build, count_parameters  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
from _common import out_path, stamp, write_atomic  # noqa: E402

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


def load_data(profile: str = "quick"):
    try:
        import tacr.data

        return tacr.data.load("synthetic", profile=profile), f"synthetic {profile}"
    except Exception as exc:  # the simulator is not available: same-shaped stand-in
        print(f"warning: tacr.data.load('synthetic', profile={profile!r}) failed ({exc!r}); using hand-made data",
              file=sys.stderr)
        return hand_made(), "hand-made (quick-like)"


def score_order(split, rows: int, order: str) -> torch.Tensor:
    """The first ``rows`` rows of ``split`` in the order they are scored: ``history`` groups rows
    sharing a history (``DeviceSplit.by_history``, as ``tacr.train.score_split`` scores), ``storage``
    keeps them as stored."""
    idx = torch.arange(rows, device=split.data.device)
    if order == "history":
        return split.by_history(idx)
    if order == "storage":
        return idx
    raise ValueError(f"unknown order {order!r}; choose history or storage")


def score_all(model, split, order: torch.Tensor, batch_size: int) -> float:
    """Seconds to score the rows ``order`` of ``split``, in that order, in batches."""
    dev = split.data.device
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    sync()
    t = time.perf_counter()
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            model(split.batch(order[start:start + batch_size]))
    sync()
    return time.perf_counter() - t


def matmul_seconds(n: int = 2048, device="cpu", reps: int = 3) -> float:
    """Best of ``reps`` seconds for one n x n float32 matmul (2 n^3 FLOPs)."""
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    sync = torch.cuda.synchronize if torch.device(device).type == "cuda" else (lambda: None)
    best = float("inf")
    for _ in range(reps):
        sync()
        t = time.perf_counter()
        torch.matmul(a, b)
        sync()
        best = min(best, time.perf_counter() - t)
    return best


def flops_time_aware(cfg, spec, mean_len: float) -> dict:
    """Nominal matmul FLOPs of one impression of the time-aware model (no dedup, real positions).

    With d = item_dim, H = gru_hidden, v = attn_dim, t = time_dim, r = raw_dim, o = onehot_dim,
    n_in = r + o * (1 + 4) the item MLP input, Lbar = mean real history length, D = H + d + aux:

    * item MLP, per item row (target + Lbar history):  2 (n_in d + (layers - 1) d^2)
    * GRU, per real history position: 2 * 3H (d + H) + (gru_layers - 1) * 2 * 3H (H + H)
    * attention, per real position: 2 (H v + t v + v) (W_h, W_t, v) + 2 H (weighted sum);
      per impression 2 d v (W_i)
    * score: 2 D
    """
    d, H, v, t = cfg.item_dim, cfg.gru_hidden, cfg.attn_dim, cfg.time_dim
    n_in = spec.raw_dim + cfg.onehot_dim * (1 + len(spec.time_sizes))
    item = 2 * (n_in * d + (cfg.item_layers - 1) * d * d)
    gru = 2 * 3 * H * (d + H) + (cfg.gru_layers - 1) * 2 * 3 * H * (2 * H)
    att_pos = 2 * (H * v + t * v + v) + 2 * H
    D = H + d + cfg.aux_dim
    parts = {"item MLP": (1 + mean_len) * item, "GRU": mean_len * gru, "attention": mean_len * att_pos + 2 * d * v,
             "score": 2 * D}
    parts["total"] = sum(parts.values())
    parts["_unit"] = dict(item=item, gru=gru, att_pos=att_pos, att_imp=2 * d * v, score=2 * D)
    return parts


def executed_flops(unit: dict, split, order: torch.Tensor, batch_size: int, L: int, dedup: bool, time_card: int,
                   radix) -> float:
    """Matmul FLOPs each path executes over the benchmark's batches (see the module docstring)."""
    total = 0.0
    for s in range(0, len(order), batch_size):
        b = split.batch(order[s:s + batch_size])
        B = len(b)
        real = int(b.hist_len.sum())  # real positions over samples
        if not dedup:
            # item MLP on all B*(1+L) rows (padding too), GRU packed (real positions), W_h on all
            # B*L positions, W_t, v and the weighted sum on real positions
            H_v = unit["_hv"]
            total += B * (1 + L) * unit["item"] + real * unit["gru"] + B * L * H_v + real * (unit["att_pos"] - H_v) \
                + B * (unit["att_imp"] + unit["score"])
            continue
        uniq, first = np.unique(b.hist_id.cpu().numpy(), return_index=True)
        U = len(uniq)
        real_u = int(b.hist_len[torch.as_tensor(first)].sum())
        mask = torch.arange(L) < b.hist_len[torch.as_tensor(first)].cpu().unsqueeze(1)
        tf = split.data.time_features(torch.cat([b.time.cpu(), b.hist_time[torch.as_tensor(first)].cpu()[mask]]))
        code = tf[:, 0]
        for k in range(1, tf.shape[1]):
            code = code * radix[k] + tf[:, k]
        items = torch.cat([b.item.cpu(), b.hist_item[torch.as_tensor(first)].cpu()[mask]])
        K = len(torch.unique(items * time_card + code))
        H_v = unit["_hv"]
        total += K * unit["item"] + real_u * unit["gru"] + U * L * H_v + real * (unit["att_pos"] - H_v) \
            + B * (unit["att_imp"] + unit["score"])
    return total


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=None, help="score only the first N test rows (default: all)")
    ap.add_argument("--reps", type=int, default=3, help="interleaved repetitions (median reported)")
    ap.add_argument("--batch-size", type=int, default=65536)
    ap.add_argument("--order", default="history", choices=("history", "storage"),
                    help="row order of the batches: 'history' (grouped by history, as tacr.train.score_split "
                         "scores; default) or 'storage' (as stored: fewer repeated histories per batch)")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch CPU threads (default 1: per-core throughput, robust to other jobs on a "
                         "shared machine, where multi-threaded OpenMP degrades badly; 0 = torch's default)")
    ap.add_argument("--models", default=",".join(MODEL_NAMES))
    ap.add_argument("--modes", default=",".join(MODES), help="comma list of " + ", ".join(MODES))
    ap.add_argument("--devices", default="auto", help="cpu, cuda or 'auto' (cpu, plus cuda when available)")
    ap.add_argument("--matmul-n", type=int, default=2048)
    ap.add_argument("--profile-name", default="quick", help="synthetic profile whose test split is scored")
    ap.add_argument("--smoke", action="store_true",
                    help="seconds: smoke data, time_aware and din, 8,192 rows, one rep; writes to the smoke folder")
    ap.add_argument("--out", default=None, help="default benchmarks/results/scoring.md")
    args = ap.parse_args(argv)
    if args.smoke:
        args.profile_name, args.models, args.rows, args.reps = "smoke", "time_aware,din", 8192, 1
        args.batch_size, args.matmul_n = 4096, 512
    args.out = out_path(args.out, "scoring.md", args.smoke)
    if args.threads:
        torch.set_num_threads(args.threads)
    devices = (["cpu"] + (["cuda"] if torch.cuda.is_available() else [])) if args.devices == "auto" else args.devices.split(",")
    modes = args.modes.split(",")
    t_start = time.perf_counter()
    load_before = os.getloadavg()[0]
    data, source = load_data(args.profile_name)
    names = args.models.split(",")
    lines = ["# Scoring throughput", ""]
    results = {}
    for device in devices:
        dev = DeviceData(data, device)
        split = dev["test"]
        rows = split.n if args.rows is None else min(args.rows, split.n)
        models = {}
        for name in names:
            torch.manual_seed(0)
            base = build(name, data.spec).eval()
            for mode in modes:
                m = build(name, data.spec, **MODES[mode]).eval().to(device)
                m.load_state_dict(base.state_dict())
                models[name, mode] = m
        # warm-up, and the dedup == plain check on the first batch
        order = score_order(split, rows, args.order)
        b = split.batch(order[:args.batch_size])
        with torch.inference_mode():
            for name in names:
                ref = models[name, modes[0]](b).score
                for mode in modes:
                    err = (models[name, mode](b).score - ref).abs().max().item()
                    assert err < 1e-3, (name, mode, err)
        matmul_seconds(args.matmul_n, device, 1)
        times = {key: [] for key in models}
        mm = []
        for rep in range(args.reps):
            mm.append(matmul_seconds(args.matmul_n, device))
            for name in names:
                for mode in modes:
                    times[name, mode].append(score_all(models[name, mode], split, order, args.batch_size))
            print(f"{device}: rep {rep + 1}/{args.reps} done ({time.perf_counter() - t_start:.0f} s)", file=sys.stderr)
        peak = 2 * args.matmul_n ** 3 / statistics.median(mm) / 1e9
        n_hist = sum(len(torch.unique(split.hist_id[order[s:s + args.batch_size]])) for s in range(0, rows, args.batch_size))
        mean_len = float(split.hist_len[:rows].float().mean())
        lines += [
            f"## {device.upper()}",
            "",
            f"Data: {source}, test split, {rows:,} rows in batches of {args.batch_size:,}, "
            + ("grouped by history as `score_split` orders them " if args.order == "history" else "in storage order ") +
            f"({n_hist:,} distinct histories over the batches, mean history length {mean_len:.2f}). "
            f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
            f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, 1-min load average "
            f"{load_before:.1f} before / {os.getloadavg()[0]:.1f} after (other jobs on the machine). "
            f"Median of {args.reps} interleaved repetitions; impressions per second.",
            "",
            "| model | parameters | " + " | ".join(modes) + (" | dedup / plain |" if {"dedup", "plain"} <= set(modes) else " |"),
            "|---|---:|" + "---:|" * len(modes) + ("---:|" if {"dedup", "plain"} <= set(modes) else ""),
        ]
        for name in names:
            med = {mode: statistics.median(times[name, mode]) for mode in modes}
            ips = {mode: rows / med[mode] for mode in modes}
            results[device, name] = ips
            row = f"| {name} | {count_parameters(models[name, modes[0]]):,} | " + " | ".join(f"{ips[m]:,.0f}" for m in modes)
            row += f" | {med['plain'] / med['dedup']:.1f}x |" if {"dedup", "plain"} <= set(modes) else " |"
            lines.append(row)
        lines += ["", "plain: `dedup=False`; dedup: `dedup=True, dedup_items=True` (the default); "
                  "hist only: `dedup=True, dedup_items=False`.", ""]
        if "time_aware" in names:
            m = models["time_aware", modes[0]]
            fl = flops_time_aware(m.cfg, data.spec, mean_len)
            unit = dict(fl["_unit"], _hv=2 * m.cfg.gru_hidden * m.cfg.attn_dim)
            L = split.hist_item.shape[1]
            radix = m.time_radix.cpu()
            lines += [f"### FLOPs of time_aware ({device})", "",
                      f"Nominal matmul work per impression (mean real history length {mean_len:.2f}; formula in "
                      "`flops_time_aware`): " + ", ".join(f"{k} {v / 1e6:.3f} MFLOP" for k, v in fl.items()
                                                            if not k.startswith("_")) + ".",
                      f"Matmul peak of this machine: {args.matmul_n}x{args.matmul_n} float32 `torch.matmul`, "
                      f"{peak:,.1f} GFLOP/s (median of best-of-3 per rep, same threads, interleaved).", "",
                      "| mode | impressions/s | nominal GFLOP/s (per-impression work x rate) | executed MFLOP per impression | executed GFLOP/s | % of matmul peak |",
                      "|---|---:|---:|---:|---:|---:|"]
            for mode in modes:
                if mode == "hist only":
                    continue
                ips = results[device, "time_aware"][mode]
                ex = executed_flops(unit, split, order, args.batch_size, L, mode != "plain",
                                    m._time_card, radix) / rows
                lines.append(f"| {mode} | {ips:,.0f} | {fl['total'] * ips / 1e9:,.2f} | {ex / 1e6:.3f} | "
                             f"{ex * ips / 1e9:,.2f} | {100 * ex * ips / 1e9 / peak:.1f} % |")
            lines.append("")
            results[device, "peak_gflops"] = peak
            results[device, "flops_per_impression"] = fl["total"]
    lines += [f"Total benchmark time {time.perf_counter() - t_start:.0f} s.", ""]
    text = "\n".join(lines)
    print(text)
    write_atomic(Path(args.out), text)
    summary = {"profile": args.profile_name, "order": args.order, **stamp()}
    for key, v in results.items():
        summary.setdefault(key[0], {})[key[1]] = v
    write_atomic(Path(args.out).with_suffix(".json"), json.dumps(summary, indent=1))
    print(f"wrote {args.out}", file=sys.stderr)
    return results, text


if __name__ == "__main__":
    main()
