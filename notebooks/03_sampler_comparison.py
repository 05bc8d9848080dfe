# %% [markdown]
# # 03 · Sampling strategies (Table 3, Fig. 5)
#
# The paper's second claim: its **regularized adversarial sampler (rGAN)** beats six other ways
# to train the same time-aware model (SPEC §5):
#
# | sampler | loss | negative for a positive |
# |---|---|---|
# | logistic regression | pointwise | none: every positive and negative |
# | 1:5 under-sampling | pointwise | 5 uniform observed negatives |
# | user-fixed | pairwise | an observed negative of the same user |
# | uniform (RelaImpr base) | pairwise | a uniform observed negative |
# | IRGAN | pairwise | G picks among *non-positive* pairs (the user with never-clicked items) |
# | IRGAN++ | pairwise | G picks among observed negatives with the same item / category |
# | rGAN | pairwise | G picks among C uniform observed negatives, reward = score − penalty |

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
samplers = ["lr", "under", "user_fixed", "uniform", "irgan", "irgan_pp", "rgan"]

# %%
from dataclasses import replace

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from tacr import experiments as ex
from tacr import paper
from tacr.plots import legend_outside, curve_with_band, oracle_line, save_figure, save_table

data, base, oracle = ex.notebook_setup(dataset, data_dir, data_params, profile, device, epochs)
configs = [replace(base, model=model, sampler=s) for s in samplers]
runs = ex.run_grid(configs, seeds, data, scores=True, workers=workers)
runs["sampler name"] = runs["sampler"].map(paper.SAMPLER_LABELS)

# %% [markdown]
# ## Fig. 5: test AUC per epoch (mean over seeds, 95 % band)

# %%
fig, ax = plt.subplots(figsize=(8.5, 5))
curve_with_band(ax, runs, "epoch", "test_auc", "sampler name")
oracle_line(ax, oracle)
ax.set(title=f"Fig. 5 — samplers, {paper.MODEL_LABELS.get(model, model)} model ({data.name})", xlabel="epoch", ylabel="test AUC")
legend_outside(ax)
save_figure(fig, "fig5_sampler_auc")
plt.show()

# %% [markdown]
# Seconds per epoch of each sampler (training steps only, median over epochs and seeds):

# %%
speed = (runs.groupby("sampler name")["train_seconds"].median().rename("train s / epoch").reset_index()
         .sort_values("train s / epoch"))
save_table(speed, "table3_sampler_seconds", floatfmt=".2f")
speed

# %% [markdown]
# ## Table 3: average optimal AUC and RelaImpr against uniform sampling

# %%
summary = ex.summarise(runs, by=["sampler"], base={"sampler": "uniform"})
table3 = paper.beside_paper(summary, "sampler", paper.TABLE3, "uniform", paper.SAMPLER_LABELS)
save_table(table3, "table3_sampler")
table3

# %% [markdown]
# ## Within-user ranking: group AUC (beyond the paper)
# AUC over all test impressions mixes two skills: ranking items *for one user* and ranking
# *users* against each other. The group AUC (GAUC, the DIN paper's metric: the impression-weighted
# mean of per-user AUCs) isolates the first. Pairs that share the user (user-fixed) train only
# the first skill: the part of the score that depends on the user alone (history, aux features)
# gets no gradient, stays at its random initial value, and scrambles the ranking across users.
# Scores are those of each run's best-validation epoch.

# %%
from tacr.metrics import auc, gauc

rows = []
for s in samplers:
    for seed in seeds:
        sc = ex.load_scores(replace(configs[samplers.index(s)], seed=seed), data)["test"]
        rows.append({"sampler": s, "seed": seed, "test AUC": auc(data.test.label, sc),
                     "test GAUC (per user)": gauc(data.test.label, sc, data.test.user)})
within = pd.DataFrame(rows).groupby("sampler", sort=False).mean(numeric_only=True).drop(columns="seed").reset_index()
within["sampler"] = within["sampler"].map(paper.SAMPLER_LABELS)
if data.test.p_click is not None:
    within.loc[len(within)] = {"sampler": "oracle (true p_click)", "test AUC": auc(data.test.label, data.test.p_click),
                               "test GAUC (per user)": gauc(data.test.label, data.test.p_click, data.test.user)}
save_table(within, "table3_sampler_gauc")
within

# %%
lines = []
others = [s for s in samplers if s != "rgan"]
if "rgan" in samplers:
    results = [paper.verdict(summary, "sampler", "rgan", s, paper.SAMPLER_LABELS) for s in others]
    n_ok = sum(ok for ok, _ in results)
    lines.append(f"- *rGAN beats every other sampler (Table 3)*: {'**supported**' if n_ok == len(others) else '**not supported**'} "
                 f"— higher mean than {n_ok} of {len(others)}.")
    lines += [f"  - {text}" for _, text in results]
if {"irgan", "uniform"} <= set(samplers):
    ok, text = paper.verdict(summary, "sampler", "uniform", "irgan", paper.SAMPLER_LABELS)
    lines.append(f"- *IRGAN's non-positive pairs are the worst choice for CTR (below uniform)*: {text}")
if {"irgan_pp", "uniform"} <= set(samplers):
    ok, text = paper.verdict(summary, "sampler", "irgan_pp", "uniform", paper.SAMPLER_LABELS)
    lines.append(f"- *IRGAN++ (observed negatives of the same item) beats uniform*: {text}")
if {"uniform", "under"} <= set(samplers):
    ok, text = paper.verdict(summary, "sampler", "uniform", "under", paper.SAMPLER_LABELS)
    lines.append(f"- *uniform pairwise beats 1:5 under-sampling (pointwise)*: {text}")
display(Markdown("### What this run says about the paper's claims\n" + "\n".join(lines)))
