"""Run every benchmark and write ``benchmarks/results/README.md`` (one Markdown section each).

    .venv/bin/python benchmarks/run_all.py            # --quick (default): a few minutes on 2 CPU cores
    .venv/bin/python benchmarks/run_all.py --full     # + the paper profile: generation, one rGAN epoch,
                                                      #   scoring ~9.3M test impressions (tens of minutes, ~GBs)
    .venv/bin/python benchmarks/run_all.py --only scoring,rgan

Sections: scoring (bench_scoring.py: impressions/s per model, dedup vs plain, FLOPs vs matmul
peak; CUDA too when available), rgan (bench_rgan.py: vectorised rGAN step vs a per-positive
reference), peer (bench_peer.py: tacr DIN vs deepctr-torch DIN), data (bench_data.py: simulator
generation, history building, peak RSS; with --full one paper-profile epoch and test scoring),
micro (bench_micro.py: candidate package speed-ups). Each also writes its own file in
``benchmarks/results/``. All timings on a shared machine: compare the ratios measured within one
run (interleaved repetitions), not absolute times across runs.
"""
from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, machine_line, write_atomic  # noqa: E402

SECTIONS = ("scoring", "rgan", "peer", "data", "micro")


def run_section(name: str, full: bool) -> str:
    out = RESULTS / f"{name}.md"
    if name == "scoring":
        import bench_scoring

        bench_scoring.main(["--reps", "3", "--out", str(out)])
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
    return out.read_text()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="default: smoke/quick profiles only")
    g.add_argument("--full", action="store_true", help="add the paper-profile parts")
    ap.add_argument("--only", default=",".join(SECTIONS))
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    parts = []
    only = args.only.split(",")
    for name in SECTIONS:
        if name not in only:  # keep the section of an earlier run, labelled as such
            old = RESULTS / f"{name}.md"
            if old.exists():
                text = old.read_text().replace("\n# ", "\n## ").lstrip()
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
    head = ["# tacr benchmarks", "", f"`benchmarks/run_all.py {'--full' if args.full else '--quick'}`; {machine_line()}.",
            "Ratios are measured side by side within one run; absolute rates vary with the load of the shared "
            "machine.", "", f"Total time {time.perf_counter() - t0:.0f} s.", ""]
    write_atomic(RESULTS / "README.md", "\n".join(head) + "\n" + "\n".join(parts))
    print(f"wrote {RESULTS / 'README.md'}", file=sys.stderr)


if __name__ == "__main__":
    main()
