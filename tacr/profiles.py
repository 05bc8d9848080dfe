"""Profiles, the datasets' defaults, and where a run's results go — decided here, once.

Import-light (no torch): ``run_all.sh``'s plan calls :func:`outputs` before any notebook runs
and passes the answer down to every notebook (``$TACR_FIGURES``) and to the report; a notebook
run on its own (``tacr.study.setup``) calls the same function.

* :data:`PROFILES` — the training budget and seeds of each profile: ``study``, the default, the
  decisive study (5 seeds for the paper's claims, 3 for the sensitivity sweeps); ``quick`` (a
  look in minutes on 2 CPU cores), ``smoke`` (tests, seconds) and ``paper`` (Sec. 4.2 to the
  letter: 50 epochs, C = 35, lr 0.02/0.01). The simulator has a data profile of the same name
  (:mod:`tacr.data.synthetic`); ``real`` is the real datasets' default.
* :func:`outputs` — the figures folder of a run and the results page it may rewrite:
  ``figures/`` for the simulator at its default profile, seeds and epochs; ``figures/<dataset>/``
  for another dataset at its defaults; ``figures/<dataset>[-<profile>][-<seeds/epochs>]/``
  otherwise, so a partial run never overwrites the committed figures (``$TACR_FIGURES``
  overrides the folder, and then no committed page is rewritten).

Departures of ``study`` and ``quick`` from Sec. 4.2, chosen on the validation split of the
``quick`` simulator before any verdict was computed: learning rates 0.005 (D) and 0.0025 (G)
instead of 0.02 and 0.01 (at 0.02 the validation AUC peaks at epoch 2 and then swings by ±0.01
between epochs; at 0.005 it rises to a plateau about 0.01 higher, with the paper's 2:1 ratio
kept for G); 6 epochs instead of 50 (1 of pre-training and 5 of the game for the adversarial
samplers: on the study simulator the validation AUC of every model reaches its plateau by epoch
4-5 and declines after epoch 6); per-epoch AUCs on a fixed stratified sample of 10,000 rows per
split (``eval_rows``), the selected epoch's test AUC on 40,000 rows (``final_eval_rows``: the
verdicts' metric), and Kendall tau on 32 positives per G step (Fig. 8). ``real`` takes the same
schedule with every validation and test row scored; item ids are learned from a small initial
scale (``raw_id_init_std=1e-4``) and the MovieLens loaders code the user id as a field
(``user_id_aux=True``), both fixed while matching tacr's DIN against a peer library on
MovieLens-100K. These are the profiles' shared settings; each row's own come from the tuning
protocol (:mod:`tacr.tune`) where a dataset has a tuning table.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from .params import as_seeds

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATASET = "synthetic"
DEFAULT_PROFILE = "study"
#: The study's schedule and evaluation samples (see the module docstring).
STUDY_SETTINGS = dict(lr_d=0.005, lr_g=0.0025, eval_rows=10_000, final_eval_rows=40_000, tau_positives=32)


@dataclass(frozen=True)
class Profile:
    """A profile: TrainConfig overrides, seeds for the paper's claims and for the sweeps."""

    train: dict
    seeds: int
    sweep_seeds: int


PROFILES: dict[str, Profile] = {
    "smoke": Profile(dict(epochs=2, n_candidates=8, pretrain_epochs=1, tau_positives=16), seeds=1, sweep_seeds=1),
    "quick": Profile(dict(epochs=6, n_candidates=20, pretrain_epochs=1, **STUDY_SETTINGS), seeds=2, sweep_seeds=1),
    "study": Profile(dict(epochs=6, n_candidates=20, pretrain_epochs=1, **STUDY_SETTINGS), seeds=5, sweep_seeds=3),
    "paper": Profile(dict(epochs=50, n_candidates=35, pretrain_epochs=2), seeds=5, sweep_seeds=5),
    "real": Profile(dict(epochs=6, n_candidates=20, pretrain_epochs=1, raw_id_init_std=1e-4,
                         **{**STUDY_SETTINGS, "eval_rows": 0, "final_eval_rows": -1}), seeds=3,
                    sweep_seeds=1),
}

#: Real data: the profile and loader parameters a dataset runs with unless the notebook says
#: otherwise (``data_params`` given by the user are merged over these).
DATASET_DEFAULTS: dict[str, tuple[str, dict]] = {
    "movielens-100k": ("real", {"user_id_aux": True}),
    "movielens-1m": ("real", {"user_id_aux": True}),
}


#: The datasets whose committed run has a results page (rewritten by a full run at their defaults).
RESULT_PAGES = ("synthetic", "movielens-100k")


