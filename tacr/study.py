"""The study's set-up, shared by every notebook: parameters, data, base config, where results go.

* :func:`setup` — what every notebook starts with: parameters checked and coerced before any
  work (:func:`check_setup`; papermill's ``-p`` passes lists and mappings as text),
  the run cache and figures folders checked writable, the data (kept for the next notebook in
  the process), the base config of the profile (:mod:`tacr.profiles`), the results folder
  (:func:`tacr.profiles.outputs`, the one place that decides it), and a :class:`Study` whose
  ``run`` trains a grid on the notebook's seeds, whose ``scorer`` scores finished runs and whose
  ``save_*`` methods write figures and tables to the folder.
* :func:`base_config` — the :class:`~tacr.train.TrainConfig` of a profile.
* :func:`load_dataset` — a dataset by name with its defaults (:data:`tacr.profiles.DATASET_DEFAULTS`).

``setup`` also records the run in the folder's ``study.json`` (:func:`tacr.profiles.write_record`:
dataset, profile, seeds, epochs, whether the data is the simulator, tacr version), which
:mod:`tacr.claims` and :mod:`tacr.report` read beside the tables.
"""
from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from . import __version__, plots
from .data import CTRData, as_dataset, check_data_params, load
from .files import folder_error, writable_folder
from .params import (as_device, as_dict, as_epochs, as_list, as_path, as_profile, as_seeds,  # noqa: F401 (notebooks: study.as_list)
                     as_workers)
from .profiles import (DATASET_DEFAULTS, DEFAULT_DATASET, DEFAULT_PROFILE, PROFILES,  # noqa: F401
                       ROOT, STUDY_SETTINGS, Outputs, default_profile, outputs, profile_of, tuning_file, write_record)
from .train import TrainConfig

def base_config(profile: str = DEFAULT_PROFILE, **overrides) -> TrainConfig:
    """The training defaults of a profile (:data:`tacr.profiles.PROFILES`), with ``overrides``."""
    return TrainConfig(**{**profile_of(profile).train, **overrides})


# ------------------------------------------------------------------------------ data
def load_dataset(dataset: str = DEFAULT_DATASET, data_dir=None, data_params=None, profile: str | None = None) -> CTRData:
    """The notebooks' data: the simulator takes ``profile`` as its size (None: the default);
    real datasets take ``data_dir``; ``data_params`` go to the loader, over the dataset's
    defaults. The last dataset loaded is kept (``load_dataset.cache_clear()`` forgets it)."""
    profile = default_profile(dataset) if profile is None else profile
    params = {**DATASET_DEFAULTS.get(dataset, ("", {}))[1], **check_data_params(dataset, data_params)}
    if dataset == "synthetic":
        params.setdefault("profile", profile)
    elif data_dir is not None:
        params["data_dir"] = str(data_dir)
    return _load(dataset, json.dumps(params, sort_keys=True, default=str))


@functools.lru_cache(maxsize=1)
def _load(dataset: str, params: str) -> CTRData:
    return load(dataset, **json.loads(params))


load_dataset.cache_clear = _load.cache_clear


def run_cache_folder() -> Path:
    """The run cache (``$TACR_CACHE``, :func:`tacr.runs.cache.default_folder`) checked writable
    before anything trains: a clear error naming the folder, the cause and the variable."""
    from .runs.cache import default_folder

    variable = "TACR_CACHE" if os.environ.get("TACR_CACHE") else None
    folder = default_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        err = folder_error(exc, folder, variable, "run cache")
        if err is None:
            raise
        raise err from exc
    return writable_folder(folder, variable, "run cache")


# ------------------------------------------------------------------------------ the study
@dataclass
class Study:
    """A notebook's data, base config, seeds and results folder; ``run`` trains a grid of
    configs on them, ``scorer`` scores finished runs, ``save_*`` write to the folder."""

    data: CTRData
    base: TrainConfig
    seeds: list[int]  # for the paper's claims
    sweep_seeds: list[int]  # for the sensitivity sweeps (Figs. 9, 10): the first of ``seeds``
    workers: int | str
    profile: str
    figures: Path
    tuning: pd.DataFrame | None = None  # each row's tuned setting (tacr.tune); None: the profile's for all
    tuned_epochs: bool = True  # False when the notebook's ``epochs`` parameter sets every run's epochs
    _scorer: object = field(default=None, repr=False)

    @property
    def oracle(self) -> float | None:
        """The simulator's oracle test AUC (None for real data)."""
        return self.data.info.get("oracle_auc", {}).get("test")

    def configs(self, **grid) -> list[TrainConfig]:
        """The base config with each combination of ``grid`` values, e.g.
        ``configs(model=["din", "gru"], sampler="rgan")``, each at its row's tuned setting
        (:func:`tacr.tune.apply`) when the study has a tuning table."""
        from .tune import apply

        combos = [{}]
        for name, values in grid.items():
            combos = [{**c, name: v} for c in combos for v in as_list(values, name)]
        return [apply(replace(self.base, **c), self.tuning, epochs=self.tuned_epochs) for c in combos]

    def run(self, configs, seeds=None, data: CTRData | None = None) -> pd.DataFrame:
        """:func:`tacr.runs.run_grid` on this study's data (or ``data``), seeds (or ``seeds``) and workers."""
        from .runs import run_grid

        return run_grid(configs, self.seeds if seeds is None else as_seeds(seeds), self.data if data is None else data,
                        workers=self.workers)

    @property
    def scorer(self):
        """A :class:`tacr.runs.Scorer` of finished runs on this study's data (made once)."""
        if self._scorer is None:
            from .runs import Scorer

            self._scorer = Scorer(self.data)
        return self._scorer

    def save_figure(self, fig, name: str) -> Path:
        return plots.save_figure(fig, name, self.figures)

    def save_table(self, df: pd.DataFrame, name: str, floatfmt: str = ".4f") -> Path:
        return plots.save_table(df, name, self.figures, floatfmt)

    def save_data(self, df: pd.DataFrame, name: str) -> Path:
        return plots.save_data(df, name, self.figures)


