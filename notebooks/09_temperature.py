# %% [markdown]
# # 09 · Sensitivity to the initial temperature T (Fig. 10), and how far the policy is from uniform
#
# The policy of Eq. 16 divides by a temperature T (decayed by 0.98 per epoch): a high T explores
# (close to uniform sampling), a low T exploits the generator's favourites; T = 0 is the greedy
# limit (always the top candidate, which RecBole calls dynamic negative sampling). The paper
# finds the AUC rises then falls with T, best at T = 20.
#
# **What T means here.** Every part of the sample embedding is bounded (tanh outputs, averages of
# GRU states), so Eq. 16's logit `e_G(s')·e_G(s) / (T ||e_G(s')||)` is at most `||e_G(s)|| / T`.
# Whether the policy at a given T differs from uniform is therefore an empirical question about
# `||e_G(s)||`, which every adversarial run now measures per epoch (`tacr.samplers.policy_diagnostics`):
# the effective number of candidates `exp(H)` (C for uniform, 1 for greedy), the share of draws
# that differ from a uniform draw (total variation distance), the largest/smallest probability
# ratio and the embedding norms. The sweep covers sharp policies too, and beside the paper's
# policy a **cosine** policy (beyond the paper: also divided by `||e_G(s)||`, so its logits lie in
# [-1/T, 1/T] whatever the embedding's scale).

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
temperatures = [0.0, 1.0, 3.0, 10.0, 20.0, 30.0]  # the paper's policy (T 0: greedy)
cosine_temperatures = [0.1, 0.3, 1.0]  # beyond the paper (0.1 is Table 3's extra row)

# %%
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from IPython.display import Markdown, display

from tacr import claims, paper, stats, study


S = study.setup(dataset, data_dir, data_params, profile, seeds, device, epochs, workers)
temperatures = [float(t) for t in study.as_list(temperatures, "temperatures")]
cosine_temperatures = [float(t) for t in study.as_list(cosine_temperatures, "cosine_temperatures")]
sweep = S.sweep_seeds
runs = pd.concat([S.run(S.configs(model=model, sampler="rgan", temperature=temperatures), seeds=sweep),
                  S.run(S.configs(model=model, sampler="rgan", policy="cosine", temperature=cosine_temperatures), seeds=sweep)],
                 ignore_index=True)
uniform = stats.per_run(S.run(S.configs(model=model, sampler="uniform"), seeds=sweep), by=["sampler"])
S.save_data(uniform, "fig10_uniform_runs")
per = stats.per_run(runs, by=["policy", "temperature"])
keys = pd.MultiIndex.from_frame(per[["policy", "temperature"]].drop_duplicates())
diag = (runs[runs["game_epoch"] > 0].groupby(["policy", "temperature"])
        [["policy_effective_candidates", "policy_tv_uniform", "policy_max_min_ratio", "policy_pos_norm", "policy_cand_norm"]]
        .mean().reindex(keys).reset_index())
per = per.merge(diag, on=["policy", "temperature"])
S.save_data(per[per["policy"] == "paper"], "fig10_runs")
S.save_data(per, "fig10_all_runs")
S.save_data(runs[["policy", "temperature", "n_candidates", "seed", "epoch", "game_epoch", *[c for c in runs if c.startswith("policy_")]]],
          "fig10_policy_epochs")
print(f"{len(S.sweep_seeds)} seeds per value: {S.sweep_seeds}")

# %% [markdown]
# ## Fig. 10: AUC and the effective number of candidates against T

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 4.6))
ax = axes[0]
plot = per.assign(T=per["temperature"].where(per["temperature"] > 0, 0.03), policy=per["policy"].map(
    {"paper": "paper's policy (Eq. 16)", "cosine": "cosine policy (beyond the paper)"}))
sns.lineplot(data=plot, x="T", y="val_selected_test_auc", hue="policy", marker="o", errorbar=("ci", 95), seed=0, ax=ax)
u = uniform["val_selected_test_auc"]
ax.axhline(u.mean(), color="tab:green", label=f"uniform sampling = {u.mean():.4f}")
lo, hi = stats.t_interval(u)
if lo == lo:
    ax.axhspan(lo, hi, color="tab:green", alpha=0.15)
ax.axvline(paper.BEST_TEMPERATURE, color="0.5", ls=":", label="paper's best T = 20")
ax.set(xscale="log", xlabel="initial temperature T (log; T = 0, greedy, drawn at 0.03)",
       ylabel="validation-selected test AUC", title="Fig. 10 — AUC against T")
ax.legend(fontsize=8)
ax = axes[1]
sns.lineplot(data=plot, x="T", y="policy_effective_candidates", hue="policy", marker="o", errorbar=None, ax=ax, legend=False)
ax.axhline(S.base.n_candidates, color="0.5", ls="--", label=f"uniform: all C = {S.base.n_candidates}")
ax.set(xscale="log", yscale="log", xlabel="initial temperature T (log)", ylabel="effective candidates exp(H) (log)",
       title="How many of the C candidates the policy really chooses among")
ax.legend(fontsize=8)
fig.suptitle(f"Temperature sweep ({S.data.name}, {len(S.sweep_seeds)} seeds)", y=1.02)
S.save_figure(fig, "fig10_temperature")
plt.show()

# %%
summary = stats.summarise(per, ["policy", "temperature"])
summary = summary.merge(diag, on=["policy", "temperature"])
summary["rGAN - uniform"] = summary["val_selected_auc"] - u.mean()
# the greedy policy (T = 0) gives its top candidate all the mass: its ratio is unbounded
summary["largest/smallest probability"] = [f"{r:.2f}" if r < 1e6 else "≥ 1e6 (greedy)" for r in summary["policy_max_min_ratio"]]
table = stats.display_table(summary, ["policy", "temperature"], extra=[
    "rGAN - uniform", "policy_effective_candidates", "policy_tv_uniform", "largest/smallest probability", "policy_pos_norm"])
S.save_table(table, "fig10_temperature")
table

# %% [markdown]
# Reading the table: the effective number of candidates and the share of draws that differ from
# a uniform draw say where the policy stops being uniform sampling; the AUC column says what that
# does. The verdicts below are computed from these numbers (`tacr.claims`).

# %%
display(Markdown(claims.markdown(claims.temperature_claims(S.figures))))
