"""The rGAN training step: the trainer's batched D step + G step against one positive at a time.

``batched B=n``: two ``step`` calls of ``tacr.samplers``' rGAN in a game epoch (a D step, then a
G step) on n positives, D updated by the trainer's ``Critic``, at the reference paths (``nn.GRU``,
every candidate row) and at the trainer's own (the fused GRU, distinct candidate rows). ``per positive`` (written here): the same
work as Algorithm 1 reads, one positive at a time: C candidates, G's policy (Eq. 16), one draw,
D's hinge update; then C fresh candidates, G's policy with gradient, D's reward (Eq. 10, 15), a
REINFORCE update with the previous reward as baseline; the reference is the faster of ``nn.GRU``
and the fused GRU. ``one draw``: one draw per positive serves both updates (Algorithm 1 to the
letter, less G work: a stricter reference). Same initial weights everywhere; interleaved
repetitions, medians.

    python benchmarks/bench_rgan.py [--batches 100,1000,4400] [--reps 3] [--device cpu]
    python benchmarks/bench_rgan.py --smoke
"""
from __future__ import annotations

import argparse
import copy
from dataclasses import replace

import torch
import torch.nn.functional as F

from common import fmt, interleaved, out_path, table, write_result

from tacr import models, samplers
from tacr.batch import DeviceData
from tacr.train import GENERATOR_SEED_OFFSET, Critic, TrainConfig


def make_pair(dd: DeviceData, seed: int = 0, **overrides):
    """D and G as ``tacr.train.run`` builds them (time-aware, seeded per submodule, training counts set)."""
    out = [models.seed_init(models.build("time_aware", dd.spec, **overrides), s) for s in (seed, seed + GENERATOR_SEED_OFFSET)]
    for m in out:
        m.to(dd.device).set_training_counts(dd.training_counts())
    return out


class Batched:
    """The trainer's D step and G step on one batch of positives (first game epoch)."""

    def __init__(self, train, D, G, cfg: TrainConfig):
        self.critic = Critic(D, cfg)
        gen = torch.Generator(device=train.data.device).manual_seed(0)
        self.sampler = samplers.build("rgan", train, cfg, gen, 30, critic=self.critic, gen_model=G)
        self.sampler.start_epoch(cfg.pretrain_epochs + 1)

    def step(self, rows):
        self.sampler.step(rows)  # D step
        self.sampler.step(rows)  # G step
        self.critic.losses.clear()