def environment() -> dict:
    """What besides the code sets a run's last bits: the library versions and the CPU's vector
    units (float sums are rounded differently with AVX2, AVX-512 or AMX kernels)."""
    import platform
    from importlib.metadata import version

    flags = ""
    try:
        flags = next((line for line in open("/proc/cpuinfo") if line.startswith("flags")), "")
    except OSError:
        pass
    units = [u for u in ("avx2", "avx512f", "amx_tile") if f" {u}" in flags]
    return {"python": platform.python_version(), "machine": platform.machine(), "cpu vector units": units,
            **{lib: version(lib) for lib in ("torch", "numpy", "pandas", "scipy", "scikit-learn")}}


@dataclass(frozen=True)
class SetupParameters:
    """The checked parameters of :func:`tacr.study.setup`."""

    dataset: str
    data_dir: object
    data_params: dict
    profile: str | None
    seeds: list[int] | None
    device: str
    epochs: int | None
    workers: int | str


def check_setup(dataset, data_dir=None, data_params=None, profile=None, seeds=None, device="auto", epochs=None,
                workers="auto", *, profiles=()) -> SetupParameters:
    """Every parameter a study notebook passes to :func:`tacr.study.setup`, checked before the
    data is read or anything trains (devices too, even when every run is cached)."""
    dataset = as_dataset(dataset)
    return SetupParameters(
        dataset=dataset, data_dir=as_path(data_dir, "data_dir"), data_params=check_data_params(dataset, data_params),
        profile=as_profile(profile, profiles), seeds=None if seeds is None else as_seeds(seeds),
        device=as_device(device), epochs=as_epochs(epochs), workers=as_workers(workers))


def setup(dataset: str = DEFAULT_DATASET, data_dir=None, data_params=None, profile: str | None = None, seeds=None,
          device: str = "auto", epochs=None, workers="auto", **overrides) -> Study:
    """What every study notebook starts with (see the module docstring). ``profile`` None: the
    dataset's (:func:`tacr.profiles.default_profile`). ``seeds`` None: the profile's
    (``range(n)``); the sweeps use the profile's first ``sweep_seeds`` of them."""
    p = check_setup(dataset, data_dir, data_params, profile, seeds, device, epochs, workers, profiles=PROFILES)
    dataset, data_dir, data_params, device, workers = p.dataset, p.data_dir, p.data_params, p.device, p.workers
    out: Outputs = outputs(dataset, p.profile, p.seeds, p.epochs)
    prof = profile_of(out.profile)
    run_cache_folder()
    writable_folder(out.figures, "TACR_FIGURES" if os.environ.get("TACR_FIGURES") else None, "figures folder", create=False)
    plots.setup_style()
    data = load_dataset(dataset, data_dir, data_params, out.profile)
    if out.epochs is not None:
        overrides["epochs"] = out.epochs
    base = base_config(out.profile, device=device, **overrides)
    table_file = tuning_file(out, dataset)
    tuning = pd.read_csv(table_file) if table_file is not None else None
    record = {"dataset": dataset, "data": data.name, "profile": out.profile, "seeds": out.seeds,
              "epochs": base.epochs, "simulator": "oracle_auc" in data.info, "tacr": __version__,
              "tuning": _shown(table_file), "environment": environment()}
    write_record(out.figures, record)
    sweep = out.seeds[:max(1, min(prof.sweep_seeds, len(out.seeds)))]
    return Study(data=data, base=base, seeds=out.seeds, sweep_seeds=sweep, workers=workers, profile=out.profile,
                 figures=out.figures, tuning=tuning, tuned_epochs=out.epochs is None)


def _shown(path: Path | None) -> str | None:
    """A path as the record shows it: relative to the repository where it lies inside it."""
    if path is None:
        return None
    try:
        return Path(path).resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)
