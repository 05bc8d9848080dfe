"""Loader options, checked and coerced once at :func:`tacr.data.load`, before any file is read.

A loader's options are its keyword parameters (the simulator's also every
:class:`~tacr.data.synthetic.SimConfig` field). Each value is coerced by the option's name
(:data:`BY_NAME`: shared options such as ``L``, ``encoding``, ``time_format``) or else by its
annotation (``int``, ``float``, ``bool``, ``str``, ``str | None``, ...); an option no loader
parameter matches stops with "did you mean". The split settings (``valid_frac``, ``test_frac``,
``split_by``, ``valid_start``, ``test_start``, ``test_end``, ``tz``, or ``split=`` itself) of a
loader that takes a ``split`` become one :class:`~tacr.data.split.SplitSpec` over the loader's
default.
"""
from __future__ import annotations

import codecs
import dataclasses
import inspect

from ..params import ParameterError, as_bool, as_float, as_int, as_path, as_text, did_you_mean, rejected
from .split import SplitSpec
from .times import check_time_format


def _optional(check):
    return lambda v, n: None if v is None else check(v, n)


def _encoding(value, name: str) -> str:
    text = as_text(value, name, accepted="an encoding name such as 'utf-8', 'latin-1', 'cp1252'")
    try:
        codecs.lookup(text)
    except LookupError:
        raise rejected(name, value, "an encoding name such as 'utf-8', 'latin-1', 'cp1252'",
                       "is not an encoding Python knows") from None
    return text


def _delimiter(value, name: str) -> str | None:
    if value is None:
        return None
    text = as_text(value, name, none=True, accepted="a separator such as ',', ';' or '\\t'")
    if not text or text in ('"', "\n", "\r"):
        raise rejected(name, value, "a separator such as ',', ';' or '\\t'", "cannot separate fields")
    return text


def _names(value, name: str) -> list[str]:
    """Column names or glob patterns: one text, a list of them, or None (none)."""
    if value is None:
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise rejected(name, value, "a column name or a list of names / glob patterns such as ['emb_*']")
    return [as_text(v, f"{name}[{j}]", accepted="column names or glob patterns") for j, v in enumerate(items)]


def _auto_or_names(value, name: str):
    return "auto" if value == "auto" else _names(value, name)


_BY_ANNOTATION = {
    "int": lambda v, n: as_int(v, n),
    "float": lambda v, n: as_float(v, n),
    "bool": as_bool,
    "str": lambda v, n: as_text(v, n),
    "int | None": _optional(lambda v, n: as_int(v, n)),
    "float | None": _optional(lambda v, n: as_float(v, n)),
    "bool | None": _optional(as_bool),
    "str | None": lambda v, n: as_text(v, n, none=True),
}
#: Checks of options several loaders share, by name (they win over the annotation's).
BY_NAME = {
    "L": lambda v, n: as_int(v, n, minimum=1),
    "path": as_path, "data_dir": as_path, "cache_dir": as_path,
    "encoding": _encoding,
    "delimiter": _delimiter,
    "time_format": lambda v, n: check_time_format(v, n),
    "aux_cols": _names, "raw_cols": _names, "aux_fields": _auto_or_names,
    "user_fraction": lambda v, n: as_float(v, n, 0, 1, open_low=True),
    "seq_separator": lambda v, n: _delimiter(as_text(v, n), n),
    "cache": _optional(as_bool),
}
#: Extra options of a loader beyond its signature, name -> annotation (the simulator's SimConfig).
EXTRA: dict[str, dict[str, str]] = {}


def _parameters(fn) -> dict[str, inspect.Parameter]:
    return {n: p for n, p in inspect.signature(fn).parameters.items()
            if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}


def accepted(dataset: str, fn) -> dict[str, str]:
    """Option name -> annotation text (``""`` when none) that loader ``fn`` accepts."""
    out = {n: (p.annotation if isinstance(p.annotation, str) else "") for n, p in _parameters(fn).items()
           if n != "split"}
    if "split" in _parameters(fn):
        out |= {n: "" for n in SplitSpec.names()} | {"split": ""}
    return EXTRA.get(dataset, {}) | out


def check_options(dataset: str, fn, options: dict, where: str | None = None) -> tuple[dict, SplitSpec | None]:
    """(the options coerced, without the split settings; the SplitSpec or None when the loader
    takes none). Raises :class:`~tacr.params.ParameterError` naming the option and the value."""
    known = accepted(dataset, fn)
    prefix = f"{where}: " if where else ""
    out: dict = {}
    for key, value in options.items():
        if key not in known:
            raise ParameterError(f"{prefix}{dataset}: unknown loader option {key!r}{did_you_mean(key, known)}; "
                                 f"the {dataset} loader's options: {', '.join(sorted(known))}")
        if key in SplitSpec.names() or key == "split":
            continue
        check = BY_NAME.get(key) or _BY_ANNOTATION.get(known[key])
        out[key] = check(value, f"{prefix}{key}") if check else value
    params = _parameters(fn)
    if "split" not in params:
        return out, None
    given = {k: v for k, v in options.items() if k in SplitSpec.names() or k == "split"}
    try:
        split = SplitSpec.from_options(given, params["split"].default)
    except ParameterError as exc:
        raise ParameterError(f"{prefix}{exc}") from None
    return out, split


def register_extra(dataset: str, cls, *names: str) -> None:
    """Accept the fields of dataclass ``cls`` (coerced by annotation) and ``names`` (as they
    are) as options of ``dataset``."""
    EXTRA[dataset] = {f.name: f.type if isinstance(f.type, str) else "" for f in dataclasses.fields(cls)}
    EXTRA[dataset] |= {n: "" for n in names}
