# %% [markdown]
# # 00 · Tuning every row alike (beyond the paper)
#
# The paper tunes each method; a comparison where one row trains at settings chosen for
# another is not a fair one. This notebook applies one protocol, fixed before it runs, to every
# row of Tables 2–4 and to the rows beyond the paper (`tacr.tune`):
#
# * the same **search space** for every row: D's learning rate in {0.001, 0.002, 0.005, 0.01,
#   0.02} with G's at half of it, 30 or 100 updates per epoch, an L2 penalty of 0 or 1e-4;
# * the same **four settings** for every row: the profile's own, then three drawn once from the
#   rest by a seeded generator;
# * each trial trains the profile's epochs + 2 on **one seed** that no study run uses, and is
#   scored by its best **validation** AUC over its epochs (the study's own epoch selection);
#   no test AUC is read;
# * each row keeps its best trial's setting and trains for the epochs at which that trial peaked.
#
# With `retune = False` (the default) the notebook shows the committed table the study reads;
# `./run_all.sh --only 00 -p retune True` (with your dataset's parameters) runs the trials —
# resumable from the run cache, on any executor — and writes `tuning.csv` into the results
# folder, which every later notebook of that dataset then reads.

# %% tags=["parameters"]
dataset = "synthetic"
data_dir = None
data_params = {}
profile = None  # None: the dataset's default ("study" on the simulator, "real" on real data); "smoke", "quick", "paper"
seeds = None  # not used for tuning (one seed of its own), kept so every notebook takes the same parameters
device = "auto"
workers = "auto"  # parallel training processes on CPU ("auto": one per core)
retune = False  # True: run the trials and write tuning.csv; False: show the table the study reads
rows = None  # None: every row of tacr.tune.ROWS; or a list of row names

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from IPython.display import Markdown, display

from tacr import study, tune
from tacr.params import as_bool
from tacr.profiles import read_record

S = study.setup(dataset, data_dir, data_params, profile, seeds, device, None, workers)
retune = as_bool(retune, "retune")
rows = None if rows is None else study.as_list(rows, "rows")
print(f"{S.data.name}, profile {S.profile}: {len(rows or tune.ROWS)} rows x {tune.TRIALS} trials of "
      f"{S.base.epochs + tune.EXTRA_EPOCHS} epochs")
pd.DataFrame(tune.settings(S.base)).rename_axis("trial")

# %%
trials = None
if retune:
    table, trials, _ = tune.tune(S, rows)
    S.save_table(table, "tuning")
    S.save_table(trials, "tuning_trials")
elif S.tuning is not None:
    table = S.tuning
    source = read_record(S.figures).get("tuning")
    print(f"the table this study reads: {source}")
    trials_file = Path(source).with_name("tuning_trials.csv") if source else None
    if trials_file is not None and not trials_file.is_absolute():
        trials_file = study.ROOT / trials_file
    trials = pd.read_csv(trials_file) if trials_file is not None and trials_file.exists() else None
else:
    table = None
    display(Markdown(f"No tuning table for `{dataset}` at the `{S.profile}` profile: every row trains at the "
                     f"profile's shared setting. Run the trials with `./run_all.sh --only 00 -p retune True` "
                     f"(and this dataset's parameters)."))
if table is not None:
    display(table)

# %% [markdown]
# ## Every trial's validation curve
# One panel per row, one line per trial (trial 0: the profile's own setting).

# %%
if trials is not None:
    curves = pd.DataFrame([{"row": r, "trial": k, "epoch": e + 1, "valid AUC": float(v)}
                           for r, k, by_epoch in zip(trials["row"], trials["trial"], trials["valid AUC by epoch"])
                           for e, v in enumerate(by_epoch.split())])
    grid = sns.relplot(data=curves, x="epoch", y="valid AUC", hue="trial", col="row", col_wrap=5, kind="line",
                       marker="o", height=2.2, aspect=1.3, palette="colorblind", facet_kws={"sharey": False})
    grid.set_titles("{col_name}", size=8)
    grid.figure.suptitle(f"Validation AUC of each trial by epoch ({S.data.name})", y=1.02)
    S.save_figure(grid.figure, "tuning_validation_curves")
    plt.show()

# %% [markdown]
# Reading the table: `trial` 0 is the profile's own setting, so a row whose best trial is 0 was
# not helped by the search; `epochs` is where its best trial peaked on validation. A row that
# peaks at the last epoch trained (the profile's epochs + 2) might gain from more.

# %%
if table is not None:
    cap = S.base.epochs + tune.EXTRA_EPOCHS
    own = int((table["trial"] == 0).sum())
    at_cap = table.loc[table["epochs"] >= cap, "row"].tolist()
    display(Markdown(f"{own} of {len(table)} rows keep the profile's own setting; "
                     + (f"{len(at_cap)} peak at the last epoch trained ({cap}): {', '.join(at_cap)}." if at_cap
                        else f"no row peaks at the last epoch trained ({cap}).")))
