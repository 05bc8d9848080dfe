"""Data in the canonical CTR format: loaders, the simulator, histories, time features.

:func:`load` is the one way in: it checks and coerces the loader's options (and builds the
split's :class:`SplitSpec`) before any file is read, then calls the loader. The user guide to
loading your own log is ``docs/own-data.md``.
"""
from __future__ import annotations

from .history import TIME_FEATURE_NAMES, TIME_FEATURE_SIZES, TimeZone, build_histories, time_features
from .schema import CTRData, DataError, DataSpec, Items, Split, assemble, check_log, validate
from .split import SplitSpec

LOADERS = {}


def register(name):
    def deco(fn):
        LOADERS[name] = fn
        return fn
    return deco


def loader_names() -> list[str]:
    """The registered datasets ("synthetic", "table", "atomic", ...)."""
    _import_loaders()
    return sorted(LOADERS)


def _loader(name: str):
    from ..params import ParameterError, did_you_mean

    names = loader_names()
    if name not in LOADERS:
        raise ParameterError(f"unknown dataset {name!r}{did_you_mean(name, names)}; available: {names}")
    return LOADERS[name]


def check_options(name: str, options: dict, where: str | None = None) -> tuple[dict, SplitSpec | None]:
    """Dataset ``name``'s loader ``options`` checked and coerced, and its split (None for a
    loader without one); a :class:`~tacr.params.ParameterError` names the option and the value."""
    from .options import check_options as check

    return check(name, _loader(name), dict(options), where)


def as_dataset(value, name: str = "dataset") -> str:
    """A registered dataset (:data:`LOADERS`), or a :class:`~tacr.params.ParameterError`."""
    from ..params import ParameterError, did_you_mean

    names = loader_names()
    if isinstance(value, str) and value in names:
        return value
    raise ParameterError(f"{name}: unknown dataset {value!r}{did_you_mean(value, names)}; available: {names}")


def check_data_params(dataset: str, value, name: str = "data_params") -> dict:
    """``data_params`` as a dict whose every option the dataset's loader accepts, coerced to
    its type (:func:`check_options`); an unknown option stops with "did you mean"."""
    from ..params import as_dict, as_text

    params = as_dict(value, name)
    for key in params:
        as_text(key, f"{name} key", accepted="option names")
    check_options(dataset, params, where=name)
    return params


def load(dataset: str, /, **options) -> CTRData:
    """Load ``dataset`` ("synthetic", "table", "atomic", "movielens-100k", ...) in the canonical format.

    ``options`` are the loader's (e.g. ``profile="quick"`` for the simulator, ``path=...`` and
    ``time_col=...`` for ``table``, ``data_dir=...`` for real data) and the split settings
    (``valid_frac=``, ``test_frac=``, ``split_by=``, ``valid_start=``, ``test_start=``,
    ``test_end=``, ``tz=``, or ``split=`` a :class:`SplitSpec`). Each is checked before any work.
    The result's ``recipe`` loads it again (``load(recipe["name"], **recipe["params"])``).
    """
    fn = _loader(dataset)
    coerced, split = check_options(dataset, options)
    data = fn(**coerced, **({} if split is None else {"split": split}))
    given_split = {k: v for k, v in options.items() if k in SplitSpec.names() or k == "split"}
    data.recipe = {"name": dataset, "params": {**coerced, **given_split}}
    return data


def _import_loaders():
    import importlib

    for mod in ("synthetic", "movielens", "taobao", "table", "atomic"):
        try:
            importlib.import_module(f"{__name__}.{mod}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{mod}":
                raise


__all__ = ["CTRData", "DataError", "DataSpec", "Items", "Split", "SplitSpec", "TimeZone", "assemble",
           "build_histories", "check_log", "check_options", "load", "loader_names", "register", "time_features",
           "validate", "TIME_FEATURE_NAMES", "TIME_FEATURE_SIZES", "LOADERS"]
