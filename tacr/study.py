"""The study's set-up, shared by every notebook: profiles, base configs, data, output folder.

* :data:`PROFILES` — the training budget and seeds of each profile: ``study``, the default, the
  decisive study (5 seeds for the paper's claims, 3 for the sensitivity sweeps, the settings
  below chosen on the validation split); ``quick`` (a 15-minute look on 2 CPU cores), ``smoke``
  (tests) and ``paper`` (SPEC §6 to the letter: 50 epochs, C = 35, lr 0.02/0.01). The
  simulator has a data profile of the same name (:mod:`tacr.data.synthetic`).

Departures of ``study`` and ``quick`` from Sec. 4.2, chosen on the validation split of the
``quick`` simulator before any verdict was computed: learning rates 0.005 (D) and 0.0025 (G)
instead of 0.02 and 0.01 (at 0.02 the validation AUC peaks at epoch 2 and then swings by
±0.01 between epochs; at 0.005 it rises to a plateau about 0.01 higher on average over the
later epochs, with the paper's 2:1 ratio kept for G); 6 epochs instead of 50 (1 of pre-training
and 5 of the game for the adversarial samplers: on the study simulator the validation AUC of
every model reaches its plateau by epoch 4-5 and declines after epoch 6 as the models overfit,
measured on an 8-epoch run of Table 2 before any verdict; the 90-minute budget of the study on 2
CPU cores allows no more); per-epoch AUCs on a fixed stratified sample of
10,000 rows per split (``eval_rows``), the selected epoch's test AUC on 40,000 rows
(``final_eval_rows``: the verdicts' metric), and Kendall tau on 32 positives per G step (Fig. 8).
``real`` is the default of the real datasets (:data:`DATASET_DEFAULTS`): its budget was chosen
on MovieLens-100K's validation split (``benchmarks/real_budget.py``, results in
``benchmarks/results/real_budget_ml100k.md``) before any test AUC was read; item ids are
learned from a small initial scale (``raw_id_init_std=1e-4``) and the loader codes the user id as
a field (``user_id_aux=True``), both chosen on validation in ``benchmarks/bench_peer.py``.
* :func:`base_config` — the :class:`~tacr.train.TrainConfig` of a profile.
* :func:`default_profile` — the profile a dataset runs with when none is given.
* :func:`setup` — what every notebook starts with: parameters checked and coerced before any
  work (:func:`tacr.params.check_setup`; papermill's ``-p`` passes lists and dicts as text),
  the run cache and figures folders checked writable, the data (memoised per process), the
  base config, and a :class:`Study` whose ``run`` trains a grid on the notebook's seeds.

Figures and tables go to ``figures/`` for the default dataset and profile, and to
``figures/<dataset>[-<profile>][-<seeds/epochs>]/`` otherwise (``$TACR_FIGURES`` overrides
both), so a run on other data, or with other seeds or epochs, never overwrites the committed
figures. The folder used is written to
``outputs/figures_dir`` (or ``$TACR_FIGURES_MARKER``) for ``run_all.sh``.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from . import plots
from .files import atomic_write_text, folder_error, writable_folder
from .data import CTRData, load
from .params import as_dict, as_list, as_seeds, check_data_params, check_setup  # noqa: F401 (notebooks: study.as_list)
from .train import TrainConfig

DEFAULT_DATASET = "synthetic"
DEFAULT_PROFILE = "study"
STUDY_SETTINGS = dict(lr_d=0.005, lr_g=0.0025, eval_rows=10_000, final_eval_rows=40_000, tau_positives=32)
# tacr's faster CPU paths (same math, other float summation orders: tacr.models.gru and
# Adversarial.policy_distinct_rows). The study profile keeps the reference paths until its
# committed results are regenerated with them; profiles without committed results use them.
FAST_PATHS = dict(gru_kernel="fused", policy_distinct_rows=True)


@dataclass(frozen=True)
class Profile:
    """A profile: TrainConfig overrides, seeds for the paper's claims and for the sweeps."""

    train: dict
    seeds: int
    sweep_seeds: int


