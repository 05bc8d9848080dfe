"""The paper's scale on one device: a scaled `paper` profile, one real epoch, and an extrapolation.

The `paper` profile (7.6M train, 1.3M valid, 8.9M test rows; 7 min and 6 GB to generate here)
is too big to generate inside a short GPU lease, so this benchmark builds the same simulator
with every count scaled by ``--scale`` (users, items, impressions per day; categories and the
per-user behaviour unchanged, so histories and per-impression work match the paper profile)
and measures on ``--device``:

1. generation and history building of the scaled data (CPU, numpy);
2. scoring throughput of the time-aware model over the scaled test split (impressions/s);
3. the trainer's rGAN step (``bench_rgan.Vectorised``: a D step and a G step, C = 35) at the
   paper profile's batch, |train positives| / 30 / scale (~4,400 positives), drawn from the
   scaled data;
4. one real epoch of ``tacr.train.run`` (time-aware + rGAN, paper config, no pre-training) on
   the scaled data: wall time, peak memory, test AUC.

Extrapolation to the paper profile: one epoch = 15 D steps + 15 G steps at the paper batch
(= 15 timed D+G pairs) + scoring the test and validation splits (the paper profile's rows,
from the last ``bench_data.py --full`` run's ``data_paper.json`` when there is one, at the
measured rate); the study = 50 epochs x 5 seeds. Writes ``benchmarks/results/scale_<device>.md``
and a JSON beside it.

    .venv/bin/python benchmarks/bench_scale.py --device cuda [--scale 0.1]
    .venv/bin/python benchmarks/bench_scale.py --smoke     # seconds: scale 0.002 on the CPU, B = 200
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, RSSSampler, fmt, out_path, stamp, table, write_atomic  # noqa: E402

#: The paper profile's rows as measured by 0.3.0's simulator (benchmarks/results/data_paper.json
#: of that run); used when no newer ``data_paper.json`` exists.
PAPER_ROWS = {"train": 7_602_451, "valid": 1_294_854, "test": 8_906_380}


def paper_rows() -> tuple[dict, str]:
    """The paper profile's split sizes and where they come from."""
    path = RESULTS / "data_paper.json"
    try:
        saved = json.loads(path.read_text())
        if saved.get("rows"):
            return saved["rows"], f"`{path.name}` (tacr {saved.get('tacr_version', '0.3.0')})"
    except (OSError, ValueError):
        pass
    return PAPER_ROWS, "0.3.0's simulator"


