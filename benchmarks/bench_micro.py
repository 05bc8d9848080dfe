"""Micro-benchmarks behind three speed-ups (two made in 0.3.0, one in 0.4.0), each against what it
replaced or sits beside.

1. **The time term of Eq. (4)**, ``pre + W_t e_t`` over R real history positions (Eq. 3 inside):
   * ``0.2.0``: float64 angles reduced with ``fmod``, float32 sin/cos interleaved with
     ``stack`` into the (R, 90) e_t, then ``pre + W_t(e_t)``;
   * ``0.3.0`` (current since, ``TimeAwareAttention``): ``frac`` of the phase in turns, sin and cos
     halves multiplied by W_t's even and odd columns with in-place ``addmm_`` (no interleave
     copy, no extra (R, v) temporaries);
   * ``angle difference`` (rejected): sin/cos of ``w t0`` per sample and of ``w t_l`` per
     distinct history position, combined with ``sin(a - b) = sin a cos b - cos a sin b``; the
     gathers of both halves cost more than the trigonometry they save.
   Interleaved repetitions, median; max |difference| to the 0.2.0 result reported.
2. **glibc allocator tuning** (``tacr.runtime``): the trainer's rGAN D step + G step at the
   paper batch (B = 4,400, quick data; ``bench_rgan.Vectorised``, C = 35, no Kendall tau), in
   child processes with ``TACR_MALLOC_TUNING=0`` and without, alternated; median seconds per
   step and the children's kernel (``sys``) time.
3. **The GRU of Eq. (2)** (``tacr.models.gru``): ``nn.GRU`` on packed sequences (``packed``, the
   reference) and tacr's ``fused`` CPU layer, forward alone and forward + backward, on U
   histories of up to L = 10 steps, d = H = 90, two layers (the shape of G's pass over a
   MovieLens-100K batch: ~10,500 distinct histories, mean length ~8.9); interleaved
   repetitions, median; max |difference| of the states and relative difference of the
   gradients.

    .venv/bin/python benchmarks/bench_micro.py [--rows 200000] [--reps 7] [--alloc-reps 3] [--gru-histories 10500]
    .venv/bin/python benchmarks/bench_micro.py --smoke     # seconds: small R, one child each on smoke data
"""
from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, machine_line, out_path, stamp, table, write_atomic  # noqa: E402

from tacr.models.attention import time_phase  # noqa: E402


def term_v020(pre, dt, W):
    j2 = torch.arange(0, 90, 2, dtype=torch.float64)
    ang = dt.to(torch.float64).unsqueeze(-1) * torch.exp(-j2 / 90 * math.log(10000.0))
    ang = torch.fmod(ang, 2 * math.pi).to(torch.float32)
    e_t = torch.stack((torch.sin(ang), torch.cos(ang)), dim=-1).flatten(-2)  # (R, 90)
    return pre + e_t @ W.T


def term_current(pre, dt, W):
    sin, cos = time_phase(dt, 90)
    return pre.clone().addmm_(sin, W[:, 0::2].T).addmm_(cos, W[:, 1::2].T)  # clone: pre is reused across reps


def make_term_angle_difference(t0, t_hist, b, r):
    def term(pre, dt, W):
        sa, ca = time_phase(t0, 90)  # (B, 45): phases of the absolute times (float64 reduction)
        sb, cb = time_phase(t_hist, 90)  # (H, 45)
        sa, ca, sb, cb = sa[b], ca[b], sb[r], cb[r]  # (R, 45) each
        return pre.clone().addmm_(sa * cb - ca * sb, W[:, 0::2].T).addmm_(ca * cb + sa * sb, W[:, 1::2].T)
    return term


