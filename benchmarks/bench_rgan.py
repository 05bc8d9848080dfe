"""rGAN training step throughput: the vectorised ``tacr.samplers.RGAN`` against a one-positive-at-a-time
reference of Algorithm 1, with the same models (time_aware D and G), C = 35.

* ``vectorised`` (the real code path of ``tacr.train.run``): for a batch of B positives,
  ``sampler.negatives(pos)`` (C uniform observed negatives per positive, G's policy Eq. 16 in
  one pass over B*C candidates, one draw each) + D's hinge update on (pos, neg); then
  ``sampler.g_step(pos)`` (fresh candidates, REINFORCE update of G, reward Eq. 13 by D, and the
  Kendall-tau bookkeeping of Fig. 8 on ``tau_positives`` = 64 positives, which the trainer
  also does). Positives/s = B / (seconds of the D step + the G step): every positive goes
  through one D and one G update.
* ``reference`` (written here): for each positive alone: draw C candidates, G embeds them and
  the positive, policy softmax, one draw, D hinge update on the pair, reward by the updated D,
  REINFORCE update of G with the previous positive's reward as baseline. Positives/s = 1 /
  seconds per positive (measured on ``--ref-positives`` positives per repetition).

Repetitions are interleaved (vectorised B=100, vectorised B=1000, reference) and medians
reported. One torch thread by default. Writes ``benchmarks/results/rgan.md``.

    .venv/bin/python benchmarks/bench_rgan.py [--batches 100,1000] [--reps 3] [--ref-positives 60] [--profile]
"""
from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, fmt, machine_line, table, write_atomic  # noqa: E402

from tacr import models, samplers  # noqa: E402
from tacr.batch import DeviceData  # noqa: E402
from tacr.samplers.adversarial import penalty, policy_logits  # noqa: E402
from tacr.train import hinge_loss  # noqa: E402


def make_pair(spec, seed=0):
    torch.manual_seed(seed)
    D = models.build("time_aware", spec)
    G = models.build("time_aware", spec)
    return D, G


class Vectorised:
    def __init__(self, train, D, G, cfg, seed=0):
        self.train, self.D = train, D
        self.gen = torch.Generator().manual_seed(seed)
        self.sampler = samplers.build("rgan", train, cfg, self.gen, 30, discriminator=D, gen_model=G)
        self.opt_d = torch.optim.Adam(D.parameters(), lr=0.02, betas=(0.9, 0.999), eps=1e-8)

    def step(self, rows):
        pos = self.train.batch(rows)
        neg = self.sampler.negatives(pos)
        loss = hinge_loss(self.D(pos).score, self.D(neg).score, 1.0)
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        self.sampler.g_step(pos)


class Reference:
    """Algorithm 1, one positive at a time, the same models and hyper-parameters."""

    def __init__(self, train, D, G, cfg, seed=0):
        self.train, self.D, self.G, self.cfg = train, D, G, cfg
        self.gen = torch.Generator().manual_seed(seed)
        self.opt_d = torch.optim.Adam(D.parameters(), lr=0.02, betas=(0.9, 0.999), eps=1e-8)
        self.opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr_g, betas=(0.9, 0.999), eps=1e-8)
        self.baseline = 0.0
        self.neg = train.neg_rows

    def step_one(self, row):
        C, T = self.cfg.n_candidates, self.cfg.temperature
        pos = self.train.batch(row.view(1))
        cand_rows = self.neg[torch.randint(len(self.neg), (C,), generator=self.gen)]
        cand = self.train.batch(cand_rows)
        e_pos = self.G(pos).e_s  # (1, D)
        e_cand = self.G(cand).e_s  # (C, D)
        logp = policy_logits(e_pos, e_cand.unsqueeze(0), T).log_softmax(dim=1)[0]  # (C,)
        k = int(torch.multinomial(logp.detach().exp(), 1, generator=self.gen))
        neg = cand.take(torch.tensor([k]))
        # D update on the pair
        loss_d = F.relu(1.0 - self.D(pos).score + self.D(neg).score).mean()
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        # reward by D, REINFORCE update of G
        with torch.no_grad():
            po, no = self.D(pos), self.D(neg)
            r = float(no.score - penalty(po, no, self.cfg.lambda_i, self.cfg.lambda_h))
        loss_g = -logp[k] * (r - self.baseline)
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        self.baseline = r

    def step(self, rows):
        for row in rows:
            self.step_one(row)


