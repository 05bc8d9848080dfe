"""The tuning protocol: every row of Tables 2-4 and the rows beyond the paper tuned alike, on
the validation split only (docs/study.md, "Tuning").

The protocol is fixed here, before it runs, and is the same for every row of a dataset:

* **Search space** (:data:`SPACE`): D's learning rate ``lr_d`` in {0.001, 0.002, 0.005, 0.01,
  0.02} with G's at half of it (the paper's 2:1 ratio), updates per epoch ``steps_per_epoch``
  in {30, 100} (the batch is the epoch's rows over the steps, so more steps are more, smaller
  updates), and an L2 penalty ``weight_decay`` in {0, 1e-4}: 20 settings.
* **Trials** (:data:`TRIALS` = 4): the profile's own setting, then three settings drawn once
  from the other 19 by a generator seeded with :data:`DRAW_SEED`: the same four settings for
  every row, so every row has the same chances.
* **Epochs**: each trial trains the profile's epochs + :data:`EXTRA_EPOCHS` and scores the
  validation split after every epoch; its score is its best validation AUC over those epochs
  (the study's own epoch selection), reached at its selected epoch.
* **One seed** (:data:`TUNE_SEED`), none of the study's seeds; no test AUC is read (a test
  checks that permuting the test AUCs changes no choice).
* **Choice**: per row the trial with the highest score (the earlier on a tie); the row then
  trains at that setting for the selected epoch's number of epochs (at least one game epoch for
  the adversarial samplers), and its epoch is again chosen on validation per run.

Rows (:func:`row_of`) are a model and a sampler, with the variants beyond the paper (cosine
policy, joint schedule); the sweeps of Figs. 7, 9 and 10 (reward, candidate count C,
temperature T) run at their row's tuned setting. Trials are ordinary runs: they go through the
run cache (resumable) and any executor (:func:`tacr.runs.run_grid`). The chosen settings are
written to ``tuning.csv`` in the dataset's results folder (:func:`tacr.profiles.tuning_file`),
beside every trial's scores (``tuning_trials.csv``); :func:`tacr.study.setup` reads the table.
"""
from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pandas as pd

from .train import TrainConfig

SPACE = {"lr_d": (0.001, 0.002, 0.005, 0.01, 0.02), "steps_per_epoch": (30, 100), "weight_decay": (0.0, 1e-4)}
TRIALS = 4
EXTRA_EPOCHS = 2
DRAW_SEED = 0
TUNE_SEED = 1000
#: What a tuning table sets for a row.
SETTINGS = ("lr_d", "lr_g", "steps_per_epoch", "weight_decay", "epochs")

#: The rows of Tables 2-4 and beyond: row name -> TrainConfig overrides (Table 2's models with
#: rGAN, Table 3's samplers with the time-aware model, the variants beyond the paper, Table 4's DIN
#: + uniform).
ROWS: dict[str, dict] = {
    **{f"{m}+rgan": dict(model=m, sampler="rgan")
       for m in ("gru", "din", "gru_attention", "time_aware", "din_time", "din_time_dt", "time_aware_no_dt")},
    **{f"time_aware+{s}": dict(model="time_aware", sampler=s)
       for s in ("lr", "under", "user_fixed", "uniform", "irgan", "irgan_pp")},
    "time_aware+rgan+cosine": dict(model="time_aware", sampler="rgan", policy="cosine", temperature=0.1),
    "time_aware+rgan+joint": dict(model="time_aware", sampler="rgan", schedule="joint"),
    "din+uniform": dict(model="din", sampler="uniform"),
}


def row_of(config: TrainConfig) -> str:
    """The tuning row a config trains as: model + sampler, and the variant beyond the paper."""
    return (f"{config.model}+{config.sampler}" + ("+cosine" if config.policy == "cosine" else "")
            + ("+joint" if config.schedule == "joint" else ""))


def settings(base: TrainConfig) -> list[dict]:
    """The :data:`TRIALS` settings every row tries: ``base``'s own first, then draws from the
    rest of :data:`SPACE` (seeded: the same for every row and every dataset)."""
    grid = [dict(zip(SPACE, values)) for values in itertools.product(*SPACE.values())]
    own = {"lr_d": base.lr_d, "steps_per_epoch": base.steps_per_epoch, "weight_decay": base.weight_decay}
    rest = [s for s in grid if s != own]
    picks = np.random.default_rng(DRAW_SEED).choice(len(rest), size=min(TRIALS - 1, len(rest)), replace=False)
    return [{**s, "lr_g": s["lr_d"] / 2} for s in [own] + [rest[i] for i in sorted(picks)]]


