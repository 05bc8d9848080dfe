# %% [markdown]
# # 04 · Overall result (Table 4)
#
# The paper's headline: the time-aware model trained with rGAN sampling against **DIN with
# uniform sampling**, a strong and common production baseline: +14.14 % RelaImpr on
# in-station-Sep (+15.22 %, +11.03 % on the out-station sets).

# %% tags=["parameters"]
dataset = "synthetic"
data_dir = None
data_params = {}
profile = None  # None: the dataset's default ("study" on the simulator, "real" on real data); "smoke", "quick", "paper"
seeds = None  # None: the profile's (study: 5 seeds; quick: 2)
epochs = None
device = "auto"
workers = "auto"  # parallel training processes on CPU ("auto": one per core)

# %%
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from tacr import claims, paper, stats, study
from tacr.plots import epoch_curves

S = study.setup(dataset, data_dir, data_params, profile, seeds, device, epochs, workers)
configs = S.configs(model="din", sampler="uniform") + S.configs(model="time_aware", sampler="rgan")
runs = S.run(configs)
runs["variant"] = runs["model"] + "+" + runs["sampler"]
labels = {"din+uniform": "DIN + uniform", "time_aware+rgan": "ours: time-aware + rGAN"}

# %%
per = stats.per_run(runs, by=["variant"])
S.save_data(per, "table4_runs")
summary = stats.summarise(per, "variant", base={"variant": "din+uniform"})
table4 = paper.beside_paper(summary, "variant", paper.TABLE4, "din+uniform", labels)
S.save_table(table4, "table4_overall")
table4

# %%
runs["name"] = runs["variant"].map(labels)
fig = epoch_curves(runs, "name", f"Table 4 — overall: ours vs DIN + uniform ({S.data.name})", S.oracle, figsize=(7.5, 4.5))
S.save_figure(fig, "table4_overall_auc")
plt.show()

# %% [markdown]
# ## What this run says about the paper's claim
# Judged by `tacr.claims.overall_claims` from the table saved above.

# %%
display(Markdown(claims.markdown(claims.overall_claims(S.figures))))
