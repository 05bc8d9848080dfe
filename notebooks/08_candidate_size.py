# %% [markdown]
# # 08 · Sensitivity to the candidate size C (Fig. 9)
#
# rGAN's generator picks each negative among C uniformly drawn observed negatives. With C = 1 it
# *is* uniform sampling; a large C lets the generator find hard negatives but also more false
# negatives. The paper uses C = 35 (in-station) and 20 (out-station) and finds C matters.

# %% tags=["parameters"]
dataset = "synthetic"
data_dir = None
data_params = {}
profile = "quick"
seeds = [0, 1, 2]
epochs = None
device = "auto"
workers = "auto"  # parallel training processes on CPU ("auto": one per core)
model = "time_aware"
candidate_sizes = [5, 20, 35]

# %%
from dataclasses import replace

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from tacr import experiments as ex
from tacr.plots import legend_outside, oracle_line, save_figure, save_table, sweep_against_baseline

data, base, oracle = ex.notebook_setup(dataset, data_dir, data_params, profile, device, epochs)
rgan = ex.run_grid([replace(base, model=model, sampler="rgan", n_candidates=int(c)) for c in candidate_sizes], seeds, data, scores=True, workers=workers)
uniform = ex.run_grid([replace(base, model=model, sampler="uniform")], seeds, data, scores=True, workers=workers)

# %%
runs_r = ex.per_run(rgan, by=["n_candidates"])
runs_u = ex.per_run(uniform, by=["sampler"])
fig, ax = plt.subplots(figsize=(8, 4.6))
sweep_against_baseline(ax, runs_r, "n_candidates", runs_u["best_test_auc"])
oracle_line(ax, oracle)
ax.set(title=f"Fig. 9 — candidate size C ({data.name})", xlabel="candidate size C", ylabel="average optimal test AUC")
legend_outside(ax)
save_figure(fig, "fig9_candidate_size")
plt.show()

# %%
summary = ex.summarise(rgan, by=["n_candidates"])
su = ex.summarise(uniform, by=["sampler"])
summary["uniform avg optimal AUC"] = su["avg_optimal_auc"].iloc[0]
summary["rGAN - uniform"] = summary["avg_optimal_auc"] - summary["uniform avg optimal AUC"]
save_table(summary, "fig9_candidate_size")
summary[["n_candidates", "seeds", "avg_optimal_auc", "ci_low", "ci_high", "val_selected_auc", "rGAN - uniform"]]

# %%
best = summary.loc[summary["avg_optimal_auc"].idxmax()]
spread = summary["avg_optimal_auc"].max() - summary["avg_optimal_auc"].min()
n_above = int((summary["rGAN - uniform"] > 0).sum())
display(Markdown(
    "### What this run says about the paper's claims\n"
    f"- *C has an obvious impact*: the average optimal AUC spans {spread:.4f} over C = {list(candidate_sizes)} "
    f"(best C = {int(best['n_candidates'])}); seed intervals are ±{(summary['ci_high'] - summary['ci_low']).mean() / 2:.4f} on average — "
    + ("**supported**." if spread > (summary['ci_high'] - summary['ci_low']).mean() / 2 else "**not supported** (within noise).") + "\n"
    f"- *rGAN beats uniform*: at {n_above} of {len(summary)} candidate sizes."))