def trial_configs(base: TrainConfig, rows=None) -> list[tuple[str, int, TrainConfig]]:
    """(row, trial, config) of every trial: each row at each of :func:`settings`, for the
    profile's epochs + :data:`EXTRA_EPOCHS`, on :data:`TUNE_SEED`."""
    out = []
    for row in rows or ROWS:
        if row not in ROWS:
            raise ValueError(f"unknown tuning row {row!r}; the rows are {list(ROWS)}")
        for k, s in enumerate(settings(base)):
            out.append((row, k, replace(base, **ROWS[row], **s, epochs=base.epochs + EXTRA_EPOCHS, seed=TUNE_SEED)))
    return out


def score_trials(runs: pd.DataFrame, trials: list[tuple[str, int, TrainConfig]], fingerprint: str) -> pd.DataFrame:
    """One row per trial: its setting, best validation AUC and the epoch it was reached at
    (validation columns only; ``runs`` is :func:`tacr.runs.run_grid`'s output for the trials on
    data with ``fingerprint``)."""
    from .runs import run_key
    from .samplers import SAMPLERS

    rows = []
    for row, k, cfg in trials:
        g = runs[runs["run_key"] == run_key(cfg, fingerprint)].sort_values("epoch")
        best = g.loc[g["valid_auc"].idxmax()]  # the first epoch of the highest validation AUC
        pretrain = cfg.pretrain_epochs if SAMPLERS[cfg.sampler].adversarial else 0
        rows.append({"row": row, "trial": k, **{f: getattr(cfg, f) for f in SETTINGS if f != "epochs"},
                     "valid AUC": float(best["valid_auc"]), "selected epoch": int(best["epoch"]),
                     "epochs": max(int(best["epoch"]), pretrain + 1), "epochs trained": int(g["epoch"].max()),
                     "valid AUC by epoch": " ".join(f"{v:.4f}" for v in g["valid_auc"])})
    return pd.DataFrame(rows)


def choose(trials: pd.DataFrame) -> pd.DataFrame:
    """Per row the trial with the highest validation AUC (the earlier trial on a tie)."""
    best = trials.sort_values(["row", "valid AUC", "trial"], ascending=[True, False, True]).groupby("row", sort=False).head(1)
    order = {r: i for i, r in enumerate(ROWS)}
    best = best.assign(trials=trials.groupby("row")["trial"].count().reindex(best["row"]).to_numpy())
    return best.sort_values("row", key=lambda s: s.map(order)).reset_index(drop=True)[
        ["row", *SETTINGS, "valid AUC", "trial", "trials"]]


def tune(study, rows=None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Run every trial on a :class:`tacr.study.Study`'s data with its workers (resumable from the
    run cache) and choose. Returns (the chosen table, every trial's scores, the trials'
    per-epoch rows, with their ``row`` and ``trial``)."""
    from .runs import run_key

    trials = trial_configs(study.base, rows)
    runs = study.run([cfg for _, _, cfg in trials], seeds=[TUNE_SEED])
    fingerprint = study.data.fingerprint()
    scored = score_trials(runs, trials, fingerprint)
    which = {run_key(cfg, fingerprint): (row, k) for row, k, cfg in trials}
    runs = runs.assign(row=runs["run_key"].map(lambda key: which[key][0]), trial=runs["run_key"].map(lambda key: which[key][1]))
    return choose(scored), scored, runs


def apply(config: TrainConfig, table: pd.DataFrame | None, epochs: bool = True) -> TrainConfig:
    """``config`` at its row's tuned setting (unchanged where ``table`` has no such row);
    ``epochs`` False keeps the config's epochs (a run that sets its epochs itself)."""
    if table is None or not len(table):
        return config
    hit = table[table["row"] == row_of(config)]
    if hit.empty:
        return config
    r = hit.iloc[0]
    changes = {"lr_d": float(r["lr_d"]), "lr_g": float(r["lr_g"]), "steps_per_epoch": int(r["steps_per_epoch"]),
               "weight_decay": float(r["weight_decay"])}
    if epochs:
        changes["epochs"] = int(r["epochs"])
    return replace(config, **changes)
