"""The training budget of the ``real`` profile, chosen on the validation split of MovieLens-100K
(loader defaults + ``user_id_aux=True``; item ids learned from ``raw_id_init_std=1e-4``): the
validation AUC per epoch of pointwise DIN and of the time-aware model + uniform sampler for a
few learning rates and steps per epoch, one seed. Test AUCs are not read. Writes
``benchmarks/results/real_budget_ml100k.md``.

    python benchmarks/real_budget.py [--epochs 15] [--seed 0]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd
import torch

from tacr import data as tdata
from tacr.train import TrainConfig, run

OUT = Path(__file__).parent / "results" / "real_budget_ml100k.md"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    data = tdata.load("movielens-100k", user_id_aux=True)
    # DIN over four schedules; the time-aware model (pairwise, about 10x the cost) at the
    # schedule DIN found as good as any (the simulator study's)
    grid = [("din", "lr", lr, steps) for lr, steps in ((0.005, 30), (0.005, 100), (0.002, 100), (0.001, 300))]
    grid += [("time_aware", "uniform", 0.005, 30)]
    rows = []
    for model, sampler, lr, steps in grid:
        cfg = TrainConfig(model=model, sampler=sampler, epochs=args.epochs, steps_per_epoch=steps, lr_d=lr,
                          lr_g=lr / 2, raw_id_init_std=1e-4, eval_rows=0, final_eval_rows=-1, seed=args.seed,
                          pretrain_epochs=1, n_candidates=20)
        t = time.perf_counter()
        m = run(cfg, data, quiet=True)
        secs = time.perf_counter() - t
        v = m["valid_auc"].to_numpy()
        best = int(v.argmax())
        rows.append({"model": model, "sampler": sampler, "lr": lr, "steps/epoch": steps,
                     "best valid AUC": round(float(v[best]), 4), "best epoch": best + 1,
                     "mean valid AUC, last 3 epochs": round(float(v[-3:].mean()), 4),
                     "valid AUC by epoch": " ".join(f"{x:.3f}" for x in v), "seconds": round(secs, 1)})
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text("## Training budget of the `real` profile, on MovieLens-100K's validation split\n\n"
                   f"Seed {args.seed}, {args.epochs} epochs, 1 torch thread, machine shared with the simulator study. "
                   "Only validation AUCs are read.\n\n" + table.to_markdown(index=False) + "\n")
    print(table.to_string())


if __name__ == "__main__":
    main()
