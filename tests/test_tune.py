"""tacr.tune: one protocol for every row, fixed in advance, chosen on validation only."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from tacr import tune
from tacr.study import base_config


def test_every_row_tries_the_same_settings_the_profiles_own_first():
    base = base_config("study")
    settings = tune.settings(base)
    assert len(settings) == tune.TRIALS and settings[0]["lr_d"] == base.lr_d and settings[0]["steps_per_epoch"] == base.steps_per_epoch
    assert tune.settings(base) == settings  # seeded: the same every time
    assert all(s["lr_g"] == s["lr_d"] / 2 for s in settings)
    for s in settings:
        assert s["lr_d"] in tune.SPACE["lr_d"] and s["steps_per_epoch"] in tune.SPACE["steps_per_epoch"]
    trials = tune.trial_configs(base)
    assert len(trials) == len(tune.ROWS) * tune.TRIALS
    per_row = {}
    for row, k, cfg in trials:
        per_row.setdefault(row, []).append((cfg.lr_d, cfg.steps_per_epoch, cfg.weight_decay))
        assert cfg.seed == tune.TUNE_SEED and cfg.epochs == base.epochs + tune.EXTRA_EPOCHS and tune.row_of(cfg) == row
    assert len({tuple(v) for v in per_row.values()}) == 1  # identical candidates for every row
    with pytest.raises(ValueError, match="unknown tuning row"):
        tune.trial_configs(base, ["nope"])


def _runs(trials, fingerprint, rng):
    from tacr.runs import run_key

    rows = []
    for row, k, cfg in trials:
        for epoch in range(1, cfg.epochs + 1):
            rows.append({"run_key": run_key(cfg, fingerprint), "epoch": epoch, "valid_auc": rng.uniform(0.6, 0.7),
                         "test_auc": rng.uniform(0.6, 0.7)})
    return pd.DataFrame(rows)


def test_the_choice_reads_validation_only():
    """Each row keeps the trial of highest validation AUC, at the epoch it peaked; scrambling
    every test AUC changes nothing."""
    base = base_config("smoke")
    trials = tune.trial_configs(base, ["time_aware+uniform", "time_aware+rgan"])
    runs = _runs(trials, "fp", np.random.default_rng(0))
    scored = tune.score_trials(runs, trials, "fp")
    table = tune.choose(scored)
    scrambled = runs.assign(test_auc=np.random.default_rng(1).permutation(runs["test_auc"].to_numpy()))
    pd.testing.assert_frame_equal(table, tune.choose(tune.score_trials(scrambled, trials, "fp")))
    for row, g in scored.groupby("row"):
        best = g.loc[g["valid AUC"].idxmax()]
        chosen = table.set_index("row").loc[row]
        assert chosen["trial"] == best["trial"] and chosen["valid AUC"] == best["valid AUC"]
        assert chosen["trials"] == tune.TRIALS
    rgan = scored[scored["row"] == "time_aware+rgan"]
    assert (rgan["epochs"] >= base.pretrain_epochs + 1).all()  # an adversarial row keeps a game epoch


def test_apply_gives_a_config_its_rows_setting():
    table = pd.DataFrame([{"row": "time_aware+rgan", "lr_d": 0.01, "lr_g": 0.005, "steps_per_epoch": 100,
                           "weight_decay": 1e-4, "epochs": 4, "valid AUC": 0.7, "trial": 3, "trials": 4}])
    base = base_config("study")
    rgan = tune.apply(replace(base, sampler="rgan", temperature=3.0), table)  # a Fig. 10 sweep point: the rGAN row
    assert (rgan.lr_d, rgan.lr_g, rgan.steps_per_epoch, rgan.weight_decay, rgan.epochs, rgan.temperature) == \
        (0.01, 0.005, 100, 1e-4, 4, 3.0)
    assert tune.apply(replace(base, sampler="uniform"), table) == replace(base, sampler="uniform")  # no such row
    assert tune.apply(replace(base, sampler="rgan"), table, epochs=False).epochs == base.epochs
    assert tune.row_of(replace(base, policy="cosine")) == "time_aware+rgan+cosine"
    assert tune.row_of(replace(base, model="din", sampler="uniform")) == "din+uniform"
    assert set(tune.ROWS) >= {tune.row_of(replace(base, **o)) for o in tune.ROWS.values()}
