"""Scoring throughput: impressions per second of every model, with batch dedup and without.

Scores the first ``--rows`` rows of a synthetic profile's test split in batches, grouped by
history as ``tacr.train.score_split`` orders them, for each model in three modes: ``plain``
(``dedup=False``: every impression embedded on its own), ``dedup`` (the default: GRU and
attention keys once per distinct history, the item MLP once per distinct item and time features)
and ``hist only`` (``dedup_items=False``). The modes share one model's weights and are checked
equal on the first batch; repetitions are interleaved and medians reported.

    python benchmarks/bench_scoring.py [--rows N] [--reps 3] [--device cpu]
    python benchmarks/bench_scoring.py --smoke
"""
from __future__ import annotations

import argparse

import torch

from common import fmt, interleaved, out_path, table, write_result

from tacr.batch import DeviceData
from tacr.models import MODEL_NAMES, build, count_parameters

MODES = {"plain": dict(dedup=False), "dedup": dict(dedup=True, dedup_items=True),
         "hist only": dict(dedup=True, dedup_items=False)}


def throughput(data, names, rows: int, reps: int, batch_size: int, device: str = "cpu", **overrides):
    """({model: {mode: impressions/s, "parameters": n}}, rows scored) over the first ``rows`` test rows."""
    split = DeviceData(data, device)["test"]
    order = split.by_history(torch.arange(min(rows or split.n, split.n), device=split.data.device))
    batches = [order[s:s + batch_size] for s in range(0, len(order), batch_size)]
    models, fns = {}, {}
    for name in names:
        torch.manual_seed(0)
        base = build(name, data.spec, **overrides).state_dict()
        for mode, kw in MODES.items():
            models[name, mode] = m = build(name, data.spec, **{**overrides, **kw}).eval().to(device)
            m.load_state_dict(base)
            fns[name, mode] = lambda m=m: [m(split.batch(b)) for b in batches]
    sync = torch.cuda.synchronize if torch.device(device).type == "cuda" else (lambda: None)
    with torch.inference_mode():
        first = split.batch(batches[0])
        for (name, mode), m in models.items():
            err = (m(first).score - models[name, "plain"](first).score).abs().max().item()
            assert err < 1e-3, f"{name} {mode}: scores differ from plain by {err}"
        interleaved(fns, 1, sync)  # warm-up
        med = interleaved(fns, reps, sync)
    return {name: {"parameters": count_parameters(models[name, "plain"]),
                   **{mode: len(order) / med[name, mode] for mode in MODES}} for name in names}, len(order)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile-name", default="quick", help="synthetic profile whose test split is scored")
    ap.add_argument("--rows", type=int, default=0, help="score the first N test rows (0: all)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=65536)
    ap.add_argument("--models", default=",".join(MODEL_NAMES))
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (0: torch's default)")
    ap.add_argument("--smoke", action="store_true", help="seconds: smoke data, two models, 8,192 rows, one rep")
    ap.add_argument("--out", default=None, help="default benchmarks/results/scoring.md")
    args = ap.parse_args(argv)
    if args.smoke:
        args.profile_name, args.models, args.rows, args.reps, args.batch_size = "smoke", "time_aware,din", 8192, 1, 4096
    if args.threads:
        torch.set_num_threads(args.threads)
    import tacr.data

    data = tacr.data.load("synthetic", profile=args.profile_name)
    res, n = throughput(data, args.models.split(","), args.rows, args.reps, args.batch_size, args.device)
    lines = [f"## Scoring throughput ({args.device})", "",
             f"Synthetic `{args.profile_name}` test split, {n:,} rows in batches of {args.batch_size:,}, grouped by "
             f"history; impressions per second, median of {args.reps} interleaved repetitions. plain: `dedup=False`; "
             "dedup: the default; hist only: `dedup_items=False`.", ""]
    lines += table(["model", "parameters", *MODES, "dedup / plain"],
                   [[name, f"{r['parameters']:,}", *(fmt(r[m]) for m in MODES), f"{r['dedup'] / r['plain']:.1f}x"]
                    for name, r in res.items()])
    write_result(out_path(args.out, "scoring", args.smoke), lines,
                 {"profile": args.profile_name, "rows": n, "impressions_per_s": res,
                  "dedup_over_plain": {k: r["dedup"] / r["plain"] for k, r in res.items()}}, args.device)


if __name__ == "__main__":
    main()
