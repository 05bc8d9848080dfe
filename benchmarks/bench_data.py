"""Simulator generation and history building: time and peak RSS, per profile, in fresh subprocesses.

Each profile is generated with ``tacr.data.load('synthetic', profile=..., cache=False)`` (the
simulator itself, not a read of its disk cache) in its own subprocess (peak RSS = that
process's VmHWM); ``build_histories`` is wrapped where the simulator calls it to time history
building inside the load. With ``--epoch`` the child then runs one full epoch of
``time_aware + rGAN`` (``tacr.train.run(base_config(profile, epochs=1, pretrain_epochs=0))``,
``tacr.study``'s profile settings), timing the training steps and each ``score_split`` call
(the first is the test split: every row for ``paper``, the fixed evaluation sample for the
profiles with ``eval_rows``) and sampling the peak RSS of that phase (a thread polling VmRSS).

    .venv/bin/python benchmarks/bench_data.py                     # smoke, quick
    .venv/bin/python benchmarks/bench_data.py --full              # + paper (minutes, GBs)
    .venv/bin/python benchmarks/bench_data.py --smoke             # seconds: smoke, with its epoch
    .venv/bin/python benchmarks/bench_data.py --child paper --epoch --json /tmp/x.json   # one child

Writes ``benchmarks/results/data.md`` (``--out``) from the children's JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (RESULTS, ROOT, RSSSampler, fmt, hwm_gb, machine_line, out_path, rss_gb, stamp,  # noqa: E402
                     table, write_atomic)


def child(profile: str, out: Path, epoch: bool, threads: int, slice_rows: int = 131072) -> None:
    import torch

    if threads:
        torch.set_num_threads(threads)
    import tacr.data
    import tacr.data.schema as schema
    import tacr.data.synthetic as synthetic

    res = {"profile": profile, "threads": torch.get_num_threads(), **stamp()}

    def dump():
        write_atomic(out, json.dumps(res, indent=1))

    hist_s = []
    orig = schema.build_histories

    def timed(*a, **k):
        t = time.perf_counter()
        r = orig(*a, **k)
        hist_s.append(time.perf_counter() - t)
        return r

    schema.build_histories = synthetic.build_histories = timed  # the simulator calls its own import
    t = time.perf_counter()
    data = tacr.data.load("synthetic", profile=profile, cache=False)
    res.update(load_s=time.perf_counter() - t, history_s=sum(hist_s), load_maxrss_gb=hwm_gb(),
               rss_after_load_gb=rss_gb(), rows={k: len(s) for k, s in data.splits.items()},
               positives={k: int(s.label.sum()) for k, s in data.splits.items()},
               n_items=data.spec.n_items, oracle_test_auc=data.info.get("oracle_auc", {}).get("test"))
    dump()
    print(json.dumps(res), file=sys.stderr, flush=True)
    if not epoch:
        return
    import tacr.train as train_mod
    from tacr.study import base_config

    calls = []
    orig_score = train_mod.score_split

    def timed_score(model, split, *a, **k):
        rows = a[1] if len(a) > 1 else k.get("rows")
        t = time.perf_counter()
        r = orig_score(model, split, *a, **k)
        calls.append((len(split) if rows is None else len(rows), time.perf_counter() - t))
        return r

    train_mod.score_split = timed_score
    cfg = base_config(profile, epochs=1, pretrain_epochs=0, device="cpu")
    res["train_config"] = {"n_candidates": cfg.n_candidates, "steps_per_epoch": cfg.steps_per_epoch,
                           "model": cfg.model, "sampler": cfg.sampler, "eval_rows": cfg.eval_rows,
                           "final_eval_rows": cfg.final_eval_rows, "tau_positives": cfg.tau_positives}
    with RSSSampler() as s:
        t = time.perf_counter()
        df = train_mod.run(cfg, data, quiet=True)
        wall = time.perf_counter() - t
    row = df.iloc[0]
    res.update(epoch_wall_s=wall, epoch_train_s=float(row.train_seconds), epoch_peak_rss_gb=s.peak,
               epoch_test_auc=float(row.test_auc), d_steps=int(row.d_steps), g_steps=int(row.g_steps),
               score_calls=calls, peak_hwm_gb=hwm_gb())
    # the first score_split call of the epoch is the test split (all rows, or the fixed sample)
    test_n, test_s = calls[0]
    res.update(test_rows=test_n, test_score_s=test_s)
    dump()
    # plain per-impression forward vs dedup on the first rows of this test split (the whole split
    # plain would take ~30 min at paper scale), same weights, the trainer's evaluation batch size,
    # interleaved. The target compares against dedup in score_split's order (rows grouped by
    # history, as the trainer scores); dedup in storage order is reported beside it.
    import tacr.models
    from tacr.batch import DeviceData

    test = DeviceData(data, "cpu")["test"]
    n = min(slice_rows, test.n)
    storage = torch.arange(n)
    orders = {"plain": storage, "dedup_storage": storage, "dedup": test.by_history(storage)}
    torch.manual_seed(0)
    model = tacr.models.build("time_aware", data.spec, **cfg.model_overrides()).eval()
    bs = cfg.eval_batch_size
    secs = {mode: [] for mode in orders}
    with torch.inference_mode():
        for _ in range(2):
            for mode, rows in orders.items():
                t = time.perf_counter()
                for start in range(0, n, bs):
                    model(test.batch(rows[start:start + bs]), dedup=mode != "plain")
                secs[mode].append(time.perf_counter() - t)
    res.update(slice_batch=bs, slice_gru_kernel=model.cfg.gru_kernel,
               slice_dedup_storage_ips=n / min(secs["dedup_storage"]))
    res.update(slice_rows=n, slice_plain_ips=n / min(secs["plain"]), slice_dedup_ips=n / min(secs["dedup"]))
    dump()
    print(json.dumps(res), file=sys.stderr, flush=True)


def run_child(profile: str, epoch: bool, threads: int, timeout: float | None = None) -> dict:
    fd, tmp = tempfile.mkstemp(prefix=f"bench8_data_{profile}_", suffix=".json", dir="/tmp")
    os.close(fd)
    cmd = [sys.executable, __file__, "--child", profile, "--json", tmp, "--threads", str(threads)] + (["--epoch"] if epoch else [])
    t = time.perf_counter()
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    try:
        res = json.loads(Path(tmp).read_text() or "{}")
    except json.JSONDecodeError:
        res = {}
    res["process_s"] = time.perf_counter() - t
    if p.returncode:
        res["error"] = f"exit {p.returncode}: {p.stderr.strip().splitlines()[-1] if p.stderr.strip() else ''}"
    os.unlink(tmp)
    return res


def render(results: list[dict]) -> list[str]:
    lines = ["## Data: simulator generation and history building", "",
             "`tacr.data.load('synthetic', profile=..., cache=False)` (the simulator, not its disk cache) in a fresh "
             "subprocess each; peak RSS = the subprocess's VmHWM after the load (`ru_maxrss` is not used: a child "
             "inherits it from its parent across fork+exec) (includes the interpreter, numpy, pandas and torch "
             "imports, ~0.3 GB). History = time inside `build_histories` (part of the load).", ""]
    rows = []
    for r in results:
        rw = r.get("rows", {})
        rows.append([r.get("profile"), fmt(rw.get("train")), fmt(rw.get("valid")), fmt(rw.get("test")),
                     fmt(r.get("load_s"), 1), fmt(r.get("history_s"), 1), fmt(r.get("load_maxrss_gb"), 2),
                     r.get("error", "")])
    lines += table(["profile", "train rows", "valid rows", "test rows", "load s", "history s", "peak RSS GB", "error"], rows)
    ep = [r for r in results if "epoch_wall_s" in r]
    if ep:
        lines += ["", "### One epoch of time_aware + rGAN, and scoring the test split", "",
                  "`tacr.train.run(base_config(profile, epochs=1, pretrain_epochs=0), data)` on CPU: 30 steps "
                  "alternating D and G (15 + 15), then `score_split` of test and valid (every row, or the profile's "
                  "fixed `eval_rows` sample: 'test rows' says which), and for profiles with `final_eval_rows` one "
                  "more test pass. Peak RSS of the epoch phase sampled from VmRSS (includes the data already in "
                  "memory).", ""]
        rows = []
        for r in ep:
            rows.append([r["profile"], r["train_config"]["n_candidates"], fmt(r["epoch_train_s"], 1),
                         fmt(r["epoch_wall_s"], 1), fmt(r["epoch_peak_rss_gb"], 2), fmt(r["test_rows"]),
                         fmt(r["test_score_s"], 1), fmt(r["test_rows"] / r["test_score_s"]),
                         f"{r['epoch_test_auc']:.4f}", r["threads"]])
        lines += table(["profile", "C", "train steps s", "epoch incl. eval s", "peak RSS GB", "test rows",
                        "test scoring s", "impressions/s", "test AUC", "threads"], rows)
        sl = [r for r in ep if "slice_rows" in r]
        if sl:
            lines += ["", "Plain per-impression forward (`dedup=False`) against the default (`dedup=True`) on the "
                      "first rows of the same test split, same weights, the trainer's evaluation batches, best of 2 "
                      "interleaved passes. 'dedup' scores the rows in `score_split`'s order (grouped by history, "
                      "as the trainer scores), 'storage order' as stored (fewer repeated histories per batch):", ""]
            lines += table(["profile", "rows", "batch", "GRU kernel", "plain impressions/s", "dedup impressions/s",
                            "dedup / plain", "dedup, storage order / plain"],
                           [[r["profile"], fmt(r["slice_rows"]), fmt(r.get("slice_batch", 32768)),
                             r.get("slice_gru_kernel", "packed"), fmt(r["slice_plain_ips"]), fmt(r["slice_dedup_ips"]),
                             f"{r['slice_dedup_ips'] / r['slice_plain_ips']:.1f}x",
                             (f"{r['slice_dedup_storage_ips'] / r['slice_plain_ips']:.1f}x"
                              if "slice_dedup_storage_ips" in r else "")] for r in sl])
    return lines


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--json", help=argparse.SUPPRESS)
    ap.add_argument("--epoch", action="store_true", help="also run one time_aware+rGAN epoch per profile")
    ap.add_argument("--profiles", default=None, help="comma list (default smoke,quick; + paper with --full)")
    ap.add_argument("--full", action="store_true", help="include the paper profile (minutes, several GB)")
    ap.add_argument("--smoke", action="store_true", help="seconds: the smoke profile with its epoch; writes to the smoke folder")
    ap.add_argument("--threads", type=int, default=0, help="torch threads in the children (0: torch default)")
    ap.add_argument("--out", default=None, help="default benchmarks/results/data.md")
    args = ap.parse_args(argv)
    if args.child:
        return child(args.child, Path(args.json), args.epoch, args.threads)
    if args.smoke:
        args.profiles, args.epoch = "smoke", True
    out = out_path(args.out, "data.md", args.smoke)
    profiles = args.profiles.split(",") if args.profiles else (["smoke", "quick"] + (["paper"] if args.full else []))
    results = []
    for p in profiles:
        print(f"data: {p} ...", file=sys.stderr, flush=True)
        results.append(run_child(p, args.epoch or p == "paper", args.threads))
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    saved = (out.parent if args.smoke or args.out else RESULTS) / "data_paper.json"
    note = []
    for r in results:
        if r.get("profile") == "paper" and "load_s" in r:
            write_atomic(saved, json.dumps(r, indent=1))
    if "paper" not in profiles and saved.exists() and not args.smoke:
        old = json.loads(saved.read_text())
        results.append(old)
        note = ["", f"The `paper` row is from the last `--full` run (`benchmarks/results/data_paper.json`: tacr "
                f"{old.get('tacr_version', '0.3.0')}, {old.get('date', '2026-11-28')}), not this one."]
    lines = ["# Data benchmark", "", machine_line(), ""] + render(results) + note
    write_atomic(out, "\n".join(lines) + "\n")
    write_atomic(out.with_suffix(".json"), json.dumps({"profiles": results, **stamp()}, indent=1))
    print("\n".join(lines))
    return results


if __name__ == "__main__":
    main()
