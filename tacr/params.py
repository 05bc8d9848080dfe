"""Notebook and loader parameters, checked and coerced once, before any work.

papermill's ``-p`` passes ints and floats as numbers and anything else as text (``-p seeds
'[0, 1]'`` arrives as the text ``"[0, 1]"``); ``-y`` passes YAML values. Every function here
takes both forms. A value it cannot take is a :class:`ParameterError` naming the parameter,
the value and what is accepted, with "did you mean" for a misspelt name or choice; nothing is
rounded, truncated or guessed (``seeds 1.5`` is an error, not seed 1).

* :func:`as_seeds`, :func:`as_epochs`, :func:`as_workers`, :func:`as_device` — one parameter each.
* :func:`as_list`, :func:`as_dict`, :func:`as_ints`, :func:`as_floats`, :func:`as_names` —
  notebook lists (``models``, ``temperatures``, ...) and mappings (``data_params``).
* :func:`as_int`, :func:`as_float`, :func:`as_bool`, :func:`as_text`, :func:`as_choice` — the
  scalars every other check is built from (the data loaders' options use them too).

The module imports nothing of the package, so the data layer builds on it and ``run_all.sh``'s
plan (``tacr/_runall.py``, run without the package) checks seeds, epochs and workers by the same
rules. The dataset and its options are checked by :func:`tacr.data.as_dataset` and
:func:`tacr.data.check_data_params`; every parameter of a study at once by
:func:`tacr.study.check_setup`.
"""
from __future__ import annotations

import difflib
import json
import math
import numbers
import os
import re


class ParameterError(ValueError):
    """A parameter value that cannot work; the message names the parameter, the value and
    what is accepted."""


def did_you_mean(value, choices) -> str:
    """``" (did you mean 'x'?)"`` for the closest of ``choices`` to ``value``, else ``""``."""
    close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=2, cutoff=0.6)
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""


def rejected(name: str, value, accepted: str, why: str = "is not accepted") -> ParameterError:
    """The one message format: ``name: value why; accepted: ...``."""
    return ParameterError(f"{name}: {value!r} {why}; accepted: {accepted}")


# ------------------------------------------------------------------------------ text forms
def parse_text(text: str, name: str):
    """A value written as JSON or YAML text (papermill's ``-p`` passes lists and dicts so)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        import yaml

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ParameterError(f"{name}: cannot parse {text!r} as JSON or YAML: {exc}") from exc


def as_list(value, name: str = "parameter") -> list:
    """A notebook list parameter: a list, or its text as papermill's ``-p`` passes it
    (``"[0, 1]"`` or ``"0, 1"``), or one scalar."""
    if isinstance(value, str):
        text = value.strip()
        parsed = parse_text(text if text.startswith("[") else f"[{text}]", name)
        if not isinstance(parsed, list):
            raise rejected(name, value, "a list such as [0, 1] (or its text '[0, 1]')", "is not a list")
        return parsed
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def as_dict(value, name: str = "parameter") -> dict:
    """A notebook dict parameter: a dict, None, or its JSON/YAML text."""
    if value is None:
        return {}
    if isinstance(value, str):
        value = parse_text(value, name) if value.strip() else {}
        value = {} if value is None else value
    if not isinstance(value, dict):
        raise rejected(name, value, "a mapping such as {rating_threshold: 5} (or its text)", "is not a mapping")
    return dict(value)


# ---------------------------------------------------------------------------------- scalars
_INT_TEXT = re.compile(r"^[+-]?\d+$")


def as_int(value, name: str, minimum: int | None = None) -> int:
    """A whole number: an int, an integral float (``3.0``) or its text (``"3"``); ``1.5``,
    ``True`` and ``"abc"`` are errors."""
    accepted = "a whole number" + (f" >= {minimum}" if minimum is not None else "")
    if isinstance(value, bool):
        raise rejected(name, value, accepted, "is a truth value, not a number")
    if isinstance(value, numbers.Integral):
        out = int(value)
    elif isinstance(value, numbers.Real):
        if not math.isfinite(value) or value != int(value):
            raise rejected(name, value, accepted, "is not a whole number")
        out = int(value)
    elif isinstance(value, str) and _INT_TEXT.match(value.strip()):
        out = int(value.strip())
    elif isinstance(value, str):
        try:
            return as_int(float(value), name, minimum)
        except (ValueError, ParameterError):
            raise rejected(name, value, accepted, "is not a whole number") from None
    else:
        raise rejected(name, value, accepted, f"is a {type(value).__name__}, not a number")
    if minimum is not None and out < minimum:
        raise rejected(name, value, accepted, "is too small")
    return out


def as_float(value, name: str, low: float | None = None, high: float | None = None, *,
             open_low: bool = False, open_high: bool = False) -> float:
    """A finite number (or its text) in ``[low, high]`` (``open_low``/``open_high``: excluded)."""
    lo = "" if low is None else f"{'>' if open_low else '>='} {low:g}"
    hi = "" if high is None else f"{'<' if open_high else '<='} {high:g}"
    accepted = "a finite number" + (f" {lo}" if lo else "") + (" and" if lo and hi else "") + (f" {hi}" if hi else "")
    if isinstance(value, bool):
        raise rejected(name, value, accepted, "is a truth value, not a number")
    if isinstance(value, numbers.Real):
        out = float(value)
    elif isinstance(value, str):
        try:
            out = float(value.strip())
        except ValueError:
            raise rejected(name, value, accepted, "is not a number") from None
    else:
        raise rejected(name, value, accepted, f"is a {type(value).__name__}, not a number")
    if not math.isfinite(out):
        raise rejected(name, value, accepted, "is not finite")
    if low is not None and (out < low or open_low and out == low):
        raise rejected(name, value, accepted, "is out of range")
    if high is not None and (out > high or open_high and out == high):
        raise rejected(name, value, accepted, "is out of range")
    return out


_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


def as_bool(value, name: str) -> bool:
    """True/False, 0/1, or the text true/false/yes/no/on/off/1/0."""
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Integral) and int(value) in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise rejected(name, value, "true or false")


def as_text(value, name: str, *, none: bool = False, accepted: str = "text") -> str | None:
    """Text (None too when ``none``); numbers, lists and the like are errors."""
    if value is None and none:
        return None
    if isinstance(value, str):
        return value
    why = "is null (no value)" if value is None else f"is a {type(value).__name__}, not text"
    raise rejected(name, value, accepted + (" or null" if none else ""), why)


def as_choice(value, name: str, choices) -> str:
    """One of ``choices`` (text), with "did you mean" for a near miss."""
    choices = list(choices)
    if isinstance(value, str) and value in choices:
        return value
    raise ParameterError(f"{name}: {value!r} is not one of {choices}{did_you_mean(value, choices)}")


def as_path(value, name: str, *, none: bool = True):
    """A file or folder name (text or a path object); None when ``none``."""
    if value is None and none:
        return None
    if isinstance(value, (str, os.PathLike)) and str(value).strip():
        return value
    raise rejected(name, value, "a file or folder path" + (" or null" if none else ""))


# ------------------------------------------------------------------------------- notebook
def as_seeds(value, name: str = "seeds") -> list[int]:
    """Seeds: a list of whole numbers >= 0 (or its text), or a count n >= 1 meaning 0 .. n-1.
    Repeated seeds are an error (a mean over seeds would count one run twice)."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):  # a count; 1.5 is an error
        seeds = list(range(as_int(value, f"{name} (a count)", minimum=1)))
    else:
        seeds = [as_int(s, f"{name}[{j}]", minimum=0) for j, s in enumerate(as_list(value, name))]
    if not seeds:
        raise ParameterError(f"{name} is empty: give at least one seed, e.g. -p {name} 3 or -y '{name}: [0, 1, 2]'")
    if len(set(seeds)) < len(seeds):
        dup = next(s for s in seeds if seeds.count(s) > 1)
        raise rejected(name, value, "distinct seeds", f"repeats seed {dup}")
    return seeds


