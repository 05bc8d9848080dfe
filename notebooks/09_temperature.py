# %% [markdown]
# # 09 · Sensitivity to the initial temperature T (Fig. 10)
#
# The policy of Eq. 16 divides by a temperature T (decayed by 0.98 per epoch): a high T explores
# (close to uniform sampling), a low T exploits the generator's favourites. T = 0 here is the
# greedy limit (always the top candidate). The paper finds the AUC rises then falls with T,
# best at T = 20 on both datasets it tried.

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
temperatures = [1.0, 10.0, 20.0, 30.0]

# %%
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from tacr import claims, paper, stats, study
from tacr.plots import legend_outside, oracle_line, save_data, save_figure, save_table, sweep_against_baseline

S = study.setup(dataset, data_dir, data_params, profile, seeds, device, epochs, workers)
temperatures = [float(t) for t in study.as_list(temperatures, "temperatures")]
rgan = stats.per_run(S.run(S.configs(model=model, sampler="rgan", temperature=temperatures)), by=["temperature"])
uniform = stats.per_run(S.run(S.configs(model=model, sampler="uniform")), by=["sampler"])
save_data(rgan, "fig10_runs")

# %%
fig, ax = plt.subplots(figsize=(8, 4.6))
sweep_against_baseline(ax, rgan, "temperature", uniform["val_selected_test_auc"], y="val_selected_test_auc")
ax.axvline(paper.BEST_TEMPERATURE, color="0.5", ls=":", label="paper's best T = 20")
oracle_line(ax, S.oracle)
ax.set(title=f"Fig. 10 — initial temperature T ({S.data.name})", xlabel="initial temperature T",
       ylabel="validation-selected test AUC")
legend_outside(ax)
save_figure(fig, "fig10_temperature")
plt.show()

# %%
summary = stats.summarise(rgan, "temperature")
summary["rGAN - uniform"] = summary["val_selected_auc"] - uniform["val_selected_test_auc"].mean()
save_table(summary, "fig10_temperature")
summary[["temperature", "seeds", "avg_optimal_auc", "ci_low", "ci_high", "val_selected_auc", "rGAN - uniform"]]

# %%
display(Markdown(claims.markdown(claims.temperature(rgan))))