def time_term(rows: int, reps: int) -> list[str]:
    g = torch.Generator().manual_seed(0)
    B, H = rows // 5, rows // 8  # ~5 real positions per sample, distinct history positions
    t0 = 1_790_000_000 + torch.randint(0, 10 * 86400, (B,), generator=g)
    t_hist = 1_789_000_000 + torch.randint(0, 10 * 86400, (H,), generator=g)
    b, r = torch.randint(0, B, (rows,), generator=g), torch.randint(0, H, (rows,), generator=g)
    dt = t0[b] - t_hist[r]
    pre, W = torch.randn(rows, 90, generator=g), torch.randn(90, 90, generator=g) / 10
    fns = {"0.2.0: fmod, interleaved e_t, pre + W_t e_t": term_v020,
           "0.3.0 (current): frac, halves x W_t columns, addmm_": term_current,
           "angle difference, gathered halves (rejected)": make_term_angle_difference(t0, t_hist, b, r)}
    ref = term_v020(pre, dt, W)
    err = {k: (f(pre, dt, W) - ref).abs().max().item() for k, f in fns.items()}
    secs = {k: [] for k in fns}
    for _ in range(reps):
        for k, f in fns.items():
            t = time.perf_counter()
            f(pre, dt, W)
            secs[k].append(time.perf_counter() - t)
    med = {k: statistics.median(v) for k, v in secs.items()}
    base = med[next(iter(fns))]
    lines = ["### The time term of Eq. (4): `pre + W_t e_t` (Eq. 3 inside)", "",
             f"R = {rows:,} real history positions, v = d = 90; median of {reps} interleaved reps.", ""]
    lines += table(["variant", "ms", "speed-up vs 0.2.0", "max |diff| vs 0.2.0"],
                   [[k, f"{1e3 * v:.1f}", f"{base / v:.2f}x", f"{err[k]:.1e}"] for k, v in med.items()])
    return lines


def gru_kernels(histories: int, reps: int) -> tuple[list[str], dict]:
    from tacr.models.gru import KERNELS, run_gru

    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    gru = torch.nn.GRU(90, 90, num_layers=2, batch_first=True)
    U, L = histories, 10
    x = torch.randn(U, L, 90, generator=g, requires_grad=True)
    lengths = torch.where(torch.rand(U, generator=g) < 0.6, L, torch.randint(1, L, (U,), generator=g))
    target = torch.randn(U, L, 90, generator=g)
    results = {}
    for k in KERNELS:
        x.grad = None
        gru.zero_grad()
        out = run_gru(gru, x, lengths, k)
        (out * target).sum().backward()
        results[k] = (out.detach(), [x.grad.clone()] + [p.grad.clone() for p in gru.parameters()])
    ref_out, ref_grads = results["packed"]
    state_diff = {k: float((o - ref_out).abs().max()) for k, (o, _) in results.items()}
    grad_diff = {k: max(float((a - b).abs().max() / b.abs().max()) for a, b in zip(gr, ref_grads))
                 for k, (_, gr) in results.items()}
    fwd, both = {k: [] for k in KERNELS}, {k: [] for k in KERNELS}
    for _ in range(reps):
        for k in KERNELS:
            t = time.perf_counter()
            with torch.no_grad():
                run_gru(gru, x, lengths, k)
            fwd[k].append(time.perf_counter() - t)
            t = time.perf_counter()
            (run_gru(gru, x, lengths, k) * target).sum().backward()
            both[k].append(time.perf_counter() - t)
    med_f = {k: statistics.median(v) for k, v in fwd.items()}
    med_b = {k: statistics.median(v) for k, v in both.items()}
    lines = ["### The GRU of Eq. (2): `nn.GRU` packed vs tacr's fused CPU layer", "",
             f"U = {U:,} histories of up to {L} steps (mean length {float(lengths.float().mean()):.1f}), d = H = 90, two "
             f"layers; median of {reps} interleaved reps.", ""]
    lines += table(["kernel", "forward ms", "forward + backward ms", "speed-up forward", "speed-up forward + backward",
                    "max |state diff|", "max rel. grad diff"],
                   [[k, f"{1e3 * med_f[k]:.0f}", f"{1e3 * med_b[k]:.0f}", f"{med_f['packed'] / med_f[k]:.2f}x",
                     f"{med_b['packed'] / med_b[k]:.2f}x", f"{state_diff[k]:.1e}", f"{grad_diff[k]:.1e}"] for k in KERNELS])
    summary = {"histories": U, "forward_s": med_f, "forward_backward_s": med_b, "state_diff": state_diff,
               "grad_rel_diff": grad_diff}
    return lines, summary


