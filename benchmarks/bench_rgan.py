"""rGAN training step throughput: the vectorised ``tacr.samplers.RGAN`` against straightforward
one-positive-at-a-time implementations of Algorithm 1, with the same models (time_aware D and
G, built as ``tacr.train`` builds them), C = 35.

* ``vectorised B=n`` (the code path of ``tacr.train.run``): ``RGAN.step`` twice on a batch of B
  positives in a game epoch, i.e. a D step (C uniform observed negatives per positive, G's
  policy Eq. 16 in one no-grad pass over the B*C candidates, one draw each; the trainer's
  ``Critic.pairwise`` hinge update on (pos, neg) in one pass) and a G step (fresh candidates,
  Eq. 16 with gradient, reward Eq. 13 by D, REINFORCE update Eq. 15). Positives/s = B /
  (seconds of the D step + the G step): every positive goes through one D and one G update.
  Timed with ``tau_positives=0``; the row ``+ Kendall tau`` adds the Fig. 8 bookkeeping the
  trainer also does (D scores ``--tau-positives`` x C candidates per G step; the study
  profiles use 32, ``TrainConfig``'s default is 64).
* ``vectorised B=n, fused GRU + distinct rows``: the same step at the ``quick`` and ``real``
  profiles' run settings (``tacr.study.FAST_PATHS``: tacr's fused CPU GRU, G's policy once per
  distinct candidate row; same math to float rounding), same initial weights.
* ``per positive`` (written here, plain model calls): the same work one positive at a time,
  Algorithm 1 lines 5-9 with SPEC §6's alternation (a D step and a G step, each with its own C
  candidates): draw C candidates, G's policy without gradient, one draw, D's hinge update; then
  draw C fresh candidates, G's policy with gradient, one draw, reward by D, REINFORCE update of
  G with the previous positive's reward as baseline. The target's reference: the faster of
  this path with nn.GRU and with the fused GRU (``per positive, fused GRU``).
* ``per positive, one draw`` (written here): Algorithm 1 to the letter, one candidate draw per
  positive shared by the D and the G update. It skips the D step's no-grad G pass, about a
  quarter of the G work, so it is a stricter reference than the work the trainer does.

Repetitions are interleaved (every path once per repetition) and medians reported. One torch
thread by default on CPU; ``--device cuda`` times on the GPU (synchronised). Writes
``benchmarks/results/rgan.md`` and ``rgan.json``.

    .venv/bin/python benchmarks/bench_rgan.py [--batches 100,1000,4400] [--reps 3] [--ref-positives 40] [--profile] [--device cpu]
    .venv/bin/python benchmarks/bench_rgan.py --smoke      # seconds: smoke data, small batches, one rep
"""
from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import fmt, machine_line, out_path, stamp, table, write_atomic  # noqa: E402

from tacr import models, samplers  # noqa: E402
from tacr.batch import DeviceData  # noqa: E402
from tacr.samplers.adversarial import penalty, policy_logits  # noqa: E402
from tacr.study import FAST_PATHS  # noqa: E402
from tacr.train import GENERATOR_SEED_OFFSET, Critic, TrainConfig  # noqa: E402


#: Rows at the ``quick`` and ``real`` profiles' run settings (``tacr.study.FAST_PATHS``): same math, faster steps.
FAST_LABEL = "fused GRU + distinct rows"


def make_pair(dd: DeviceData, device=None, seed=0, **model_overrides):
    """D and G as ``tacr.train.run`` builds them: time_aware, each submodule initialised from
    (seed, its name), G from its own seed, the training counts of ``dd`` set."""
    device = dd.device if device is None else torch.device(device)
    D = models.seed_init(models.build("time_aware", dd.spec, **model_overrides), seed)
    G = models.seed_init(models.build("time_aware", dd.spec, **model_overrides), seed + GENERATOR_SEED_OFFSET)
    for m in (D, G):
        m.to(device).set_training_counts(dd.training_counts())
    return D, G