def as_epochs(value, name: str = "epochs") -> int | None:
    """None (the profile's) or a whole number >= 1."""
    return None if value is None else as_int(value, name, minimum=1)


def as_workers(value, name: str = "workers") -> int | str:
    """"auto" (one process per core) or a whole number >= 1."""
    if isinstance(value, str) and value.strip() == "auto":
        return "auto"
    try:
        return as_int(value, name, minimum=1)
    except ParameterError:
        raise rejected(name, value, "'auto' or a whole number >= 1") from None


DEVICES = ("auto", "cpu", "cuda", "cuda:0", "mps")


def as_device(value, name: str = "device") -> str:
    """"auto", "cpu", "cuda", "cuda:N" or "mps", checked against this PyTorch build and the
    devices it sees (``"cuda"`` on a CPU-only build is an error, not a failure at the first run)."""
    text = as_text(value, name, accepted="'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'").strip()
    if text == "auto":
        return text
    import torch

    try:
        dev = torch.device(text)
    except (RuntimeError, ValueError):
        raise ParameterError(f"{name}: {value!r} is not a device{did_you_mean(text, DEVICES)}; "
                             f"accepted: {', '.join(map(repr, DEVICES))} (or 'cuda:N')") from None
    if dev.type == "cpu":
        return text
    if dev.type == "cuda":
        if not torch.backends.cuda.is_built():
            raise ParameterError(f"{name}: {value!r}: this PyTorch build ({torch.__version__}) has no CUDA; use "
                                 "'cpu' or 'auto', or install a CUDA build of torch")
        n = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if n == 0:
            raise ParameterError(f"{name}: {value!r}: PyTorch sees no CUDA device here; use 'cpu' or 'auto'")
        if dev.index is not None and dev.index >= n:
            raise ParameterError(f"{name}: {value!r}: PyTorch sees {n} CUDA device(s), 'cuda:0' .. 'cuda:{n - 1}'")
        return text
    if dev.type == "mps":
        if not torch.backends.mps.is_available():
            raise ParameterError(f"{name}: {value!r}: MPS (Apple GPU) is not available here; use 'cpu' or 'auto'")
        return text
    raise ParameterError(f"{name}: {value!r}: tacr trains on {', '.join(map(repr, DEVICES))} only")


def as_ints(value, name: str, minimum: int | None = None) -> list[int]:
    """A list of whole numbers (or its text), e.g. ``candidate_sizes``."""
    return [as_int(v, f"{name}[{j}]", minimum) for j, v in enumerate(as_list(value, name))]


def as_floats(value, name: str, low: float | None = None) -> list[float]:
    """A list of finite numbers (or its text), e.g. ``temperatures``."""
    return [as_float(v, f"{name}[{j}]", low) for j, v in enumerate(as_list(value, name))]


def as_names(value, name: str, choices=None) -> list[str]:
    """A list of names (or its text), each one of ``choices`` when given, e.g. ``models``."""
    out = []
    for j, v in enumerate(as_list(value, name)):
        out.append(as_choice(v, f"{name}[{j}]", choices) if choices is not None else as_text(v, f"{name}[{j}]"))
    return out


def as_profile(value, profiles, name: str = "profile") -> str | None:
    """None (the dataset's default) or one of ``profiles`` (``"<profile>-null"`` too: the
    simulator's null world)."""
    if value is None:
        return None
    names = list(profiles)
    return as_choice(value, name, names + [f"{p}-null" for p in names])
