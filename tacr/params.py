"""Notebook parameters as papermill passes them: ``-p`` gives lists and mappings as text.

Import-light (no torch), so ``run_all.sh``'s plan can use it before anything runs.
"""
from __future__ import annotations

import json


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