PROFILES: dict[str, Profile] = {
    "smoke": Profile(dict(epochs=2, n_candidates=8, pretrain_epochs=1, tau_positives=16), seeds=1, sweep_seeds=1),
    "quick": Profile(dict(epochs=6, n_candidates=20, pretrain_epochs=1, **STUDY_SETTINGS, **FAST_PATHS), seeds=2, sweep_seeds=1),
    "study": Profile(dict(epochs=6, n_candidates=20, pretrain_epochs=1, **STUDY_SETTINGS), seeds=5, sweep_seeds=3),
    "paper": Profile(dict(epochs=50, n_candidates=35, pretrain_epochs=2), seeds=5, sweep_seeds=5),
    # real data (MovieLens-100K's validation split): the study's schedule (DIN's validation AUC
    # is flat over lr 0.001-0.005 and 30-300 steps an epoch; time-aware + uniform peaks at epochs
    # 3-6 and falls after 7), every validation and test row scored, 3 seeds (a time-aware + rGAN
    # run costs about 5.5 minutes on one core here with FAST_PATHS: 55 % of the rows are clicks)
    "real": Profile(dict(epochs=6, n_candidates=20, pretrain_epochs=1, raw_id_init_std=1e-4,
                         **{**STUDY_SETTINGS, "eval_rows": 0, "final_eval_rows": -1}, **FAST_PATHS), seeds=3, sweep_seeds=1),
}


# Real data: the profile and loader parameters a dataset runs with unless the notebook says
# otherwise (``data_params`` given by the user are merged over these).
DATASET_DEFAULTS: dict[str, tuple[str, dict]] = {
    "movielens-100k": ("real", {"user_id_aux": True}),
    "movielens-1m": ("real", {"user_id_aux": True}),
}


def default_profile(dataset: str = DEFAULT_DATASET) -> str:
    """``study`` for the simulator; the dataset's entry in :data:`DATASET_DEFAULTS`, else
    ``real``, for real data."""
    if dataset == DEFAULT_DATASET:
        return DEFAULT_PROFILE
    return DATASET_DEFAULTS.get(dataset, ("real", {}))[0]


def profile_of(name: str) -> Profile:
    """A profile by name; ``"<profile>-null"`` (the simulator's null world) trains like its profile."""
    base = name[: -len("-null")] if name.endswith("-null") else name
    if base not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; choose from {sorted(PROFILES)}")
    return PROFILES[base]


def base_config(profile: str = DEFAULT_PROFILE, **overrides) -> TrainConfig:
    """The training defaults of a profile (:data:`PROFILES`), with ``overrides``."""
    return TrainConfig(**{**profile_of(profile).train, **overrides})


# ------------------------------------------------------------------------------ data
_MEMO: dict = {}


def load_dataset(dataset: str = DEFAULT_DATASET, data_dir=None, data_params=None, profile: str | None = None) -> CTRData:
    """The notebooks' data: the simulator takes ``profile`` as its size (None: the default);
    real datasets take ``data_dir``; ``data_params`` go to the loader, over the dataset's
    defaults (:data:`DATASET_DEFAULTS`). Memoised per process (one dataset kept)."""
    profile = default_profile(dataset) if profile is None else profile
    params = {**DATASET_DEFAULTS.get(dataset, ("", {}))[1], **check_data_params(dataset, data_params)}
    key = json.dumps([dataset, str(data_dir) if data_dir else None, params, profile], sort_keys=True, default=str)
    if key not in _MEMO:
        params = dict(params)
        if dataset == "synthetic":
            params.setdefault("profile", profile)
        elif data_dir is not None:
            params["data_dir"] = data_dir
        _MEMO.clear()
        _MEMO[key] = load(dataset, **params)
    return _MEMO[key]


def figures_folder(dataset: str, profile: str | None = None, variant: str = "") -> Path:
    """``figures/`` for the default study, ``figures/<dataset>/`` for another dataset at its
    default profile, ``figures/<dataset>-<profile>/`` otherwise; a ``variant`` (seeds or epochs
    other than the profile's, :func:`setup`) adds ``-<variant>``, so a partial run never
    overwrites the committed figures."""
    if os.environ.get("TACR_FIGURES"):
        return Path(os.environ["TACR_FIGURES"])
    root = plots.repo_root() / "figures"
    parts = [] if profile is None or profile == default_profile(dataset) else [profile]
    parts += [variant] if variant else []
    if not parts:
        return root if dataset == DEFAULT_DATASET else root / dataset
    return root / "-".join([dataset, *parts])


