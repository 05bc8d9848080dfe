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
profile = None  # None: the dataset's default ("study" on the simulator, "real" on real data); "smoke", "quick", "paper"
seeds = None  # None: the profile's (study: 5 seeds; quick: 2)
epochs = None
device = "auto"
workers = "auto"  # parallel training processes on CPU ("auto": one per core)
model = "time_aware"
rewards = ["score", "penalty", "both"]

# %%
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from tacr import claims, stats, study
from tacr.plots import epoch_curves

S = study.setup(dataset, data_dir, data_params, profile, seeds, device, epochs, workers)
labels = {"score": "score only: f_D(s')", "penalty": "penalty only: -p(s, s')", "both": "both: f_D(s') - p(s, s')"}
runs = S.run(S.configs(model=model, sampler="rgan", reward=study.as_list(rewards, "rewards")))
runs["reward structure"] = runs["reward"].map(labels)

# %%
fig = epoch_curves(runs, "reward structure", f"Fig. 7 — rGAN reward structures ({S.data.name})", S.oracle)
S.save_figure(fig, "fig7_reward_ablation")
plt.show()

# %%
per = stats.per_run(runs, by=["reward"])
S.save_data(per, "fig7_runs")
summary = stats.summarise(per, "reward", base={"reward": "both"})
table = stats.display_table(summary, "reward", labels, extra=["relaimpr_pct"])
S.save_table(table, "fig7_reward_ablation")
table

# %%
display(Markdown(claims.markdown(claims.reward_claims(S.figures)) + "\n\n" + claims.policy_note(runs)))
