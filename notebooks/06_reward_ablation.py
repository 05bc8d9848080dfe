# %% [markdown]
# # 06 · Reward ablation (Fig. 7)
#
# rGAN's reward (Eq. 13) has two parts: D's score of the drawn negative (*competitive*) and
# minus the distance penalty of Eq. 10 between the positive and the negative in D's embedding
# space (*correlative*). The paper drops one at a time and finds both indispensable:
# score + penalty > either alone.

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
rewards = ["score", "penalty", "both"]

# %%
from dataclasses import replace

import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from tacr import experiments as ex
from tacr.plots import legend_outside, curve_with_band, oracle_line, save_figure, save_table

data, base, oracle = ex.notebook_setup(dataset, data_dir, data_params, profile, device, epochs)
labels = {"score": "score only: f_D(s')", "penalty": "penalty only: -p(s, s')", "both": "both: f_D(s') - p(s, s')"}
configs = [replace(base, model=model, sampler="rgan", reward=r) for r in rewards]
runs = ex.run_grid(configs, seeds, data, scores=True, workers=workers)
runs["reward structure"] = runs["reward"].map(labels)

# %%
fig, ax = plt.subplots(figsize=(8, 4.6))
curve_with_band(ax, runs, "epoch", "test_auc", "reward structure")
oracle_line(ax, oracle)
ax.set(title=f"Fig. 7 — rGAN reward structures ({data.name})", xlabel="epoch", ylabel="test AUC")
legend_outside(ax)
save_figure(fig, "fig7_reward_ablation")
plt.show()

# %%
summary = ex.summarise(runs, by=["reward"], base={"reward": "both"})
table = summary[["reward", "seeds", "avg_optimal_auc", "ci_low", "ci_high", "val_selected_auc", "relaimpr_pct"]].copy()
table["reward"] = table["reward"].map(labels)
save_table(table, "fig7_reward_ablation")
table

# %%
from tacr import paper

lines = []
for other in ("score", "penalty"):
    if other in rewards and "both" in rewards:
        ok, text = paper.verdict(summary, "reward", "both", other, labels)
        lines.append(f"- *score + penalty beats {labels[other]}*: {text}")
display(Markdown("### What this run says about the paper's claims\n" + "\n".join(lines)))
