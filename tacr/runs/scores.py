"""Scores of finished runs, from the weights the run cache keeps (no retraining).

A :class:`Scorer` holds one dataset on one device and answers, for any cached run, its D at
the epoch of best validation AUC (:meth:`Scorer.model`) and that D's raw scores f on any split
(:meth:`Scorer.scores`): every row, stored in the cache as ``<key>.scores.parquet`` with its
checksum once computed, or only the fixed per-epoch evaluation sample (not stored). Create one
per notebook (``Study.scorer``) and ask it for as many runs as needed: the data moves to the
device once.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..batch import DeviceData
from ..data.schema import CTRData
from ..train import TrainConfig, score_split, torch_threads
from .cache import RunCache, run_key


class Scorer:
    """Scores of cached runs on ``data`` (see the module docstring).

    Args:
        data: the dataset the runs were trained on.
        cache: a :class:`RunCache` or its folder (default ``$TACR_CACHE`` or ``.cache/runs``).
        device: where the scoring runs.
    """

    def __init__(self, data: CTRData, cache=None, device: str = "cpu"):
        self.data = data
        self.cache = cache if isinstance(cache, RunCache) else RunCache(cache)
        self.device = device
        self._device_data: DeviceData | None = None

    @property
    def device_data(self) -> DeviceData:
        """The data on the device (moved on first use)."""
        if self._device_data is None:
            self._device_data = DeviceData(self.data, self.device)
        return self._device_data

    def key(self, config: TrainConfig) -> str:
        return run_key(config, self.data.fingerprint())

    def model(self, config: TrainConfig):
        """D of a finished run with its weights at the epoch of best validation AUC (eval mode)."""
        from .. import models

        try:
            state = self.cache.state(self.key(config))
        except FileNotFoundError:
            raise FileNotFoundError(f"no cached run for {config} on {self.data.name}; train it with run_grid first") from None
        dd = self.device_data
        model = models.build(config.model, self.data.spec, **config.model_overrides())
        model.load_state_dict(state)
        model = model.to(dd.device).eval()
        model.set_training_counts(dd.training_counts())
        return model

    def scores(self, config: TrainConfig, splits=("train", "valid", "test"), sample: bool = False) -> dict[str, pd.DataFrame]:
        """Raw scores f under D's best-validation weights: per split a DataFrame of ``row`` (the
        split's row index) and ``score``; every row (stored once computed), or with ``sample``
        only the fixed per-epoch evaluation sample (``config.eval_rows``)."""
        key = self.key(config)
        if not sample:
            table = self.cache.read_scores(key)
            if table is not None and set(splits) <= set(table["split"]):
                return {s: table[table["split"] == s][["row", "score"]].reset_index(drop=True) for s in splits}
        model, dd = self.model(config), self.device_data
        out = {}
        with torch_threads(config.threads):
            for s in splits:
                rows = dd[s].eval_rows(config.eval_rows) if sample else None
                scores = score_split(model, dd[s], config.eval_batch_size, rows)
                idx = np.arange(len(self.data.splits[s])) if rows is None else rows.cpu().numpy()
                out[s] = pd.DataFrame({"row": idx, "score": scores})
        if not sample:
            self.cache.write_scores(key, pd.concat([f.assign(split=s) for s, f in out.items()], ignore_index=True))
        return out


def load_model(config: TrainConfig, data: CTRData, cache=None, device: str = "cpu"):
    """One run's D (a :class:`Scorer` of its own; use one Scorer for many runs)."""
    return Scorer(data, cache, device).model(config)


def load_scores(config: TrainConfig, data: CTRData, cache=None, splits=("train", "valid", "test"), sample: bool = False,
                device: str = "cpu") -> dict[str, pd.DataFrame]:
    """One run's scores (a :class:`Scorer` of its own; use one Scorer for many runs)."""
    return Scorer(data, cache, device).scores(config, splits, sample)