def alloc_child(batch: int, steps: int, profile: str = "quick") -> None:
    import bench_rgan

    import tacr.data
    from tacr.batch import DeviceData
    from tacr.runtime import tune_cpu_allocator

    torch.set_num_threads(1)
    data = tacr.data.load("synthetic", profile=profile)
    dd = DeviceData(data, "cpu")  # applies the tuning unless TACR_MALLOC_TUNING=0
    train = dd["train"]
    D, G = bench_rgan.make_pair(dd)
    runner = bench_rgan.Vectorised(train, D, G, bench_rgan.step_config(35, 0))
    g = torch.Generator().manual_seed(1)
    draw = lambda: train.pos_rows[torch.randint(len(train.pos_rows), (batch,), generator=g)]  # noqa: E731
    runner.step(draw())
    before = resource.getrusage(resource.RUSAGE_SELF)
    secs = [bench_rgan.timed(runner.step, draw()) for _ in range(steps)]
    after = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"tuned": tune_cpu_allocator(), "step_s": statistics.median(secs),
                      "sys_per_step": (after.ru_stime - before.ru_stime) / steps,
                      "user_per_step": (after.ru_utime - before.ru_utime) / steps}))


def allocator(reps: int, batch: int, profile: str = "quick") -> tuple[list[str], dict]:
    res = {"default glibc malloc (TACR_MALLOC_TUNING=0)": [], "tuned (tacr.runtime, the default)": []}
    for _ in range(reps):
        for name in res:
            env = {**os.environ, "TACR_MALLOC_TUNING": "0" if name.startswith("default") else "1"}
            p = subprocess.run([sys.executable, __file__, "--alloc-child", str(batch), "--alloc-profile", profile],
                               env=env, cwd=ROOT, capture_output=True, text=True)
            if p.returncode:
                raise RuntimeError(f"allocator child failed (exit {p.returncode}):\n{p.stderr[-3000:]}")
            res[name].append(json.loads(p.stdout.strip().splitlines()[-1]))
    med = {k: {f: statistics.median(r[f] for r in v) for f in ("step_s", "sys_per_step", "user_per_step")} for k, v in res.items()}
    base = med[next(iter(res))]["step_s"]
    lines = ["### glibc allocator tuning (`tacr.runtime.tune_cpu_allocator`)", "",
             f"The trainer's rGAN D step + G step at B = {batch:,} (C = 35, no Kendall tau), {profile} data, one torch "
             f"thread, 2 timed steps per child process; {reps} alternated children per setting, medians.", ""]
    lines += table(["allocator", "s per step", "kernel (sys) s per step", "user s per step", "speed-up"],
                   [[k, f"{v['step_s']:.2f}", f"{v['sys_per_step']:.2f}", f"{v['user_per_step']:.2f}", f"{base / v['step_s']:.2f}x"]
                    for k, v in med.items()])
    return lines, {"batch": batch, "profile": profile, "step_s": {k: v["step_s"] for k, v in med.items()},
                   "speedup": base / med["tuned (tacr.runtime, the default)"]["step_s"]}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000, help="real history positions R")
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--alloc-reps", type=int, default=3, help="child processes per allocator setting (0: skip)")
    ap.add_argument("--alloc-batch", type=int, default=4400)
    ap.add_argument("--alloc-profile", default="quick", help="synthetic profile of the allocator children")
    ap.add_argument("--alloc-child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--gru-histories", type=int, default=10_500, help="histories of the GRU kernel comparison")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--smoke", action="store_true",
                    help="seconds: R = 20,000, 3 reps, one allocator child each at B = 100 on smoke data; "
                         "writes to the smoke folder")
    ap.add_argument("--out", default=None, help="default benchmarks/results/micro.md")
    args = ap.parse_args(argv)
    if args.alloc_child:
        return alloc_child(args.alloc_child, 2, args.alloc_profile)
    if args.smoke:
        args.rows, args.reps, args.alloc_reps, args.alloc_batch, args.alloc_profile = 20_000, 3, 1, 100, "smoke"
        args.gru_histories = 500
    out = out_path(args.out, "micro.md", args.smoke)
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    lines = ["## Micro: the speed-ups of 0.3.0 and 0.4.0, measured on the current code", "", f"{machine_line()}.", ""]
    lines += time_term(args.rows, args.reps)
    summary = {"rows": args.rows, **stamp()}
    if args.alloc_reps:
        alloc_lines, summary["allocator"] = allocator(args.alloc_reps, args.alloc_batch, args.alloc_profile)
        lines += [""] + alloc_lines
    gru_lines, summary["gru"] = gru_kernels(args.gru_histories, args.reps)
    lines += [""] + gru_lines
    lines += ["", f"Benchmark time {time.perf_counter() - t0:.0f} s.", ""]
    text = "\n".join(lines)
    write_atomic(out, text)
    write_atomic(out.with_suffix(".json"), json.dumps(summary, indent=1))
    print(text)
    return text


if __name__ == "__main__":
    main()
