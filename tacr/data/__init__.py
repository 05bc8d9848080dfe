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
    data = LOADERS[name](**params)
    data.recipe = {"name": name, "params": params}  # how a worker reloads it (tacr.runs.DataRef)
    return data


def _import_loaders():
    import importlib

    for mod in ("synthetic", "movielens", "taobao", "table", "atomic"):
        try:
            importlib.import_module(f"{__name__}.{mod}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{mod}":
                raise


__all__ = ["CTRData", "DataError", "DataSpec", "Items", "Split", "TimeZone", "assemble", "build_histories",
           "check_log", "load", "register", "time_features", "validate", "TIME_FEATURE_NAMES",
           "TIME_FEATURE_SIZES", "LOADERS"]