class PerPositive:
    """Algorithm 1 one positive at a time (``shared_draw``: one draw serves D and G)."""

    def __init__(self, train, D, G, cfg: TrainConfig, shared_draw: bool = False):
        self.train, self.D, self.G, self.cfg, self.shared_draw, self.baseline = train, D, G, cfg, shared_draw, 0.0
        self.gen = torch.Generator(device=train.data.device).manual_seed(0)
        self.opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr_d)
        self.opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr_g)

    def policy(self, pos):
        """C fresh candidates, one drawn from G's policy, and its log-probability."""
        neg = self.train.neg_rows
        cand = self.train.batch(neg[torch.randint(len(neg), (self.cfg.n_candidates,), generator=self.gen, device=neg.device)])
        logp = samplers.policy_logits(self.G(pos).e_s, self.G(cand).e_s.unsqueeze(0), self.cfg.temperature)
        logp = logp.log_softmax(dim=1)[0]  # (C,)
        k = torch.multinomial(logp.detach().exp(), 1, generator=self.gen)
        return cand.take(k), logp[k]

    def update(self, opt, loss):
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    def step(self, rows):
        for row in rows:
            pos = self.train.batch(row.view(1))
            with torch.set_grad_enabled(self.shared_draw):
                neg, logp = self.policy(pos)
            self.update(self.opt_d, F.relu(1.0 - self.D(pos).score + self.D(neg).score).mean())
            if not self.shared_draw:
                neg, logp = self.policy(pos)
            with torch.no_grad():
                po, no = self.D(pos), self.D(neg)
                r = float(no.score - samplers.penalty(po, no, self.cfg.lambda_i, self.cfg.lambda_h))
            self.update(self.opt_g, -logp.sum() * (r - self.baseline))
            self.baseline = r


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile-name", default="quick", help="synthetic profile of the data")
    ap.add_argument("--batches", default="100,1000,4400", help="positives per batched step (paper profile: ~4,400)")
    ap.add_argument("--candidates", type=int, default=35)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--ref-positives", type=int, default=40, help="positives per timed call of the per-positive paths")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--smoke", action="store_true", help="seconds: smoke data, batches 20,100, one rep")
    ap.add_argument("--out", default=None, help="default benchmarks/results/rgan.md")
    args = ap.parse_args(argv)
    if args.smoke:
        args.profile_name, args.batches, args.reps, args.ref_positives = "smoke", "20,100", 1, 3
    torch.set_num_threads(1)
    import tacr.data

    dd = DeviceData(tacr.data.load("synthetic", profile=args.profile_name), args.device)
    train = dd["train"]
    fast = TrainConfig(n_candidates=args.candidates, tau_positives=0, pretrain_epochs=0)  # the trainer's paths
    cfg = replace(fast, gru_kernel="packed", policy_distinct_rows=False)  # the reference paths
    ref_pair, fused_pair = make_pair(dd), make_pair(dd, gru_kernel="fused")
    pair = lambda p: [copy.deepcopy(m) for m in p]  # noqa: E731 - every path starts from the same weights
    runners = {}
    for b in map(int, args.batches.split(",")):
        runners[f"batched B={b:,}"] = (Batched(train, *pair(ref_pair), cfg), b)
        runners[f"batched B={b:,}, fast paths"] = (Batched(train, *pair(fused_pair), fast), b)
    runners["per positive"] = (PerPositive(train, *pair(ref_pair), cfg), args.ref_positives)
    runners["per positive, fused GRU"] = (PerPositive(train, *pair(fused_pair), cfg), args.ref_positives)
    runners["per positive, one draw"] = (PerPositive(train, *pair(ref_pair), cfg, shared_draw=True), args.ref_positives)
    g = torch.Generator(device=dd.device).manual_seed(1)
    draw = lambda n: train.pos_rows[torch.randint(len(train.pos_rows), (n,), generator=g, device=dd.device)]  # noqa: E731
    for r, n in runners.values():  # warm-up
        r.step(draw(n if isinstance(r, Batched) else min(n, 5)))
    sync = torch.cuda.synchronize if dd.device.type == "cuda" else (lambda: None)
    med = interleaved({k: (lambda r=r, n=n: r.step(draw(n))) for k, (r, n) in runners.items()}, args.reps, sync)
    per_pos = {k: med[k] / n for k, (_, n) in runners.items()}  # seconds per positive
    ref = min(per_pos["per positive"], per_pos["per positive, fused GRU"])
    vs = {k: ref / v for k, v in per_pos.items()}
    best = max((k for k in vs if k.startswith("batched")), key=vs.get)
    lines = [f"## rGAN step: batched vs one positive at a time ({args.device})", "",
             f"Synthetic `{args.profile_name}` train split ({len(train.pos_rows):,} positives), time-aware D and G, "
             f"C = {args.candidates}; a D step and a G step per positive; median of {args.reps} interleaved "
             "repetitions. 'fast paths': the trainer's own (fused GRU, distinct candidate rows). 'vs per positive': against the faster "
             "per-positive path.", ""]
    lines += table(["path", "positives per call", "positives/s", "vs per positive", "vs one draw"],
                   [[k, f"{n:,}", fmt(1 / per_pos[k]), f"{vs[k]:.1f}x", f"{per_pos['per positive, one draw'] / per_pos[k]:.1f}x"]
                    for k, (_, n) in runners.items()])
    write_result(out_path(args.out, "rgan", args.smoke), lines,
                 {"profile": args.profile_name, "positives_per_s": {k: 1 / v for k, v in per_pos.items()},
                  "vs_per_positive": vs, "best": best, "best_vs_per_positive": vs[best],
                  "best_vs_one_draw": per_pos["per positive, one draw"] / per_pos[best]}, args.device)


if __name__ == "__main__":
    main()