def step_config(n_candidates: int = 35, tau_positives: int = 0, **overrides) -> TrainConfig:
    """The run configuration the timed steps use (SPEC §6 learning rates; no pre-training)."""
    return TrainConfig(n_candidates=n_candidates, tau_positives=tau_positives, pretrain_epochs=0, **overrides)


class Vectorised:
    """The trainer's D step and G step on one batch: ``RGAN.step`` twice in a game epoch (with
    ``d_steps_per_g=1`` the steps alternate D, G), D's update by the trainer's ``Critic``."""

    def __init__(self, train, D, G, cfg: TrainConfig, seed=0):
        self.train = train
        self.gen = torch.Generator(device=train.data.device).manual_seed(seed)
        self.critic = Critic(D, cfg)
        self.sampler = samplers.build("rgan", train, cfg, self.gen, 30, critic=self.critic, gen_model=G)
        self.sampler.start_epoch(cfg.pretrain_epochs + 1)  # the first game epoch: T = cfg.temperature

    def step(self, rows):
        self.sampler.step(rows)  # D step
        self.sampler.step(rows)  # G step
        self.critic.losses.clear()


class PerPositive:
    """Algorithm 1 one positive at a time, the same models and hyper-parameters.

    ``shared_draw=False``: a D step and a G step with their own candidates (SPEC §6, the work
    of the trainer); ``True``: one draw serves both updates (Algorithm 1 to the letter)."""

    def __init__(self, train, D, G, cfg, seed=0, shared_draw=False):
        self.train, self.D, self.G, self.cfg, self.shared_draw = train, D, G, cfg, shared_draw
        self.gen = torch.Generator(device=train.data.device).manual_seed(seed)
        self.opt_d = torch.optim.Adam(D.parameters(), lr=0.02, betas=(0.9, 0.999), eps=1e-8)
        self.opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr_g, betas=(0.9, 0.999), eps=1e-8)
        self.baseline = 0.0
        self.neg = train.neg_rows

    def policy(self, pos):
        """Fresh C candidates and G's log-policy over them (Eq. 16), (C,)."""
        cand_rows = self.neg[torch.randint(len(self.neg), (self.cfg.n_candidates,), generator=self.gen, device=self.neg.device)]
        cand = self.train.batch(cand_rows)
        e_pos = self.G(pos).e_s  # (1, D)
        e_cand = self.G(cand).e_s  # (C, D)
        logp = policy_logits(e_pos, e_cand.unsqueeze(0), self.cfg.temperature).log_softmax(dim=1)[0]  # (C,)
        k = torch.multinomial(logp.detach().exp(), 1, generator=self.gen)
        return cand.take(k), logp[k]

    def d_update(self, pos, neg):
        loss = F.relu(1.0 - self.D(pos).score + self.D(neg).score).mean()
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()

    def g_update(self, pos, neg, logp_k):
        with torch.no_grad():
            po, no = self.D(pos), self.D(neg)
            r = float(no.score - penalty(po, no, self.cfg.lambda_i, self.cfg.lambda_h))
        loss = -logp_k.sum() * (r - self.baseline)
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        self.baseline = r

    def step_one(self, row):
        pos = self.train.batch(row.view(1))
        if self.shared_draw:
            neg, logp_k = self.policy(pos)
            self.d_update(pos, neg)
            self.g_update(pos, neg, logp_k)
            return
        with torch.no_grad():
            neg, _ = self.policy(pos)
        self.d_update(pos, neg)
        neg, logp_k = self.policy(pos)
        self.g_update(pos, neg, logp_k)

    def step(self, rows):
        for row in rows:
            self.step_one(row)


def timed(fn, *a, sync=lambda: None):
    sync()
    t = time.perf_counter()
    fn(*a)
    sync()
    return time.perf_counter() - t


