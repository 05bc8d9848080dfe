# %% [markdown]
# # 07 · Kendall tau between scores and penalties (Fig. 8)
#
# For each positive, rank its C candidates once by D's score `f_D(s')` and once by the negative
# penalty `-p(s, s')`, and take Kendall's tau between the two rankings; average over the
# positives of each generator step (the profile's `tau_positives` positives a step: 32 in the
# study, quick and real profiles) and average the steps of an epoch. A control: tau between the score ranking and a random permutation. The paper
# (out-station-Jul) finds the AUC peaks where the two rankings agree most (high tau).

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

# %%
import matplotlib.pyplot as plt
import seaborn as sns
from IPython.display import Markdown, display

from tacr import claims, study


S = study.setup(dataset, data_dir, data_params, profile, seeds, device, epochs, workers)
runs = S.run(S.configs(model=model, sampler="rgan"))
game = runs[runs["game_epoch"] > 0]

# %%
long = game.melt(id_vars=["epoch", "seed"], value_vars=["tau_penalty", "tau_random"], var_name="pair", value_name="tau")
long["pair"] = long["pair"].map({"tau_penalty": "score vs -penalty", "tau_random": "score vs random permutation"})
fig, ax = plt.subplots(figsize=(8.5, 4.8))
sns.lineplot(data=long, x="epoch", y="tau", hue="pair", marker="o", errorbar=("ci", 95), seed=0, ax=ax)
ax.axhline(0, color="0.6", lw=0.8)
ax.set(xlabel="epoch", ylabel="Kendall tau (mean over positives)")
ax2 = ax.twinx()
auc_curve = runs.groupby("epoch")["test_auc"].mean()
ax2.plot(auc_curve.index, auc_curve.values, "k--", lw=1.5, label="test AUC (right axis)")
ax2.set_ylabel("test AUC")
ax2.grid(False)
h1, l1 = ax.get_legend_handles_labels()
h2, l2 = ax2.get_legend_handles_labels()
ax.legend(h1 + h2, l1 + l2, loc="upper left", bbox_to_anchor=(1.08, 1.0), fontsize=9, frameon=False)
ax.set_title(f"Fig. 8 — Kendall tau of scores and negative penalties ({S.data.name})")
S.save_figure(fig, "fig8_kendall_tau")
plt.show()

# %%
epochs_table = game[["seed", "epoch", "tau_penalty", "tau_random", "test_auc", "valid_auc"]].reset_index(drop=True)
S.save_data(epochs_table, "fig8_epochs")
per_epoch = game.groupby("epoch")[["tau_penalty", "tau_random", "test_auc"]].mean().reset_index()
S.save_table(per_epoch, "fig8_kendall_tau")
per_epoch

# %%
display(Markdown(claims.markdown(claims.kendall_claims(S.figures)) + "\n\n" + claims.policy_note(runs)))
