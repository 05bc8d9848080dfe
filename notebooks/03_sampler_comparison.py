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
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from dataclasses import replace

from tacr import claims, paper, stats, study
from tacr.experiments import load_scores
from tacr.plots import curve_with_band, legend_outside, oracle_line, save_data, save_figure, save_table

S = study.setup(dataset, data_dir, data_params, profile, seeds, device, epochs, workers)
samplers = study.as_list(samplers, "samplers")
configs = S.configs(model=model, sampler=samplers)
runs = S.run(configs, scores=True)
runs["sampler name"] = runs["sampler"].map(paper.SAMPLER_LABELS)

# %% [markdown]
# ## Fig. 5: test AUC per epoch (mean over seeds, 95 % band)

# %%
fig, ax = plt.subplots(figsize=(8.5, 5))
curve_with_band(ax, runs, "epoch", "test_auc", "sampler name")
oracle_line(ax, S.oracle)
ax.set(title=f"Fig. 5 — samplers, {paper.MODEL_LABELS.get(model, model)} model ({S.data.name})", xlabel="epoch", ylabel="test AUC")
legend_outside(ax)
save_figure(fig, "fig5_sampler_auc")
plt.show()

# %% [markdown]
# ## Table 3: average optimal AUC and RelaImpr against uniform sampling
# Beside each sampler: its D updates and wall seconds per run (adversarial samplers spend half
# their steps on the generator).

# %%
per = stats.per_run(runs, by=["sampler"])
save_data(per, "table3_runs")
summary = stats.summarise(per, "sampler", base={"sampler": "uniform"} if "uniform" in samplers else None)
table3 = paper.beside_paper(summary, "sampler", paper.TABLE3, "uniform", paper.SAMPLER_LABELS)
table3["D updates / run"] = summary["d_updates_per_run"].to_numpy()
table3["seconds / run"] = summary["seconds_per_run"].to_numpy()
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
for cfg in configs:
    for seed in S.seeds:
        sc = load_scores(replace(cfg, seed=seed), S.data)["test"]
        rows.append({"sampler": cfg.sampler, "seed": seed, "test AUC": auc(S.data.test.label, sc),
                     "test GAUC (per user)": gauc(S.data.test.label, sc, S.data.test.user)})
within = pd.DataFrame(rows).groupby("sampler", sort=False).mean(numeric_only=True).drop(columns="seed").reset_index()
within["sampler"] = within["sampler"].map(paper.SAMPLER_LABELS)
if S.data.test.p_click is not None:
    t = S.data.test
    within.loc[len(within)] = {"sampler": "oracle (true p_click)", "test AUC": auc(t.label, t.p_click),
                               "test GAUC (per user)": gauc(t.label, t.p_click, t.user)}
save_table(within, "table3_sampler_gauc")
within

# %%
display(Markdown(claims.markdown(claims.table3(per))))
