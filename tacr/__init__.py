"""tacr: time-aware attention and regularized adversarial sampling for CTR prediction.

A replication of Wang et al., CIKM 2019. See README.md and docs/.
"""
from importlib import import_module

__version__ = "0.5.0"

_SUBMODULES = ("data", "metrics", "models", "samplers", "train", "runs", "profiles", "params", "calibration", "plots", "batch", "stats",
               "claims", "study", "baselines", "report", "paper")


def __getattr__(name):
    if name in _SUBMODULES:
        return import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'tacr' has no attribute {name!r}")
