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
profile = None  # None: the dataset's default ("study" on the simulator, "real" on real data); "smoke", "quick", "paper"
seeds = None  # None: the profile's (study: 5 seeds; quick: 2)
epochs = None
device = "auto"
workers = "auto"  # parallel training processes on CPU ("auto": one per core)
model = "time_aware"
candidate_sizes = [5, 20, 35]

# %%
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from tacr import claims, stats, study
from tacr.plots import legend_outside, oracle_line, sweep_against_baseline

S = study.setup(dataset, data_dir, data_params, profile, seeds, device, epochs, workers)
candidate_sizes = [int(c) for c in study.as_list(candidate_sizes, "candidate_sizes")]
rgan_runs = S.run(S.configs(model=model, sampler="rgan", n_candidates=candidate_sizes), seeds=S.sweep_seeds)
rgan = stats.per_run(rgan_runs, by=["n_candidates"])
uniform = stats.per_run(S.run(S.configs(model=model, sampler="uniform"), seeds=S.sweep_seeds), by=["sampler"])
S.save_data(rgan, "fig9_runs")
print(f"{len(S.sweep_seeds)} seeds per candidate size: {S.sweep_seeds}")

# %%
fig, ax = plt.subplots(figsize=(8, 4.6))
sweep_against_baseline(ax, rgan, "n_candidates", uniform["val_selected_test_auc"], y="val_selected_test_auc")
oracle_line(ax, S.oracle)
ax.set(title=f"Fig. 9 — candidate size C ({S.data.name})", xlabel="candidate size C", ylabel="validation-selected test AUC")
legend_outside(ax)
S.save_figure(fig, "fig9_candidate_size")
plt.show()

# %%
summary = stats.summarise(rgan, "n_candidates")
summary["rGAN - uniform"] = summary["val_selected_auc"] - uniform["val_selected_test_auc"].mean()
table = stats.display_table(summary, "n_candidates", extra=["rGAN - uniform"])
S.save_table(table, "fig9_candidate_size")
table

# %%
display(Markdown(claims.markdown(claims.candidate_size_claims(S.figures)) + "\n\n" + claims.policy_note(rgan_runs)))