def timed(fn, *a):
    t = time.perf_counter()
    fn(*a)
    return time.perf_counter() - t


def profile_step(runner, rows, top=12) -> list[str]:
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        runner.step(rows)
    tab = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=top)
    return ["```", *tab.strip().splitlines(), "```"]


def main(argv=None, data=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile-name", default="quick", help="synthetic profile")
    ap.add_argument("--batches", default="100,1000", help="positives per vectorised step")
    ap.add_argument("--candidates", type=int, default=35)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--ref-positives", type=int, default=60)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--profile", action="store_true", help="torch.profiler table of one vectorised step")
    ap.add_argument("--out", default=str(RESULTS / "rgan.md"))
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    if data is None:
        import tacr.data

        data = tacr.data.load("synthetic", profile=args.profile_name)
    train = DeviceData(data, "cpu")["train"]
    cfg = samplers.SamplerConfig(n_candidates=args.candidates)
    D, G = make_pair(data.spec)
    batches = [int(b) for b in args.batches.split(",")]
    runners = {f"vectorised B={b}": (Vectorised(train, copy.deepcopy(D), copy.deepcopy(G), cfg), b) for b in batches}
    # the same step without the Fig. 8 Kendall-tau bookkeeping (tau_positives=0): its cost share
    no_tau = samplers.SamplerConfig(n_candidates=args.candidates, tau_positives=0)
    runners[f"vectorised B={batches[0]}, no Kendall tau"] = (Vectorised(train, copy.deepcopy(D), copy.deepcopy(G), no_tau), batches[0])
    runners["reference"] = (Reference(train, copy.deepcopy(D), copy.deepcopy(G), cfg), args.ref_positives)
    g = torch.Generator().manual_seed(1)
    pos = train.pos_rows

    def draw(n):
        return pos[torch.randint(len(pos), (n,), generator=g)]

    for name, (r, n) in runners.items():  # warm-up
        r.step(draw(min(n, 10) if name == "reference" else n))
    secs = {name: [] for name in runners}
    for rep in range(args.reps):
        for name, (r, n) in runners.items():
            secs[name].append(timed(r.step, draw(n)) / n)  # seconds per positive
        print(f"rgan: rep {rep + 1}/{args.reps} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    med = {k: statistics.median(v) for k, v in secs.items()}
    ref = med["reference"]
    rows = [[name, n, fmt(1 / med[name], 0), fmt(n * med[name], 3), f"{ref / med[name]:.1f}x"] for name, (_, n) in runners.items()]
    lines = ["## rGAN training step (D step + G step), C = %d" % args.candidates, "",
             f"Data: synthetic {args.profile_name} train split ({len(pos):,} positives, {len(train.neg_rows):,} "
             f"observed negatives); models time_aware D and G; {machine_line()}. Median of {args.reps} interleaved "
             "repetitions. Positives/s: every positive goes through one D update and one G update.", ""]
    lines += table(["path", "positives per step", "positives/s", "seconds per step", "vs reference"], rows)
    lines += ["", "Target: vectorised >= 20x the one-positive-at-a-time reference. 'no Kendall tau': "
              "`SamplerConfig(tau_positives=0)`, i.e. without the Fig. 8 statistic that `g_step` computes by "
              "scoring 64 x C candidates with D on every G step."]
    if args.profile:
        b = batches[-1]
        lines += ["", f"### torch.profiler: one vectorised step, B={b} (self CPU time)", ""]
        lines += profile_step(runners[f"vectorised B={b}"][0], draw(b))
    lines += ["", f"Benchmark time {time.perf_counter() - t0:.0f} s.", ""]
    text = "\n".join(lines)
    write_atomic(Path(args.out), text)
    print(text)
    return {"ratio": {k: ref / v for k, v in med.items()}, "text": text}


if __name__ == "__main__":
    main()