def run_cache_folder() -> Path:
    """The run cache (:func:`tacr.experiments.cache_dir`, ``$TACR_CACHE``) checked writable
    before anything trains: a clear error naming the folder, the cause and the variable."""
    from .experiments import cache_dir

    variable = "TACR_CACHE" if os.environ.get("TACR_CACHE") else None
    try:
        folder = cache_dir()
    except OSError as exc:
        err = folder_error(exc, os.environ.get("TACR_CACHE") or ".cache/runs", variable, "run cache")
        if err is None:
            raise
        raise err from exc
    return writable_folder(folder, variable, "run cache")


# ------------------------------------------------------------------------------ the study
@dataclass
class Study:
    """A notebook's data, base config and seeds; ``run`` trains a grid of configs on them."""

    data: CTRData
    base: TrainConfig
    seeds: list[int]  # for the paper's claims
    sweep_seeds: list[int]  # for the sensitivity sweeps (Figs. 9, 10): the first of ``seeds``
    workers: int | str
    profile: str
    figures: Path

    @property
    def oracle(self) -> float | None:
        """The simulator's oracle test AUC (None for real data)."""
        return self.data.info.get("oracle_auc", {}).get("test")

    def configs(self, **grid) -> list[TrainConfig]:
        """The base config with each combination of ``grid`` values, e.g.
        ``configs(model=["din", "gru"], sampler="rgan")``."""
        combos = [{}]
        for name, values in grid.items():
            combos = [{**c, name: v} for c in combos for v in as_list(values, name)]
        return [replace(self.base, **c) for c in combos]

    def run(self, configs, seeds=None, data: CTRData | None = None) -> pd.DataFrame:
        """:func:`tacr.experiments.run_grid` on this study's data (or ``data``), seeds (or
        ``seeds``) and workers."""
        from .experiments import run_grid

        return run_grid(configs, self.seeds if seeds is None else as_seeds(seeds), self.data if data is None else data,
                        workers=self.workers)


def setup(dataset: str = DEFAULT_DATASET, data_dir=None, data_params=None, profile: str | None = None, seeds=None,
          device: str = "auto", epochs=None, workers="auto", **overrides) -> Study:
    """What every study notebook starts with (see the module docstring). ``profile`` None: the
    dataset's (:func:`default_profile`). ``seeds`` None: the profile's (``range(n)``); the
    sweeps use the profile's first ``sweep_seeds`` of them."""
    p = check_setup(dataset, data_dir, data_params, profile, seeds, device, epochs, workers, profiles=PROFILES)
    dataset, data_dir, data_params, seeds, device, epochs, workers = (
        p.dataset, p.data_dir, p.data_params, p.seeds, p.device, p.epochs, p.workers)
    run_cache_folder()
    profile = default_profile(dataset) if p.profile is None else p.profile
    prof = profile_of(profile)
    seeds = as_seeds(prof.seeds if seeds is None else seeds)
    plots.setup_style()
    data = load_dataset(dataset, data_dir, data_params, profile)
    if epochs is not None:
        overrides["epochs"] = epochs
    base = base_config(profile, device=device, **overrides)
    variant = []
    if seeds != as_seeds(prof.seeds):
        variant.append("seeds" + "-".join(map(str, seeds)))
    if base.epochs != base_config(profile).epochs:
        variant.append(f"epochs{base.epochs}")
    folder = figures_folder(dataset, profile, "-".join(variant))
    writable_folder(folder, "TACR_FIGURES" if os.environ.get("TACR_FIGURES") else None, "figures folder", create=False)
    plots.set_figures_dir(folder)
    marker = Path(os.environ.get("TACR_FIGURES_MARKER") or plots.repo_root() / "outputs" / "figures_dir")
    try:
        atomic_write_text(marker, f"{folder.resolve()}\n")
    except OSError:
        pass
    sweep = seeds[:max(1, min(prof.sweep_seeds, len(seeds)))]
    return Study(data=data, base=base, seeds=seeds, sweep_seeds=sweep, workers=workers, profile=profile, figures=folder)