def default_profile(dataset: str = DEFAULT_DATASET) -> str:
    """``study`` for the simulator; the dataset's entry in :data:`DATASET_DEFAULTS`, else ``real``."""
    if dataset == DEFAULT_DATASET:
        return DEFAULT_PROFILE
    return DATASET_DEFAULTS.get(dataset, ("real", {}))[0]


def profile_of(name: str) -> Profile:
    """A profile by name; ``"<profile>-null"`` (the simulator's null world) trains like its profile."""
    base = name[: -len("-null")] if name.endswith("-null") else name
    if base not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; choose from {sorted(PROFILES)}")
    return PROFILES[base]


@dataclass(frozen=True)
class Outputs:
    """Where one run's results go.

    ``figures``: the folder of its figures and tables; ``page``: the dataset whose committed
    results page (:data:`RESULT_PAGES`) the run rewrites (None: it rewrites none; its results
    block goes to ``outputs/RESULTS.md`` only); ``notebooks``: where its executed notebooks are
    kept (``notebooks/executed/<page>/`` for a committed run, else
    ``outputs/notebooks/<figures folder name>/``); ``profile``, ``seeds``, ``epochs``: the
    resolved run settings (``epochs`` None: the profile's)."""

    figures: Path
    page: str | None
    profile: str
    seeds: list[int] = field(default_factory=list)
    epochs: int | None = None
    notebooks: Path | None = None  # where the executed notebooks are kept, outputs included


def committed_folder(dataset: str = DEFAULT_DATASET) -> Path:
    """The results folder of a dataset's run at its defaults: ``figures/`` for the simulator,
    ``figures/<dataset>/`` otherwise (where the committed runs of :data:`RESULT_PAGES` live)."""
    return ROOT / "figures" if dataset == DEFAULT_DATASET else ROOT / "figures" / dataset


#: The tuned settings of a dataset (:mod:`tacr.tune`), in its results folder.
TUNING_FILE = "tuning.csv"


def tuning_file(out: Outputs, dataset: str) -> Path | None:
    """The tuning table a run uses: its own results folder's, else the one of the dataset's run
    at this profile's own seeds and epochs (``figures/tuning.csv`` for the default study); None
    when neither exists (every row then trains at the profile's shared setting)."""
    base = committed_folder(dataset) if out.profile == default_profile(dataset) else ROOT / "figures" / f"{dataset}-{out.profile}"
    for folder in (out.figures, base):
        if (Path(folder) / TUNING_FILE).exists():
            return Path(folder) / TUNING_FILE
    return None


def outputs(dataset: str = DEFAULT_DATASET, profile: str | None = None, seeds=None, epochs=None,
            partial: bool = False) -> Outputs:
    """The figures folder, results page and notebooks folder of a run with these notebook
    parameters (see the module docstring); ``seeds`` and ``epochs`` as the notebooks take them
    (None: the profile's); ``partial``: the run executes only some notebooks (it rewrites no page)."""
    profile = default_profile(dataset) if profile is None else profile
    prof = profile_of(profile)
    seeds = as_seeds(prof.seeds if seeds is None else seeds)
    epochs = None if epochs is None else int(epochs)
    parts = [] if profile == default_profile(dataset) else [profile]
    if seeds != as_seeds(prof.seeds):
        parts.append("seeds" + "-".join(map(str, seeds)))
    if epochs is not None and epochs != prof.train["epochs"]:
        parts.append(f"epochs{epochs}")
    folder = committed_folder(dataset) if not parts else ROOT / "figures" / "-".join([dataset, *parts])
    page = dataset if not parts and not partial and dataset in RESULT_PAGES else None
    if os.environ.get("TACR_FIGURES"):
        custom = Path(os.environ["TACR_FIGURES"])
        if custom.resolve() != folder.resolve():
            folder, page = custom, None
    notebooks = ROOT / "notebooks" / "executed" / page if page else ROOT / "outputs" / "notebooks" / folder.name
    return Outputs(folder, page, profile, seeds, epochs, notebooks)


#: The file in a results folder that says which run wrote it (:func:`write_record`).
STUDY_FILE = "study.json"


def read_record(folder) -> dict:
    """The ``study.json`` of a results folder ({} when there is none)."""
    path = Path(folder) / STUDY_FILE
    return json.loads(path.read_text()) if path.exists() else {}


def write_record(folder, updates: dict) -> Path:
    """Merge ``updates`` into the folder's ``study.json`` (atomically; the folder is created)."""
    from .files import atomic_write_text

    record = {**read_record(folder), **updates}
    return atomic_write_text(Path(folder) / STUDY_FILE, json.dumps(record, indent=1, sort_keys=True) + "\n")
