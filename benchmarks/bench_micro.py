"""Two CPU kernels of the training step, each against what it sits beside.

1. **The GRU of Eq. (2)** (``tacr.models.gru``): ``nn.GRU`` on packed sequences (``packed``,
   the reference) and tacr's ``fused`` CPU layer, forward and forward + backward, on U histories
   of up to 10 steps, d = H = 90, two layers (the shape of G's pass over a MovieLens-100K batch);
   interleaved repetitions, medians, and the largest differences of states and gradients.
2. **glibc allocator tuning** (``tacr.runtime.tune_cpu_allocator``): the trainer's rGAN D step +
   G step (``bench_rgan.Batched``, C = 35) in child processes with ``TACR_MALLOC_TUNING=0`` and
   without, alternated; medians of seconds per step and of the kernel (``sys``) time.

    python benchmarks/bench_micro.py [--reps 7] [--gru-histories 10500] [--alloc-reps 2] [--alloc-batch 1000]
    python benchmarks/bench_micro.py --smoke
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import time

import torch

from common import interleaved, out_path, run_child, table, write_result


def gru_kernels(histories: int, reps: int) -> tuple[list[str], dict]:
    from tacr.models.gru import KERNELS, run_gru

    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    gru = torch.nn.GRU(90, 90, num_layers=2, batch_first=True)
    x = torch.randn(histories, 10, 90, generator=g, requires_grad=True)
    lengths = torch.where(torch.rand(histories, generator=g) < 0.6, 10, torch.randint(1, 10, (histories,), generator=g))
    target = torch.randn(histories, 10, 90, generator=g)
    out, grads = {}, {}
    for k in KERNELS:
        x.grad = None
        gru.zero_grad()
        states = run_gru(gru, x, lengths, k)
        (states * target).sum().backward()
        out[k] = states.detach()
        grads[k] = [x.grad.clone()] + [p.grad.clone() for p in gru.parameters()]

    def forward(k):
        with torch.no_grad():
            run_gru(gru, x, lengths, k)

    fns = {(k, "forward"): (lambda k=k: forward(k)) for k in KERNELS}
    fns |= {(k, "both"): (lambda k=k: (run_gru(gru, x, lengths, k) * target).sum().backward()) for k in KERNELS}
    med = interleaved(fns, reps)
    rows, summary = [], {}
    for k in KERNELS:
        state = float((out[k] - out["packed"]).abs().max())
        grad = max(float((a - b).abs().max() / b.abs().max()) for a, b in zip(grads[k], grads["packed"]))
        speed = {p: med["packed", p] / med[k, p] for p in ("forward", "both")}
        rows.append([k, f"{1e3 * med[k, 'forward']:.0f}", f"{1e3 * med[k, 'both']:.0f}", f"{speed['forward']:.2f}x",
                     f"{speed['both']:.2f}x", f"{state:.1e}", f"{grad:.1e}"])
        summary[k] = {"forward_s": med[k, "forward"], "forward_backward_s": med[k, "both"], "speedup": speed,
                      "state_diff": state, "grad_rel_diff": grad}
    lines = ["### The GRU of Eq. (2): `nn.GRU` packed vs tacr's fused CPU layer", "",
             f"U = {histories:,} histories of up to 10 steps (mean length {float(lengths.float().mean()):.1f}), "
             f"d = H = 90, two layers; median of {reps} interleaved repetitions.", ""]
    return lines + table(["kernel", "forward ms", "forward + backward ms", "speed-up forward",
                          "speed-up forward + backward", "max state diff", "max rel. grad diff"], rows), summary


def alloc_child(batch: int, profile: str) -> None:
    """One child: two timed rGAN step pairs at ``batch`` positives; prints a JSON line."""
    import bench_rgan

    import tacr.data
    from tacr.batch import DeviceData
    from tacr.runtime import tune_cpu_allocator
    from tacr.train import TrainConfig

    torch.set_num_threads(1)
    dd = DeviceData(tacr.data.load("synthetic", profile=profile), "cpu")  # tunes the allocator unless opted out
    train = dd["train"]
    runner = bench_rgan.Batched(train, *bench_rgan.make_pair(dd), TrainConfig(n_candidates=35, tau_positives=0, pretrain_epochs=0))
    g = torch.Generator().manual_seed(1)
    fn = lambda: runner.step(train.pos_rows[torch.randint(len(train.pos_rows), (batch,), generator=g)])  # noqa: E731
    fn()
    before = resource.getrusage(resource.RUSAGE_SELF)
    t = time.perf_counter()
    fn(), fn()
    after = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"tuned": tune_cpu_allocator(), "step_s": (time.perf_counter() - t) / 2,
                      "sys_s": (after.ru_stime - before.ru_stime) / 2}))


def allocator(reps: int, batch: int, profile: str) -> tuple[list[str], dict]:
    settings = {"glibc default (TACR_MALLOC_TUNING=0)": "0", "tuned (the default)": "1"}
    runs = {k: [] for k in settings}
    for _ in range(reps):
        for k, flag in settings.items():
            runs[k].append(run_child([__file__, "--alloc-child", str(batch), "--alloc-profile", profile],
                                     env={"TACR_MALLOC_TUNING": flag}))
    med = {k: {f: statistics.median(r[f] for r in v) for f in ("step_s", "sys_s")} for k, v in runs.items()}
    base = med["glibc default (TACR_MALLOC_TUNING=0)"]["step_s"]
    lines = ["### glibc allocator tuning (`tacr.runtime.tune_cpu_allocator`)", "",
             f"The trainer's rGAN D step + G step at B = {batch:,}, C = 35, `{profile}` data, one torch thread; "
             f"{reps} alternated child processes per setting, 2 timed steps each, medians.", ""]
    lines += table(["allocator", "s per step", "kernel (sys) s per step", "speed-up"],
                   [[k, f"{v['step_s']:.2f}", f"{v['sys_s']:.2f}", f"{base / v['step_s']:.2f}x"] for k, v in med.items()])
    return lines, {"batch": batch, "step_s": {k: v["step_s"] for k, v in med.items()},
                   "speedup": base / med["tuned (the default)"]["step_s"]}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--gru-histories", type=int, default=10_500)
    ap.add_argument("--alloc-reps", type=int, default=2, help="child processes per allocator setting (0: skip)")
    ap.add_argument("--alloc-batch", type=int, default=1000)
    ap.add_argument("--alloc-profile", default="quick")
    ap.add_argument("--alloc-child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--smoke", action="store_true", help="seconds: 500 histories, 3 reps, one child each at B = 100")
    ap.add_argument("--out", default=None, help="default benchmarks/results/micro.md")
    args = ap.parse_args(argv)
    if args.alloc_child:
        return alloc_child(args.alloc_child, args.alloc_profile)
    if args.smoke:
        args.reps, args.gru_histories, args.alloc_reps, args.alloc_batch, args.alloc_profile = 3, 500, 1, 100, "smoke"
    torch.set_num_threads(1)
    lines, summary = ["## Micro-benchmarks: two CPU kernels", ""], {}
    gru_lines, summary["gru"] = gru_kernels(args.gru_histories, args.reps)
    lines += gru_lines
    if args.alloc_reps:
        alloc_lines, summary["allocator"] = allocator(args.alloc_reps, args.alloc_batch, args.alloc_profile)
        lines += [""] + alloc_lines
    write_result(out_path(args.out, "micro", args.smoke), lines, summary)


if __name__ == "__main__":
    main()
