"""The study's set-up, shared by every notebook: profiles, base configs, data, output folder.

* :data:`PROFILES` — the training budget of each profile (``smoke`` for tests, ``quick`` for
  a short look on 2 CPU cores, ``paper`` for SPEC §6 to the letter); the simulator has a data
  profile of the same name (:mod:`tacr.data.synthetic`).
* :func:`base_config` — the :class:`~tacr.train.TrainConfig` of a profile.
* :func:`setup` — what every notebook starts with: parameters coerced (papermill's ``-p``
  passes lists and dicts as text), the data (memoised per process), the base config, the
  figure folder, and a :class:`Study` whose ``run`` trains a grid on the notebook's seeds.

Figures and tables go to ``figures/`` for the default dataset and profile, and to
``figures/<dataset>[-<profile>]/`` otherwise (``$TACR_FIGURES`` overrides both), so a run on
other data never overwrites the committed figures. The folder used is written to
``outputs/figures_dir`` for ``run_all.sh``.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from . import plots
from ._io import atomic_write_text
from .data import CTRData, load
from .train import TrainConfig

DEFAULT_DATASET = "synthetic"
DEFAULT_PROFILE = "quick"
#: Training budget per profile (TrainConfig overrides).
PROFILES: dict[str, dict] = {
    "smoke": dict(epochs=2, n_candidates=8, pretrain_epochs=1, tau_positives=16),
    "quick": dict(epochs=6, n_candidates=20, pretrain_epochs=1),
    "paper": dict(epochs=50, n_candidates=35, pretrain_epochs=2),
}


def base_config(profile: str = DEFAULT_PROFILE, **overrides) -> TrainConfig:
    """The training defaults of a profile (:data:`PROFILES`), with ``overrides``."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose from {sorted(PROFILES)}")
    return TrainConfig(**{**PROFILES[profile], **overrides})


# ------------------------------------------------------------------------------ parameters
def as_list(value, name: str = "parameter") -> list:
    """A notebook list parameter: a list, or its text as papermill's ``-p`` passes it
    (``"[0, 1]"`` or ``"0, 1"``), or one scalar."""
    if isinstance(value, str):
        text = value.strip()
        parsed = _parse(text if text.startswith("[") else f"[{text}]", name)
        if not isinstance(parsed, list):
            raise ValueError(f"{name}: expected a list, got {value!r}")
        return parsed
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def as_dict(value, name: str = "parameter") -> dict:
    """A notebook dict parameter: a dict, None, or its JSON/YAML text."""
    if value is None:
        return {}
    if isinstance(value, str):
        value = _parse(value, name) if value.strip() else {}
    if not isinstance(value, dict):
        raise ValueError(f"{name}: expected a mapping, got {value!r}")
    return value


def as_seeds(value) -> list[int]:
    """Seeds: a list (or its text), or an int n meaning seeds 0 .. n-1."""
    if isinstance(value, int) and not isinstance(value, bool):
        seeds = list(range(value))
    else:
        seeds = as_list(value, "seeds")
    if not seeds:
        raise ValueError("seeds is empty: give at least one seed, e.g. -p seeds 3 or -y 'seeds: [0, 1, 2]'")
    return [int(s) for s in seeds]


def _parse(text: str, name: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        import yaml

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ValueError(f"{name}: cannot parse {text!r} as JSON or YAML: {exc}") from exc


# ------------------------------------------------------------------------------ data
_MEMO: dict = {}


def load_dataset(dataset: str = DEFAULT_DATASET, data_dir=None, data_params=None, profile: str = DEFAULT_PROFILE) -> CTRData:
    """The notebooks' data: the simulator takes ``profile`` as its size; real datasets take
    ``data_dir``; ``data_params`` go to the loader. Memoised per process (one dataset kept)."""
    params = as_dict(data_params, "data_params")
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


def figures_folder(dataset: str, profile: str) -> Path:
    """``figures/`` for the default study, ``figures/<dataset>[-<profile>]/`` otherwise."""
    if os.environ.get("TACR_FIGURES"):
        return Path(os.environ["TACR_FIGURES"])
    root = plots.repo_root() / "figures"
    if dataset == DEFAULT_DATASET and profile == DEFAULT_PROFILE:
        return root
    return root / (dataset if profile == DEFAULT_PROFILE else f"{dataset}-{profile}")


# ------------------------------------------------------------------------------ the study
@dataclass
class Study:
    """A notebook's data, base config and seeds; ``run`` trains a grid of configs on them."""

    data: CTRData
    base: TrainConfig
    seeds: list[int]
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

    def run(self, configs, scores: bool = False, seeds=None) -> pd.DataFrame:
        """:func:`tacr.experiments.run_grid` on this study's data, seeds and workers."""
        from .experiments import run_grid

        return run_grid(configs, self.seeds if seeds is None else as_seeds(seeds), self.data, scores=scores,
                        workers=self.workers)


def setup(dataset: str = DEFAULT_DATASET, data_dir=None, data_params=None, profile: str = DEFAULT_PROFILE, seeds=(0, 1, 2),
          device: str = "auto", epochs=None, workers="auto", **overrides) -> Study:
    """What every study notebook starts with (see the module docstring)."""
    seeds = as_seeds(seeds)
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose from {sorted(PROFILES)}")
    plots.setup_style()
    data = load_dataset(dataset, data_dir, data_params, profile)
    if epochs is not None:
        overrides["epochs"] = int(epochs)
    base = base_config(profile, device=device, **overrides)
    folder = figures_folder(dataset, profile)
    plots.set_figures_dir(folder)
    marker = plots.repo_root() / "outputs" / "figures_dir"
    try:
        atomic_write_text(marker, f"{folder.resolve()}\n")
    except OSError:
        pass
    return Study(data=data, base=base, seeds=seeds, workers=workers, profile=profile, figures=folder)