def profile_step(runner, rows, top=14) -> list[str]:
    from torch.profiler import ProfilerActivity, profile

    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if rows.device.type == "cuda" else [])
    try:
        with profile(activities=acts) as prof:
            runner.step(rows)
        key = "self_cuda_time_total" if rows.device.type == "cuda" else "self_cpu_time_total"
        tab = prof.key_averages().table(sort_by=key, row_limit=top)
    except Exception as exc:  # noqa: BLE001 - e.g. no CUPTI in a sandboxed GPU machine
        return [f"(torch.profiler failed: {type(exc).__name__}: {exc})"]
    return ["```", *tab.strip().splitlines(), "```"]


def main(argv=None, data=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile-name", default="quick", help="synthetic profile")
    ap.add_argument("--batches", default="100,1000,4400",
                    help="positives per vectorised step (the trainer uses |positives| / 30: ~120 on quick, ~4,400 on paper)")
    ap.add_argument("--candidates", type=int, default=35)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--ref-positives", type=int, default=40)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--tau-positives", type=int, default=32,
                    help="positives per G step ranked for Kendall tau in the '+ Kendall tau' row (study profiles: 32)")
    ap.add_argument("--profile", action="store_true", help="torch.profiler table of one vectorised step")
    ap.add_argument("--reference-only", action="store_true",
                    help=f"skip the rows at the quick profile's settings ({FAST_LABEL})")
    ap.add_argument("--smoke", action="store_true",
                    help="seconds: smoke data, batches 20,100, one rep, 3 reference positives; writes to the smoke folder")
    ap.add_argument("--out", default=None, help="default benchmarks/results/rgan.md")
    args = ap.parse_args(argv)
    if args.smoke:
        args.profile_name, args.batches, args.reps, args.ref_positives = "smoke", "20,100", 1, 3
    out = out_path(args.out, "rgan.md", args.smoke)
    if args.threads:
        torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    if data is None:
        import tacr.data

        data = tacr.data.load("synthetic", profile=args.profile_name)
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    dd = DeviceData(data, device)
    train = dd["train"]
    no_tau = step_config(args.candidates, 0)
    with_tau = step_config(args.candidates, args.tau_positives)
    D, G = make_pair(dd)
    fresh = lambda: (copy.deepcopy(D), copy.deepcopy(G))  # noqa: E731
    Df, Gf = make_pair(dd, gru_kernel="fused")  # the same weights (seeded per submodule), the fused GRU
    fused = lambda: (copy.deepcopy(Df), copy.deepcopy(Gf))  # noqa: E731
    fast = step_config(args.candidates, 0, **FAST_PATHS)
    batches = [int(b) for b in args.batches.split(",")]
    runners = {f"vectorised B={b:,}": (Vectorised(train, *fresh(), no_tau), b) for b in batches}
    if not args.reference_only:
        runners |= {f"vectorised B={b:,}, {FAST_LABEL}": (Vectorised(train, *fused(), fast), b) for b in batches}
    tau_b = min(batches, key=lambda b: abs(b - 1000))
    runners[f"vectorised B={tau_b:,} + Kendall tau"] = (Vectorised(train, *fresh(), with_tau), tau_b)
    runners["per positive"] = (PerPositive(train, *fresh(), no_tau), args.ref_positives)
    if not args.reference_only:
        runners["per positive, fused GRU"] = (PerPositive(train, *fused(), no_tau), args.ref_positives)
    runners["per positive, one draw"] = (PerPositive(train, *fresh(), no_tau, shared_draw=True), args.ref_positives)
    g = torch.Generator(device=device).manual_seed(1)
    pos = train.pos_rows

    def draw(n):
        return pos[torch.randint(len(pos), (n,), generator=g, device=device)]

    for name, (r, n) in runners.items():  # warm-up
        r.step(draw(min(n, 5) if name.startswith("per positive") else n))
    secs = {name: [] for name in runners}
    for rep in range(args.reps):
        for name, (r, n) in runners.items():
            secs[name].append(timed(r.step, draw(n), sync=sync) / n)  # seconds per positive
        print(f"rgan: rep {rep + 1}/{args.reps} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    med = {k: statistics.median(v) for k, v in secs.items()}
    # the reference is the faster of the per-positive kernels (one positive's 2 x 36 rows are too
    # few for the fused kernel to pay; nn.GRU's C++ loop usually wins there)
    ref_name = min((k for k in med if k in ("per positive", "per positive, fused GRU")), key=med.get)
    ref, ref1 = med[ref_name], med["per positive, one draw"]
    rows = [[name, f"{n:,}", fmt(1 / med[name], 0), fmt(n * med[name], 3), f"{ref / med[name]:.1f}x", f"{ref1 / med[name]:.1f}x"]
            for name, (_, n) in runners.items()]
    lines = ["## rGAN training step (D step + G step), C = %d, %s" % (args.candidates, device.type.upper()), "",
             f"Data: synthetic {args.profile_name} train split ({len(pos):,} positives, {len(train.neg_rows):,} "
             f"observed negatives); models time_aware D and G; {machine_line()}"
             + (f"; {torch.cuda.get_device_name(device)}" if device.type == "cuda" else "")
             + f". Median of {args.reps} interleaved repetitions. Positives/s: every positive goes through one D "
             "update and one G update.", ""]
    lines += table(["path", "positives per call", "positives/s", "seconds per call", "vs per positive", "vs per positive, one draw"], rows)
    best = max((k for k in med if k.startswith("vectorised") and "tau" not in k), key=lambda k: ref / med[k])
    best_ref = max((k for k in med if k.startswith("vectorised") and "tau" not in k and FAST_LABEL not in k),
                   key=lambda k: ref / med[k])
    lines += ["", f"'vs per positive': against the faster per-positive path ({ref_name}). Rows marked '{FAST_LABEL}' "
              "run the `quick` and `real` profiles' settings (`gru_kernel='fused'`, `policy_distinct_rows=True`; "
              "same math, see `tacr.models.gru`), the others the `study` and `paper` profiles' (nn.GRU, every "
              "candidate row).", "",
              f"Target: the vectorised step >= 20x the per-positive reference. Best: {best}, "
              f"{ref / med[best]:.1f}x ({'met' if ref / med[best] >= 20 else 'missed'}); at the reference settings "
              f"{best_ref}, {ref / med[best_ref]:.1f}x; against Algorithm 1 to the "
              f"letter (one draw, a quarter less G work) {ref1 / med[best]:.1f}x. "
              f"'+ Kendall tau': `tau_positives={args.tau_positives}` (the study profiles' setting; `TrainConfig`'s "
              f"default is 64), the Fig. 8 statistic (D scores {args.tau_positives} x C candidates on every G step)."]
    if args.profile:
        b = batches[-1] if device.type == "cuda" else tau_b
        lines += ["", f"### torch.profiler: one vectorised step, B={b:,} (self {device.type.upper()} time)", ""]
        lines += profile_step(runners[f"vectorised B={b:,}"][0], draw(b))
    lines += ["", f"Benchmark time {time.perf_counter() - t0:.0f} s.", ""]
    text = "\n".join(lines)
    write_atomic(out, text)
    summary = {"device": device.type, "positives_per_s": {k: 1 / v for k, v in med.items()},
               "vs_per_positive": {k: ref / v for k, v in med.items()},
               "vs_one_draw": {k: ref1 / v for k, v in med.items()}, "best": best, "best_reference_settings": best_ref,
               "reference": ref_name,
               "candidates": args.candidates, "profile": args.profile_name, **stamp()}
    write_atomic(out.with_suffix(".json"), json.dumps(summary, indent=1))
    print(text)
    return {"ratio": summary["vs_per_positive"], "text": text, **summary}


if __name__ == "__main__":
    main()
