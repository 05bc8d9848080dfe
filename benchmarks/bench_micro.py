"""Micro-benchmarks of candidate package speed-ups (nothing in ``tacr`` is changed here).

``relative_time_encoding`` (tacr/models/attention.py, Eq. 3) builds a (R, 90) float64 angle
array, reduces it with ``torch.remainder`` and takes ``sin`` with a pi/2 phase for the cos
slots. The candidate computes the 45 distinct angles once, reduces them (``torch.fmod``, or
``ang - floor(ang / 2pi) * 2pi``: plain vectorised float64 mul/floor/sub, same range [0, 2pi)
as ``remainder``) and writes sin and cos into the interleaved layout. Interleaved repetitions,
median; max |difference| reported.

    .venv/bin/python benchmarks/bench_micro.py [--rows 200000] [--reps 7]
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, machine_line, table, write_atomic  # noqa: E402

from tacr.models.attention import relative_time_encoding  # noqa: E402


def rte_half(dt: torch.Tensor, dim: int = 90, base: float = 10000.0) -> torch.Tensor:
    j2 = torch.arange(0, dim, 2, dtype=torch.float64, device=dt.device)  # (dim/2,)
    inv_freq = torch.exp(-j2 / dim * math.log(base))
    ang = dt.to(torch.float64).unsqueeze(-1) * inv_freq  # (..., dim/2)
    ang = (torch.fmod(ang, 2 * math.pi) if bool((dt >= 0).all()) else torch.remainder(ang, 2 * math.pi)).to(torch.float32)
    return torch.stack([torch.sin(ang), torch.cos(ang)], dim=-1).flatten(-2)  # (..., dim) interleaved


def rte_half_floor(dt: torch.Tensor, dim: int = 90, base: float = 10000.0) -> torch.Tensor:
    j2 = torch.arange(0, dim, 2, dtype=torch.float64, device=dt.device)  # (dim/2,)
    inv_freq = torch.exp(-j2 / dim * math.log(base))
    ang = dt.to(torch.float64).unsqueeze(-1) * inv_freq  # (..., dim/2)
    ang = (ang - torch.floor(ang * (1 / (2 * math.pi))) * (2 * math.pi)).to(torch.float32)  # in [0, 2 pi)
    return torch.stack([torch.sin(ang), torch.cos(ang)], dim=-1).flatten(-2)  # (..., dim) interleaved


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000, help="real history positions R")
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=str(RESULTS / "micro.md"))
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(0)
    dt = torch.randint(0, 30 * 86400, (args.rows,), generator=g)  # up to 30 days, seconds
    ref = relative_time_encoding(dt)
    err = max((ref - f(dt)).abs().max().item() for f in (rte_half, rte_half_floor))
    fns = {"relative_time_encoding (current)": relative_time_encoding, "half-width angles + fmod": rte_half,
           "half-width angles + floor reduction": rte_half_floor}
    secs = {k: [] for k in fns}
    for _ in range(args.reps):
        for k, f in fns.items():
            t = time.perf_counter()
            f(dt)
            secs[k].append(time.perf_counter() - t)
    med = {k: statistics.median(v) for k, v in secs.items()}
    base = med["relative_time_encoding (current)"]
    lines = ["## Micro: relative time encoding (Eq. 3)", "",
             f"R = {args.rows:,} positions x 90 dims; {machine_line()}; median of {args.reps} interleaved reps; "
             f"max |variant - current| = {err:.2e}.", ""]
    lines += table(["variant", "ms", "speed-up"], [[k, f"{1e3 * v:.1f}", f"{base / v:.2f}x"] for k, v in med.items()])
    text = "\n".join(lines) + "\n"
    write_atomic(Path(args.out), text)
    print(text)
    return text


if __name__ == "__main__":
    main()
