"""Run every benchmark and write ``benchmarks/results/README.md``: a targets summary, then one
Markdown section per benchmark.

    .venv/bin/python benchmarks/run_all.py            # --quick (default): ~10 minutes on 2 CPU cores
    .venv/bin/python benchmarks/run_all.py --full     # + the paper profile: generation, one rGAN epoch,
                                                      #   scoring 8.9M test impressions (~30 min, ~7 GB)
    .venv/bin/python benchmarks/run_all.py --only scoring,rgan

Sections: scoring (bench_scoring.py: impressions/s per model, dedup vs plain, FLOPs vs matmul
peak), rgan (bench_rgan.py: the trainer's rGAN step vs one positive at a time), peer
(bench_peer.py: tacr DIN vs deepctr-torch DIN), data (bench_data.py: simulator generation,
history building, peak RSS; with --full one paper-profile epoch and test scoring), micro
(bench_micro.py: the speed-ups of 0.3.0 against what they replaced), cuda (with a GPU:
bench_rgan and bench_scale on it, the paper profile itself with --full; without one, the
stored results of the last GPU run, labelled as such). Each writes its own ``.md`` (and a
``.json`` of its key numbers) in ``benchmarks/results/``; the summary is built from those
JSON files, so a section that was not re-run shows its stored numbers, marked as such.
All timings on a shared machine: compare the ratios measured within one run (interleaved
repetitions), not absolute times across runs.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, fmt, machine_line, table, write_atomic  # noqa: E402

SECTIONS = ("scoring", "rgan", "peer", "data", "micro", "cuda")
CUDA_DIR = RESULTS / "cuda"


def run_section(name: str, full: bool) -> str:
    out = RESULTS / f"{name}.md"
    if name == "scoring":
        import bench_scoring

        bench_scoring.main(["--reps", "3", "--devices", "cpu", "--out", str(out)])
    elif name == "rgan":
        import bench_rgan

        bench_rgan.main(["--reps", "3", "--ref-positives", "40", "--profile", "--out", str(out)])
    elif name == "peer":
        import bench_peer

        bench_peer.main(["--epochs", "3" if full else "2", "--out", str(out)])
    elif name == "data":
        import bench_data

        bench_data.main((["--full"] if full else []) + ["--out", str(out)])
    elif name == "micro":
        import bench_micro

        bench_micro.main(["--out", str(out)])
    elif name == "cuda":
        import torch

        if not torch.cuda.is_available():
            return stored_cuda()
        import bench_rgan
        import bench_scale
        import bench_scoring

        bench_scoring.main(["--reps", "3", "--devices", "cuda", "--out", str(CUDA_DIR / "scoring_cuda.md")])
        bench_rgan.main(["--device", "cuda", "--reps", "3", "--ref-positives", "20", "--profile",
                         "--out", str(CUDA_DIR / "rgan_cuda.md")])
        bench_scale.main(["--device", "cuda", "--scale", "1.0" if full else "0.25",
                          "--out", str(CUDA_DIR / ("paper_cuda.md" if full else "scale_cuda.md"))])
        stamp = f"Measured on {torch.cuda.get_device_name()} on {datetime.now(timezone.utc):%Y-%m-%d}.\n"
        write_atomic(CUDA_DIR / "STAMP", stamp)
        return stored_cuda(fresh=True)
    return out.read_text()


def stored_cuda(fresh: bool = False) -> str:
    parts = [p for p in ("scoring_cuda.md", "rgan_cuda.md", "paper_cuda.md", "scale_cuda.md") if (CUDA_DIR / p).exists()]
    if not parts:
        return "## CUDA\n\nNo GPU here and no stored GPU results.\n"
    stamp = (CUDA_DIR / "STAMP").read_text().strip() if (CUDA_DIR / "STAMP").exists() else ""
    head = ["# CUDA", "", stamp + ("" if fresh else " No GPU on this machine: these are the stored results "
                                   "of that run (`benchmarks/results/cuda/`), not re-run."), ""]
    return "\n".join(head) + "\n" + "\n".join((CUDA_DIR / p).read_text().rstrip() + "\n" for p in parts)


def _load(name: str) -> dict | None:
    path = RESULTS / name
    return json.loads(path.read_text()) if path.exists() else None


def summary(rerun: set[str]) -> list[str]:
    """The targets of the benchmark issue, each with the measured figure and its source."""
    src = lambda sec: "this run" if sec in rerun else "stored"  # noqa: E731
    rows = []
    paper = _load("data_paper.json")
    if paper and "test_score_s" in paper:
        ok = paper["test_score_s"] < 300
        ratio = paper["slice_dedup_ips"] / paper["slice_plain_ips"] if "slice_rows" in paper else None
        rows.append(["score the `paper` test split (time-aware, CPU) in < 5 min, >= 3x the per-impression forward",
                     f"{paper['test_rows']:,} rows in {paper['test_score_s']:.0f} s ({paper['test_rows'] / paper['test_score_s']:,.0f}/s, "
                     f"{paper['threads']} thread(s))" + (f"; dedup / plain on its first {paper['slice_rows']:,} rows {ratio:.1f}x" if ratio else ""),
                     "met" if ok and (ratio is None or ratio >= 3) else "missed", src("data")])
    sc = _load("scoring.json")
    if sc and "cpu" in sc and "time_aware" in sc["cpu"]:
        ta = sc["cpu"]["time_aware"]
        r = ta["dedup"] / ta["plain"]
        rows.append(["dedup vs per-impression forward, quick test split (time-aware, CPU)", f"{r:.1f}x",
                     "met" if r >= 3 else "missed", src("scoring")])
    rg = _load("rgan.json")
    if rg:
        best = rg["best"]
        r = rg["vs_per_positive"][best]
        rows.append(["rGAN step >= 20x one positive at a time (CPU)",
                     f"{best}: {r:.1f}x ({rg['positives_per_s'][best]:,.0f} positives/s); vs Algorithm 1 with one shared draw "
                     f"{rg['vs_one_draw'][best]:.1f}x", "met" if r >= 20 else "missed", src("rgan")])
    pe = _load("peer.json")
    if pe:
        a = pe["auc"]
        tacr_auc, peer_auc = a["tacr DIN"], a[pe["peer"]]
        rows.append([f"DIN trains at least as fast as {pe['peer']} at equal AUC (CPU)",
                     f"peer takes {pe['train_time_ratio']:.2f}x tacr's training time, {pe['score_time_ratio']:.2f}x its scoring "
                     f"time; AUC after {pe['epochs']} epochs {tacr_auc:.4f} (tacr) vs {peer_auc:.4f}",
                     "met" if pe["train_time_ratio"] >= 1 and tacr_auc >= peer_auc - 0.005 else "missed", src("peer")])
    if paper and "epoch_wall_s" in paper:
        h = paper["epoch_wall_s"] * 250 / 3600
        rows.append(["one `paper` epoch of time-aware + rGAN within 16 GB (CPU)",
                     f"{paper['epoch_wall_s']:.0f} s ({paper['epoch_train_s']:.0f} s of training steps), peak RSS "
                     f"{paper['epoch_peak_rss_gb']:.2f} GB, {paper['threads']} thread(s); study (50 epochs x 5 seeds) ~{h:.0f} h",
                     "met" if paper["epoch_peak_rss_gb"] < 16 else "missed", src("data")])
    gpu = next((json.loads((CUDA_DIR / f).read_text()) for f in ("paper_cuda.json", "scale_cuda.json") if (CUDA_DIR / f).exists()), None)
    if gpu:
        import torch

        stamp = (CUDA_DIR / "STAMP").read_text().strip() if (CUDA_DIR / "STAMP").exists() else ""
        gpu_src = "this run" if "cuda" in rerun and torch.cuda.is_available() else f"stored: {stamp}"
        kind = "one real `paper` epoch" if gpu["scale"] == 1.0 else f"`paper` epoch extrapolated from scale {gpu['scale']}"
        epoch = gpu["epoch_wall_s"] if gpu["scale"] == 1.0 else gpu["paper_epoch_s"]
        rows.append([f"{kind} on a GPU ({gpu.get('gpu', 'cuda')})",
                     f"{epoch:.1f} s incl. scoring 10.2M rows; study (50 x 5) ~{epoch * 250 / 60:.0f} min; "
                     f"GPU memory {gpu.get('epoch_gpu_peak_gb', float('nan')):.1f} GB", "reported", gpu_src])
    if not rows:
        return []
    return ["## Targets", ""] + table(["target", "measured", "status", "numbers from"], rows) + [""]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="default: smoke/quick profiles only")
    g.add_argument("--full", action="store_true", help="add the paper-profile parts")
    ap.add_argument("--only", default=",".join(SECTIONS))
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    parts = []
    only = set(args.only.split(","))
    for name in SECTIONS:
        if name not in only:  # keep the section of an earlier run, labelled as such
            old = RESULTS / f"{name}.md"
            text = stored_cuda() if name == "cuda" else (old.read_text() if old.exists() else "")
            if text:
                text = text.replace("\n# ", "\n## ").lstrip()
                text = "#" + text if text.startswith("# ") else text
                parts.append(text.rstrip() + "\n\n_(from an earlier run, not re-run this time)_\n")
            continue
        print(f"== {name}", file=sys.stderr, flush=True)
        t = time.perf_counter()
        try:
            text = run_section(name, args.full)
        except Exception:  # noqa: BLE001 - one failing benchmark must not hide the others
            text = f"## {name}\n\nFailed:\n\n```\n{traceback.format_exc()}```\n"
        text = text.replace("\n# ", "\n## ").lstrip()
        if text.startswith("# "):
            text = "#" + text
        parts.append(text.rstrip() + f"\n\n_(section time {time.perf_counter() - t:.0f} s)_\n")
    import tacr

    head = ["# tacr benchmarks", "",
            f"`benchmarks/run_all.py {'--full' if args.full else '--quick'}{'' if only == set(SECTIONS) else ' --only ' + args.only}`; "
            f"tacr {tacr.__version__}; {machine_line()}; {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC.",
            "Ratios are measured side by side within one run; absolute rates vary with the load of the shared "
            "machine.", "", f"Total time {fmt(time.perf_counter() - t0)} s.", ""]
    write_atomic(RESULTS / "README.md", "\n".join(head + summary(only)) + "\n" + "\n".join(parts))
    print(f"wrote {RESULTS / 'README.md'}", file=sys.stderr)


if __name__ == "__main__":
    main()