def scaled_overrides(scale: float) -> dict:
    from tacr.data.synthetic import PROFILES

    p = PROFILES["paper"]
    out = dict(n_users=int(p.n_users * scale), n_items=int(p.n_items * scale),
               impressions_per_day=int(p.impressions_per_day * scale))
    if p.warmup_impressions_per_day is not None:
        out["warmup_impressions_per_day"] = int(p.warmup_impressions_per_day * scale)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch default)")
    ap.add_argument("--step-batch", type=int, default=0,
                    help="positives of the timed step (0: the paper profile's batch, |train positives| / 30 / scale)")
    ap.add_argument("--smoke", action="store_true",
                    help="seconds: CPU, scale 0.002, B = 200, one rep; writes to the smoke folder")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    if args.smoke:
        args.device, args.scale, args.step_batch, args.reps = "cpu", 0.002, 200, 1
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    out = out_path(args.out, f"scale_{device.type}.md", args.smoke)
    t_start = time.perf_counter()
    import bench_rgan

    import tacr.data
    import tacr.models
    from tacr.batch import DeviceData
    from tacr.data.synthetic import load_synthetic
    from tacr.study import base_config
    from tacr.train import run, score_split

    res = {"device": str(device), "scale": args.scale, **stamp()}
    if device.type == "cuda":
        res["gpu"] = torch.cuda.get_device_name(device)
    t = time.perf_counter()
    data = load_synthetic("paper", seed=0, cache=False, **scaled_overrides(args.scale))
    res["generate_s"] = time.perf_counter() - t
    res["rows"] = {k: len(s) for k, s in data.splits.items()}
    res["oracle_test_auc"] = data.info.get("oracle_auc", {}).get("test")
    print(f"scale: data {res['rows']} in {res['generate_s']:.0f} s", file=sys.stderr, flush=True)

    dd = DeviceData(data, device)
    cfg = base_config("paper", epochs=1, pretrain_epochs=0, device=str(device))
    # 2. scoring
    model = tacr.models.build("time_aware", data.spec).to(device).eval()
    test = dd["test"]
    score_split(model, test, cfg.eval_batch_size)  # warm-up
    secs = []
    for _ in range(args.reps):
        sync()
        t = time.perf_counter()
        score_split(model, test, cfg.eval_batch_size)
        sync()
        secs.append(time.perf_counter() - t)
    res["score_rate"] = len(test) / statistics.median(secs)
    # 3. the trainer's step at the paper batch
    train = dd["train"]
    paper_b = args.step_batch or round(len(train.pos_rows) / args.scale / cfg.steps_per_epoch)
    res["paper_batch"] = paper_b
    D, G = bench_rgan.make_pair(dd)
    runner = bench_rgan.Vectorised(train, D, G, cfg)
    g = torch.Generator(device=device).manual_seed(1)
    draw = lambda: train.pos_rows[torch.randint(len(train.pos_rows), (paper_b,), generator=g, device=device)]  # noqa: E731
    runner.step(draw())
    steps = [bench_rgan.timed(runner.step, draw(), sync=sync) for _ in range(args.reps)]
    res["paper_step_pair_s"] = statistics.median(steps)
    if device.type == "cuda":
        res["gpu_peak_gb_step"] = torch.cuda.max_memory_allocated(device) / 2**30
    print(f"scale: step pair at B={paper_b:,}: {res['paper_step_pair_s']:.2f} s", file=sys.stderr, flush=True)
    del runner, D, G, model
    # 4. one real epoch on the scaled data
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    with RSSSampler() as rss:
        t = time.perf_counter()
        df = run(cfg, data, quiet=True, device_data=dd)
        res["epoch_wall_s"] = time.perf_counter() - t
    row = df.iloc[0]
    res.update(epoch_train_s=float(row.train_seconds), epoch_test_auc=float(row.test_auc),
               epoch_valid_auc=float(row.valid_auc), epoch_peak_rss_gb=rss.peak, epoch_batch=round(len(train.pos_rows) / cfg.steps_per_epoch))
    if device.type == "cuda":
        res["epoch_gpu_peak_gb"] = torch.cuda.max_memory_allocated(device) / 2**30
    # extrapolation
    rows_paper, rows_src = paper_rows()
    score_rows = rows_paper["test"] + rows_paper["valid"]
    res["paper_rows"], res["paper_rows_from"] = rows_paper, rows_src
    res["paper_epoch_s"] = cfg.steps_per_epoch / 2 * res["paper_step_pair_s"] + score_rows / res["score_rate"]
    res["paper_study_h"] = res["paper_epoch_s"] * 50 * 5 / 3600
    res["total_s"] = time.perf_counter() - t_start
    write_atomic(out.with_suffix(".json"), json.dumps(res, indent=1))

    dev = device.type.upper() + (f" ({res['gpu']})" if "gpu" in res else "")
    lines = [f"## The paper's scale on {dev}", "",
             f"{res['machine']}. Simulator `paper` profile with every count scaled by {args.scale} "
             f"(generated in {res['generate_s']:.0f} s on the CPU): "
             + ", ".join(f"{k} {v:,} rows" for k, v in res["rows"].items())
             + (f"; oracle test AUC {res['oracle_test_auc']:.4f}" if res["oracle_test_auc"] else "") + ".", ""]
    rows = [["scoring the test split (time-aware, batches of %s)" % f"{cfg.eval_batch_size:,}", f"{fmt(res['score_rate'])} impressions/s"],
            [f"trainer's rGAN D step + G step at {'B' if args.step_batch else 'the paper batch (B'} = {paper_b:,}, "
             f"C = {cfg.n_candidates}{'' if args.step_batch else ')'}", f"{res['paper_step_pair_s']:.3f} s"],
            [f"one real epoch on the scaled data (B = {res['epoch_batch']:,}; train steps / incl. scoring)",
             f"{res['epoch_train_s']:.1f} s / {res['epoch_wall_s']:.1f} s"],
            ["its test AUC after one epoch", f"{res['epoch_test_auc']:.4f}"],
            ["peak host RSS during the epoch", f"{res['epoch_peak_rss_gb']:.2f} GB"]]
    if "epoch_gpu_peak_gb" in res:
        rows.append(["peak GPU memory (epoch / paper-batch step)", f"{res['epoch_gpu_peak_gb']:.2f} GB / {res['gpu_peak_gb_step']:.2f} GB"])
    rows += [["**extrapolated `paper` epoch** (15 step pairs + scoring %s rows, sizes from %s)" % (f"{score_rows:,}", rows_src),
              f"**{res['paper_epoch_s']:.0f} s**"],
             ["**extrapolated study** (50 epochs x 5 seeds)", f"**{res['paper_study_h']:.1f} h**"]]
    lines += table(["measure", "value"], rows)
    lines += ["", f"Benchmark time {res['total_s']:.0f} s.", ""]
    text = "\n".join(lines)
    write_atomic(out, text)
    print(text)
    return res


if __name__ == "__main__":
    main()
