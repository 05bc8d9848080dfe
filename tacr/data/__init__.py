"""Data in the canonical CTR format (SPEC §1): loaders, the simulator, histories, time features."""
from __future__ import annotations

from .history import TIME_FEATURE_NAMES, TIME_FEATURE_SIZES, TimeZone, build_histories, time_features
from .schema import CTRData, DataError, DataSpec, Items, Split, assemble, check_log, validate

LOADERS = {}


def register(name):
    def deco(fn):
        LOADERS[name] = fn
        return fn
    return deco


def load(name: str, **params) -> CTRData:
    """Load dataset ``name`` ("synthetic", ...) in the canonical format.

    ``params`` are the loader's options (e.g. ``profile="quick"`` for the simulator,
    ``data_dir=...`` for real data).
    """
    _import_loaders()
    if name not in LOADERS:
        raise ValueError(f"unknown dataset {name!r}; available: {sorted(LOADERS)}")
    return LOADERS[name](**params)


def _import_loaders():
    import importlib

    for mod in ("synthetic", "movielens", "taobao", "table"):
        try:
            importlib.import_module(f"{__name__}.{mod}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{mod}":
                raise


__all__ = ["CTRData", "DataError", "DataSpec", "Items", "Split", "TimeZone", "assemble", "build_histories",
           "check_log", "load", "load_dataset", "register", "time_features", "validate", "TIME_FEATURE_NAMES",
           "TIME_FEATURE_SIZES", "LOADERS"]


def load_dataset(dataset: str = "synthetic", data_dir=None, data_params: dict | None = None,
                 profile: str = "quick") -> CTRData:
    """The notebooks' entry point: the simulator takes ``profile`` as its size; real datasets
    take ``data_dir``. ``data_params`` are passed to the loader. Results are memoised per
    process, so the cells of one notebook share one load."""
    import json

    key = json.dumps([dataset, str(data_dir) if data_dir else None, data_params or {}, profile], sort_keys=True, default=str)
    if key not in _MEMO:
        params = dict(data_params or {})
        if dataset == "synthetic":
            params.setdefault("profile", "quick" if profile == "paper_short" else profile)
        elif data_dir is not None:
            params["data_dir"] = data_dir
        _MEMO.clear()  # keep at most one dataset in memory
        _MEMO[key] = load(dataset, **params)
    return _MEMO[key]


_MEMO: dict = {}
