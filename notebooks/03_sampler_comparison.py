# %% [markdown]
# # 03 · Sampling strategies (Table 3, Fig. 5)
#
# The paper's second claim: its **regularized adversarial sampler (rGAN)** beats six other ways
# to train the same time-aware model (docs/method.md §5):
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
#
# Beyond the paper, two rGAN rows test *why* rGAN does or does not help (`beyond_paper`):
#
# * **rGAN, cosine policy**: Eq. 16's logit is bounded by `||e_G(s)|| / T`, about 0.4 at the
#   paper's T = 20 here, so the paper's policy is nearly uniform (notebook 09 measures it). The
#   cosine policy divides by `||e_G(s)||` too, so T has a fixed scale; at T = 0.1 its logits span
#   ±10 and the policy is sharp. Does adversarial sampling help *when it departs from uniform*?
# * **rGAN, joint schedule**: under the default alternation D trains on 15 of the 30 steps of an
#   epoch; Algorithm 1 read literally (one policy draw per step trains D, then G) gives D as
#   many updates as every other sampler here (the D updates column shows it).

# %% tags=["parameters"]
dataset = "synthetic"
data_dir = None
data_params = {}
profile = None  # None: the dataset's default ("study" on the simulator, "real" on real data); "smoke", "quick", "paper"
seeds = None  # None: the profile's (study: 5 seeds; quick: 2)
epochs = None
device = "auto"
workers = "auto"  # parallel training processes on CPU ("auto": one per core)
model = "time_aware"
samplers = ["lr", "under", "user_fixed", "uniform", "irgan", "irgan_pp", "rgan"]
beyond_paper = True  # also rGAN with a sharp cosine policy and with Algorithm 1's joint schedule
cosine_temperature = 0.1

# %%
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from dataclasses import replace

from tacr import claims, paper, stats, study
from tacr.plots import epoch_curves

S = study.setup(dataset, data_dir, data_params, profile, seeds, device, epochs, workers)
samplers = study.as_list(samplers, "samplers")
configs = S.configs(model=model, sampler=samplers)
extra = []
if beyond_paper and "rgan" in samplers:
    extra = (S.configs(model=model, sampler="rgan", policy="cosine", temperature=float(cosine_temperature))
             + S.configs(model=model, sampler="rgan", schedule="joint"))
runs = S.run(configs + extra)
VARIANTS = {("paper", "alternate"): None, ("cosine", "alternate"): "rgan_cosine", ("paper", "joint"): "rgan_joint"}
runs["variant"] = [VARIANTS[(p, sch)] or smp for smp, p, sch in zip(runs["sampler"], runs["policy"], runs["schedule"])]
runs["sampler name"] = runs["variant"].map(claims.VARIANT_LABELS)

# %% [markdown]
# ## Fig. 5: test AUC per epoch (mean over seeds, 95 % band)

# %%
fig = epoch_curves(runs, "sampler name", f"Fig. 5 — samplers, {paper.MODEL_LABELS.get(model, model)} model ({S.data.name})",
                   S.oracle, figsize=(8.5, 5))
S.save_figure(fig, "fig5_sampler_auc")
plt.show()

# %% [markdown]
# ## Table 3: average optimal AUC and RelaImpr against uniform sampling
# Beside each sampler: its D updates and wall seconds per run (adversarial samplers spend half
# their steps on the generator).

# %%
per = stats.per_run(runs, by=["variant", "sampler", "policy", "schedule"])
S.save_data(per, "table3_runs")
summary = stats.summarise(per, "variant", base={"variant": "uniform"} if "uniform" in samplers else None)
table3 = paper.beside_paper(summary, "variant", paper.TABLE3, "uniform", claims.VARIANT_LABELS)
table3["D updates / run"] = summary["d_updates_per_run"].to_numpy()
table3["seconds / run"] = summary["seconds_per_run"].round(1).to_numpy()
S.save_table(table3, "table3_sampler")
table3

# %% [markdown]
# The sanity baselines on the same split:

# %%
from tacr import baselines

base_table = baselines.table(S.data)
S.save_table(base_table, "table3_baselines")
base_table

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

# (on the fixed evaluation sample of the test split, at each run's best-validation epoch)
t = S.data.test
rows = []
for cfg in configs:
    for seed in S.seeds:
        sc = S.scorer.scores(replace(cfg, seed=seed), splits=("test",), sample=True)["test"]
        r = sc["row"].to_numpy()
        rows.append({"sampler": cfg.sampler, "seed": seed, "test AUC": auc(t.label[r], sc["score"]),
                     "test GAUC (per user)": gauc(t.label[r], sc["score"], t.user[r])})
within = pd.DataFrame(rows).groupby("sampler", sort=False).mean(numeric_only=True).drop(columns="seed").reset_index()
within["sampler"] = within["sampler"].map(paper.SAMPLER_LABELS)
if t.p_click is not None:
    within.loc[len(within)] = {"sampler": "oracle (true p_click), same rows", "test AUC": auc(t.label[r], t.p_click[r]),
                               "test GAUC (per user)": gauc(t.label[r], t.p_click[r], t.user[r])}
S.save_table(within, "table3_sampler_gauc")
within

# %% [markdown]
# ## What this run says about the paper's claims
# Judged by `tacr.claims.sampler_claims` from the tables saved above (the results page calls
# the same function on the same files).

# %%
display(Markdown(claims.markdown(claims.sampler_claims(S.figures))))
